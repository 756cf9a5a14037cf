//! Running steps: a session over the lake (only new bronze rows for incremental silver steps),
//! the step's SQL, the result written to its table, and every step in the run ledger.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use analisa_lake::{Lake, LakeSession, Layer, TableId};
use analisa_ml::ModelName;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::Date32Type;
use chrono::NaiveDate;
use secrecy::SecretString;
use tracing::{Instrument, info, info_span, warn};

use crate::error::{JobsError, Result};
use crate::formulas::{Formulas, sql_string};
use crate::functions;
use crate::ledger::{Finished, Ledger};
use crate::models::Models;
use crate::publish::{self, CacheBus};
use crate::steps::{Selection, Step, Write, render, views_read_by};

/// The pipeline over one lake.
#[derive(Clone)]
pub struct Pipeline {
    lake: Lake,
    formulas: Formulas,
    pseudonym_key: SecretString,
    cache: Option<CacheBus>,
    models: Models,
}

/// The score formula whose result serving.influencers shows in its `score` column (every
/// formula's result is in its `scores` JSON).
const DEFAULT_SCORE: &str = "social_score/v1";
const PUBLISH: &str = "publish";

/// What `analisa jobs run` asks for.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub run_id: String,
    pub steps: Vec<&'static Step>,
    /// Copy gold to the serving tables after the steps.
    pub publish: bool,
    /// Read all of bronze and recompute gold even when nothing changed.
    pub full: bool,
    /// The day gold describes; by default the newest day in silver.account_daily.
    pub as_of: Option<NaiveDate>,
    /// Attempts per step before the run is given up (with exponential backoff between them).
    pub attempts: u32,
    pub backoff: Duration,
    /// How long to wait for a step another process is running before leaving it to them.
    pub lock_wait: Duration,
}

impl RunOptions {
    pub fn new(selection: Selection) -> Self {
        Self {
            run_id: format!("jobs-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")),
            steps: selection.steps,
            publish: selection.publish,
            full: false,
            as_of: None,
            attempts: 3,
            backoff: Duration::from_secs(2),
            lock_wait: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepStatus {
    Succeeded,
    /// Its inputs had not changed since its last successful run: nothing to do.
    Unchanged,
    /// Another scheduler holds the step's lock.
    Locked,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: &'static str,
    pub status: StepStatus,
    pub attempts: u32,
    pub rows_in: u64,
    pub rows_out: u64,
    pub output_version: Option<u64>,
    pub elapsed: Duration,
}

impl Pipeline {
    /// A pipeline with the built-in models (see [`Pipeline::with_models`]).
    pub fn new(lake: Lake, formulas: Formulas, pseudonym_key: SecretString) -> Result<Self> {
        Ok(Self { lake, formulas, pseudonym_key, cache: None, models: Models::builtin()? })
    }

    /// Scores and forecasts with these models instead of the built-in ones.
    pub fn with_models(mut self, models: Models) -> Self {
        self.models = models;
        self
    }

    /// Where publications are announced to the API's cache.
    pub fn with_cache(mut self, cache: CacheBus) -> Self {
        self.cache = Some(cache);
        self
    }

    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// Runs the chosen steps in order, each under its lock and in the ledger. A step that
    /// still fails after its attempts stops the run (later steps would read stale inputs).
    pub async fn run(&self, ledger: &Ledger, options: &RunOptions, progress: impl Fn(&StepReport)) -> Result<Vec<StepReport>> {
        self.lake.init().await?;
        let mut reports = Vec::new();
        let work: Vec<Option<&'static Step>> = options.steps.iter().copied().map(Some).chain(options.publish.then_some(None)).collect();
        for step in work {
            let name = step.map_or(PUBLISH, |s| s.name);
            let started = Instant::now();
            let span = info_span!("step", run_id = %options.run_id, step = name);
            let report = async {
                let Some(lock) = ledger.lock(name, options.lock_wait).await? else {
                    info!(waited = ?options.lock_wait, "another process kept running this step; leaving it to them");
                    return Ok::<_, JobsError>(StepReport { step: name, status: StepStatus::Locked, attempts: 0, rows_in: 0, rows_out: 0, output_version: None, elapsed: started.elapsed() });
                };
                let result = self.run_locked(ledger, step, options).await;
                lock.release().await?;
                let (status, attempts, finished) = result?;
                Ok(StepReport { step: name, status, attempts, rows_in: finished.rows_in, rows_out: finished.rows_out, output_version: finished.output_version, elapsed: started.elapsed() })
            }
            .instrument(span)
            .await?;
            let failed = matches!(report.status, StepStatus::Failed(_));
            progress(&report);
            reports.push(report);
            if failed {
                break;
            }
        }
        Ok(reports)
    }

    /// One step (or the publication, `None`) under its lock, with retries and the ledger.
    async fn run_locked(&self, ledger: &Ledger, step: Option<&'static Step>, options: &RunOptions) -> Result<(StepStatus, u32, Finished)> {
        let name = step.map_or(PUBLISH, |s| s.name);
        let as_of = match step.map(|s| s.layer()) {
            Some(Layer::Silver) => None,
            _ => Some(self.as_of(options.as_of).await?),
        };
        let previous = if options.full { None } else { ledger.last_success(name).await? };
        let mut attempt = 0;
        loop {
            attempt += 1;
            ledger.start(&options.run_id, name, options.full, as_of).await?;
            let watermark = previous.as_ref().map(|p| (p.input_versions.clone(), p.as_of_date));
            let outcome = match step {
                Some(step) => self.execute(step, watermark, as_of, &options.run_id).await,
                None => self.publish(ledger, watermark, as_of.expect("publishing has a day"), &options.run_id).await,
            };
            match outcome {
                Ok(finished) => {
                    ledger.succeed(&options.run_id, name, &finished).await?;
                    let status = if finished.unchanged { StepStatus::Unchanged } else { StepStatus::Succeeded };
                    return Ok((status, attempt, finished));
                }
                Err(error) => {
                    let message = error.to_string();
                    ledger.fail(&options.run_id, name, &message).await?;
                    if attempt >= options.attempts.max(1) {
                        warn!(attempt, error = %message, "step failed; giving up");
                        return Ok((StepStatus::Failed(message), attempt, Finished::default()));
                    }
                    let pause = options.backoff * 2u32.pow(attempt - 1);
                    warn!(attempt, error = %message, pause = ?pause, "step failed; trying again");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// The day gold describes: the one asked for, or the newest day silver has snapshots of.
    pub async fn as_of(&self, asked: Option<NaiveDate>) -> Result<NaiveDate> {
        if let Some(day) = asked {
            return Ok(day);
        }
        let session = self.lake.session().await?;
        let batches = session.sql("SELECT max(snapshot_date) FROM silver.account_daily").await?;
        let newest = batches
            .first()
            .map(|b| b.column(0).as_primitive::<Date32Type>())
            .filter(|a| a.is_valid(0))
            .and_then(|a| a.value_as_date(0));
        newest.ok_or_else(|| JobsError::Config("silver.account_daily is empty: run the silver steps (or pass --as-of)".into()))
    }

    /// Computes one step and writes its result, without the ledger. `watermark` is what the
    /// last successful run read (and for which day): silver steps then read only newer bronze
    /// rows, and any step whose inputs are unchanged does nothing.
    pub async fn execute(&self, step: &'static Step, watermark: Option<(BTreeMap<String, u64>, Option<NaiveDate>)>, as_of: Option<NaiveDate>, run_id: &str) -> Result<Finished> {
        let session = self.session(step, watermark.as_ref().map(|(v, _)| v)).await?;
        let input_versions = self.input_versions(step, &session);
        if unchanged(&watermark, &input_versions, as_of) {
            return Ok(Finished { input_versions, unchanged: true, ..Finished::default() });
        }
        let rows_in = self.count_inputs(step, &session).await?;
        let batches = self.compute_in(step, &session, as_of, run_id, &input_versions).await?;
        let rows_out: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
        let outcome = match step.write {
            Write::Upsert => self.lake.upsert(step.target, batches).await?,
            Write::ReplaceDay(column) => {
                let day = as_of.ok_or_else(|| JobsError::Config(format!("{} needs the day it describes", step.name)))?;
                self.lake.replace(step.target, Some(&format!("{column} = '{day}'")), batches).await?
            }
            Write::ReplaceAll => self.lake.replace(step.target, None, batches).await?,
        };
        info!(rows_in, rows_out, version = outcome.version, "step written");
        Ok(Finished { rows_in, rows_out, input_versions, output_version: Some(outcome.version), unchanged: false })
    }

    /// Copies gold as of `as_of` to the serving tables in one transaction, records the lake
    /// versions with it, then tells the API's cache. History rows are copied only where gold
    /// changed them since the last publication.
    pub async fn publish(&self, ledger: &Ledger, watermark: Option<(BTreeMap<String, u64>, Option<NaiveDate>)>, as_of: NaiveDate, run_id: &str) -> Result<Finished> {
        let session = self.lake.session().await?;
        let input_versions = versions_of(&session, &publish::SOURCES);
        if unchanged(&watermark, &input_versions, Some(as_of)) {
            return Ok(Finished { input_versions, unchanged: true, ..Finished::default() });
        }
        let daily_since: BTreeMap<TableId, u64> = watermark
            .as_ref()
            .and_then(|(versions, _)| versions.get(&TableId::INFLUENCER_DAILY.to_string()))
            .map(|v| BTreeMap::from([(TableId::INFLUENCER_DAILY, *v)]))
            .unwrap_or_default();
        let daily_changes = self.lake.session_with_changes(&daily_since).await?;
        self.formulas.register(session.context(), analisa_lake::CATALOG)?;
        let mut parameters = self.formulas.parameters();
        parameters.insert("as_of_date".into(), format!("DATE '{as_of}'"));
        parameters.insert("default_score".into(), sql_string(DEFAULT_SCORE));
        parameters.insert("sentiment_model".into(), sql_string(&self.models.sentiment_id()));
        const INFLUENCERS: &str = include_str!("../../sql/publish/influencers.sql");
        const POSTS: &str = include_str!("../../sql/publish/posts.sql");
        const SENTIMENT_TREND: &str = include_str!("../../sql/publish/sentiment_trend.sql");
        create_views(&session, Layer::Gold, PUBLISH, &[INFLUENCERS, POSTS, SENTIMENT_TREND], &parameters).await?;
        let sql = publish::PublishSql {
            influencers: render(PUBLISH, INFLUENCERS, &parameters)?,
            posts: render(PUBLISH, POSTS, &parameters)?,
            sentiment_trend: render(PUBLISH, SENTIMENT_TREND, &parameters)?,
            sentiment_model: sql_string(&self.models.sentiment_id()),
        };
        let snapshot = publish::snapshot(&session, &daily_changes, &sql, as_of).await?;
        let mut published = publish::write(ledger.pool(), &snapshot, run_id, as_of, &input_versions).await?;
        if let Some(bus) = &self.cache {
            published.cache_invalidated = publish::invalidate(bus, published.publication_id).await;
        }
        Ok(Finished { rows_in: 0, rows_out: published.rows.values().sum(), input_versions, output_version: Some(published.publication_id as u64), unchanged: false })
    }

    /// Computes one step on the lake as it is now, without writing: the golden tests' entry.
    pub async fn compute(&self, step: &'static Step, as_of: Option<NaiveDate>, run_id: &str) -> Result<Vec<RecordBatch>> {
        let session = self.session(step, None).await?;
        let versions = self.input_versions(step, &session);
        self.compute_in(step, &session, as_of, run_id, &versions).await
    }

    /// The Delta version of every input read, for gold the registry's fingerprint, and the
    /// version of every model used: a changed formula or model makes gold stale just as new
    /// data does.
    fn input_versions(&self, step: &Step, session: &LakeSession) -> BTreeMap<String, u64> {
        let mut versions = versions_of(session, step.inputs);
        if step.layer() == Layer::Gold {
            versions.insert("registry".into(), self.formulas.fingerprint());
        }
        versions.extend(self.model_versions(step));
        versions
    }

    fn model_versions(&self, step: &Step) -> BTreeMap<String, u64> {
        step.models
            .iter()
            .map(|name| {
                let id = match name {
                    ModelName::Sentiment => self.models.sentiment_id(),
                    ModelName::Forecast => self.models.forecast_id(),
                };
                (format!("model:{name}"), analisa_ml::text::stable_hash(&id))
            })
            .collect()
    }

    async fn session(&self, step: &Step, watermark: Option<&BTreeMap<String, u64>>) -> Result<LakeSession> {
        // Incremental steps read only what their inputs gained (unless a model they use
        // changed: then everything is scored again); the others read all of their inputs,
        // because windows, cohorts and percentiles need every influencer and every day.
        let same_models = |versions: &BTreeMap<String, u64>| self.model_versions(step).iter().all(|(k, v)| versions.get(k) == Some(v));
        let since: BTreeMap<TableId, u64> = match (step.incremental, watermark) {
            (true, Some(versions)) if same_models(versions) => step
                .inputs
                .iter()
                .filter_map(|id| versions.get(&id.to_string()).map(|v| (*id, *v)))
                .collect(),
            _ => BTreeMap::new(),
        };
        let session = self.lake.session_with_changes(&since).await?;
        functions::register(session.context(), &self.pseudonym_key).map_err(|source| JobsError::Query { step: step.name, source })?;
        self.models.register(session.context());
        self.formulas.register(session.context(), analisa_lake::CATALOG)?;
        Ok(session)
    }

    async fn count_inputs(&self, step: &'static Step, session: &LakeSession) -> Result<u64> {
        let mut total = 0;
        for id in step.inputs.iter().filter(|id| session.versions().contains_key(id)) {
            let batches = session.sql(&format!("SELECT count(*) FROM {id}")).await?;
            total += batches.first().map_or(0, |b| b.column(0).as_primitive::<arrow::datatypes::Int64Type>().value(0) as u64);
        }
        Ok(total)
    }

    /// The SQL a run would execute for `step` on the lake as it is now, as one script: for gold
    /// the registry tables, then the layer's shared views, then the step's query, with every
    /// parameter replaced. For reading the formulas, or running them in another engine.
    pub async fn script(&self, step: &'static Step, as_of: Option<NaiveDate>, run_id: &str) -> Result<String> {
        let (_, parameters) = self.full_run(step, as_of, run_id).await?;
        let mut script = String::new();
        if step.layer() == Layer::Gold {
            script.push_str(&self.formulas.to_sql());
        }
        for (name, sql) in views_read_by(step.layer(), &[step.sql]) {
            script.push_str(&format!("CREATE VIEW {name} AS\n{};\n\n", render(step.name, sql, &parameters)?.trim_end()));
        }
        script.push_str(step.render(&parameters)?.trim_end());
        script.push_str(";\n");
        Ok(script)
    }

    /// The plan of `step`'s query over the whole lake as it is now; with `analyze` the query also
    /// runs (nothing is written) and each operator shows its rows, time, memory and spills.
    pub async fn explain(&self, step: &'static Step, as_of: Option<NaiveDate>, analyze: bool) -> Result<String> {
        let (session, parameters) = self.full_run(step, as_of, "jobs-explain").await?;
        create_views(&session, step.layer(), step.name, &[step.sql], &parameters).await?;
        let verb = if analyze { "EXPLAIN ANALYZE" } else { "EXPLAIN" };
        let query = |source| JobsError::Query { step: step.name, source };
        let frame = session.context().sql(&format!("{verb} {}", step.render(&parameters)?)).await.map_err(query)?;
        let mut text = String::new();
        for batch in frame.collect().await.map_err(query)? {
            let (kinds, plans) = (batch.column(0), batch.column(1));
            for row in 0..batch.num_rows() {
                let cell = |column: &dyn Array| arrow::util::display::array_value_to_string(column, row).unwrap_or_default();
                text.push_str(&format!("{}:\n{}\n\n", cell(kinds), cell(plans)));
            }
        }
        Ok(text)
    }

    /// A session over every input of `step` and the parameters a full run gives its SQL.
    async fn full_run(&self, step: &'static Step, as_of: Option<NaiveDate>, run_id: &str) -> Result<(LakeSession, BTreeMap<String, String>)> {
        let session = self.session(step, None).await?;
        let as_of = if step.layer() == Layer::Gold { Some(self.as_of(as_of).await?) } else { as_of };
        let parameters = self.parameters(as_of, run_id, &self.input_versions(step, &session));
        Ok((session, parameters))
    }

    fn parameters(&self, as_of: Option<NaiveDate>, run_id: &str, input_versions: &BTreeMap<String, u64>) -> BTreeMap<String, String> {
        let mut parameters = self.formulas.parameters();
        parameters.insert("run_id".into(), sql_string(run_id));
        parameters.insert("sentiment_model".into(), sql_string(&self.models.sentiment_id()));
        parameters.insert("forecast_model".into(), sql_string(&self.models.forecast_id()));
        parameters.insert("input_versions".into(), sql_string(&serde_json::to_string(input_versions).expect("versions serialise")));
        if let Some(day) = as_of {
            parameters.insert("as_of_date".into(), format!("DATE '{day}'"));
        }
        parameters
    }

    async fn compute_in(&self, step: &'static Step, session: &LakeSession, as_of: Option<NaiveDate>, run_id: &str, input_versions: &BTreeMap<String, u64>) -> Result<Vec<RecordBatch>> {
        let parameters = self.parameters(as_of, run_id, input_versions);
        create_views(session, step.layer(), step.name, &[step.sql], &parameters).await?;
        let sql = step.render(&parameters)?;
        let frame = session.context().sql(&sql).await.map_err(|source| JobsError::Query { step: step.name, source })?;
        let batches = frame.collect().await.map_err(|source| JobsError::Query { step: step.name, source })?;
        align(step, batches)
    }
}

/// The Delta version at which the session reads each of `tables`, keyed by name.
fn versions_of(session: &LakeSession, tables: &[TableId]) -> BTreeMap<String, u64> {
    tables.iter().filter_map(|id| session.versions().get(id).map(|v| (id.to_string(), *v))).collect()
}

/// Whether the last successful run read these very versions for this very day.
fn unchanged(watermark: &Option<(BTreeMap<String, u64>, Option<NaiveDate>)>, versions: &BTreeMap<String, u64>, day: Option<NaiveDate>) -> bool {
    watermark.as_ref().is_some_and(|(previous, previous_day)| previous == versions && *previous_day == day)
}

/// Registers the shared views of a layer (sql/views) in the session, with the step's parameters.
/// Makes the shared views of `layer` that `queries` read.
async fn create_views(session: &LakeSession, layer: Layer, step: &'static str, queries: &[&str], parameters: &BTreeMap<String, String>) -> Result<()> {
    for (name, sql) in views_read_by(layer, queries) {
        let view = format!("CREATE VIEW {name} AS {}", render(step, sql, parameters)?);
        session.context().sql(&view).await.map_err(|source| JobsError::Query { step, source })?;
    }
    Ok(())
}

/// Casts the SQL result to the catalogued column types (DataFusion reads strings as Utf8View,
/// counts come out as Int64, …); names and order must already match.
fn align(step: &'static Step, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    let schema = step.target.def().schema.clone();
    batches
        .into_iter()
        .map(|batch| {
            let got: Vec<&str> = batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
            let want: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            if got != want {
                return Err(JobsError::Shape { step: step.name, table: step.target, details: format!("columns are [{}], the table has [{}]", got.join(", "), want.join(", ")) });
            }
            let columns = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, column)| {
                    cast(column, field.data_type()).map_err(|e| JobsError::Shape { step: step.name, table: step.target, details: format!("column {}: {e}", field.name()) })
                })
                .collect::<Result<Vec<_>>>()?;
            RecordBatch::try_new_with_options(schema.clone(), columns, &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())))
                .map_err(|e| JobsError::Shape { step: step.name, table: step.target, details: e.to_string() })
        })
        .collect()
}
