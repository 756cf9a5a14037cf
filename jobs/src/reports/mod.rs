//! Report exports: a definition's sections computed from pinned lake versions, written as
//! CSV, Parquet or XLSX under `exports/<org>/<report>/<run>/` on the lake's object store with
//! a manifest that makes the run reproducible, and the runs kept in PostgreSQL.

mod deliver;
mod formats;
mod ledger;
mod pdf;
mod spec;

use std::collections::BTreeMap;
use std::sync::Arc;

use analisa_lake::{AsOf, Lake, TableId};
use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::MemTable;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

pub use deliver::{Delivered, Delivery, Email, SmtpConfig, SmtpSecurity, Webhook, signature as webhook_signature};
pub use ledger::{ReportDefinition, RunTrigger, definition};
use ledger::{record_failure, record_start, record_success};
pub use spec::{CohortFilter, Format, Language, Period, ReportSpec, SUMMARY_METRICS, Scope, Section, split_id};

use crate::error::{JobsError, Result};
use crate::steps::render;
use formats::Table;

/// The tables a report reads; their versions are pinned per run and written to the manifest.
const INPUTS: [TableId; 5] = [TableId::INFLUENCER_METRICS, TableId::SOCIAL_SCORE, TableId::INFLUENCER_DAILY, TableId::ANOMALY_FLAGS, TableId::ACCOUNTS];

/// Who and what a run is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub org_id: Uuid,
    pub report_id: Uuid,
    pub run_id: Uuid,
    pub report_name: String,
    pub definition_version: i32,
}

/// Everything a run read and wrote; with it, the run can be made again byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(flatten)]
    pub run: RunIdentity,
    /// The run this one re-made, when it is a re-run.
    pub rerun_of: Option<Uuid>,
    pub spec: ReportSpec,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `layer.table` → Delta version read.
    pub lake_versions: BTreeMap<String, u64>,
    /// The Social Score formula shown and the metric formula versions of the rows.
    pub formula_versions: Vec<String>,
    /// Models whose outputs the report shows (none yet: sentiment and forecasts come later).
    pub model_versions: BTreeMap<String, String>,
    /// The creators in scope when the run was made.
    pub influencers: Vec<String>,
    pub files: Vec<ManifestFile>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path on the lake's object store, relative to the lake root.
    pub path: String,
    /// The sections in the file and their row counts.
    pub sections: BTreeMap<String, usize>,
    pub bytes: usize,
    pub sha256: String,
}

/// What a run reads: fixed at the start of a new run, taken from the manifest on a re-run.
struct Inputs {
    pins: BTreeMap<TableId, AsOf>,
    influencers: Option<Vec<String>>,
    days: Option<(NaiveDate, NaiveDate)>,
}

/// How often and how patiently a failing run is tried again.
#[derive(Debug, Clone)]
pub struct Retry {
    pub attempts: i32,
    pub first_delay: std::time::Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self { attempts: 3, first_delay: std::time::Duration::from_secs(2) }
    }
}

/// Makes report runs on a lake.
#[derive(Clone)]
pub struct Exporter {
    lake: Lake,
    retry: Retry,
    http: reqwest::Client,
    smtp: Option<SmtpConfig>,
}

impl Exporter {
    pub fn new(lake: Lake) -> Self {
        Self { lake, retry: Retry::default(), http: deliver::client(), smtp: None }
    }

    /// The SMTP server for definitions that deliver by e-mail.
    pub fn with_smtp(mut self, smtp: Option<SmtpConfig>) -> Self {
        self.smtp = smtp;
        self
    }

    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Where a run's files go, relative to the lake root.
    pub fn run_prefix(run: &RunIdentity) -> String {
        format!("exports/{}/{}/{}", run.org_id, run.report_id, run.run_id)
    }

    /// Runs a definition on the newest data: scope resolved now (lists and campaigns from
    /// PostgreSQL, inside the organisation), lake versions pinned at the start.
    #[tracing::instrument(skip_all, fields(report = %run.report_id, run = %run.run_id))]
    pub async fn run(&self, db: &PgPool, run: RunIdentity, spec: &ReportSpec) -> Result<Manifest> {
        let influencers = match &spec.scope {
            Scope::Influencers(ids) => Some(ids.clone()),
            Scope::List(list) => Some(members(db, run.org_id, Holder::List, *list).await?),
            Scope::Campaign(campaign) => Some(members(db, run.org_id, Holder::Campaign, *campaign).await?),
            // Resolved against the pinned metrics below.
            Scope::Cohort(_) => None,
        };
        self.produce(run, None, spec, Inputs { pins: BTreeMap::new(), influencers, days: None }).await
    }

    /// Makes a past run again from its manifest: the same lake versions, creators and days,
    /// so the same CSV and Parquet bytes, whatever landed since.
    #[tracing::instrument(skip_all, fields(rerun_of = %original.run.run_id, run = %run_id))]
    pub async fn rerun(&self, original: &Manifest, run_id: Uuid) -> Result<Manifest> {
        let mut pins = BTreeMap::new();
        for (name, version) in &original.lake_versions {
            let id = INPUTS.iter().copied().find(|id| &id.to_string() == name).ok_or_else(|| JobsError::InvalidReport(format!("the manifest names an unknown table {name}")))?;
            pins.insert(id, AsOf::Version(*version));
        }
        let run = RunIdentity { run_id, ..original.run.clone() };
        let inputs = Inputs { pins, influencers: Some(original.influencers.clone()), days: Some((original.from, original.to)) };
        self.produce(run, Some(original.run.run_id), &original.spec, inputs).await
    }

    /// Runs a definition and records the run: started (once per scheduled occurrence: `None`
    /// when another scheduler already has it), retried with backoff while the failure may pass
    /// (the object store, the lake), then succeeded with its manifest or failed with the reason.
    pub async fn run_recorded(&self, db: &PgPool, definition: &ReportDefinition, trigger: RunTrigger, due_at: Option<DateTime<Utc>>, requested_by: Option<Uuid>) -> Result<Option<Manifest>> {
        let run = definition.identity(Uuid::now_v7());
        if !record_start(db, &run, trigger, due_at, None, requested_by).await? {
            return Ok(None);
        }
        let outcome = retrying(&self.retry, || self.run(db, run.clone(), &definition.spec)).await;
        let manifest = finish(db, run.run_id, outcome).await?;
        let mut deliveries = serde_json::Map::new();
        if let Some(hook) = &definition.delivery.webhook {
            deliveries.insert("webhook".into(), serde_json::to_value(deliver::webhook(&self.http, hook, &manifest, &self.retry).await).map_err(|e| JobsError::Export(e.to_string()))?);
        }
        if let Some(email) = &definition.delivery.email {
            let delivered = match &self.smtp {
                None => Delivered { delivered: false, attempts: 0, http_status: None, error: Some("no SMTP server is configured ([reports.smtp])".into()) },
                Some(smtp) => deliver::email(smtp, email, &manifest, self.files(&manifest).await?).await,
            };
            deliveries.insert("email".into(), serde_json::to_value(delivered).map_err(|e| JobsError::Export(e.to_string()))?);
        }
        if !deliveries.is_empty() {
            for (channel, outcome) in &deliveries {
                if outcome["delivered"] != serde_json::Value::Bool(true) {
                    tracing::warn!(report = %definition.report_id, run = %run.run_id, channel, error = %outcome["error"], "report delivery failed");
                }
            }
            sqlx::query("UPDATE report_runs SET delivery = $2 WHERE run_id = $1").bind(run.run_id).bind(serde_json::Value::Object(deliveries)).execute(db).await?;
        }
        Ok(Some(manifest))
    }

    /// Makes a recorded, succeeded run again from its manifest and records the new run.
    pub async fn rerun_recorded(&self, db: &PgPool, original_run: Uuid, requested_by: Option<Uuid>) -> Result<Manifest> {
        let manifest: Option<serde_json::Value> = sqlx::query_scalar("SELECT manifest FROM report_runs WHERE run_id = $1 AND status = 'succeeded'")
            .bind(original_run)
            .fetch_optional(db)
            .await?
            .flatten();
        let original: Manifest = serde_json::from_value(manifest.ok_or_else(|| JobsError::InvalidReport(format!("no succeeded run {original_run}")))?)
            .map_err(|e| JobsError::Export(format!("the manifest of {original_run}: {e}")))?;
        let run = RunIdentity { run_id: Uuid::now_v7(), ..original.run.clone() };
        record_start(db, &run, RunTrigger::Rerun, None, Some(original_run), requested_by).await?;
        let outcome = retrying(&self.retry, || self.rerun(&original, run.run_id)).await;
        finish(db, run.run_id, outcome).await
    }

    /// A run's files (name and bytes), read back from the object store.
    async fn files(&self, manifest: &Manifest) -> Result<Vec<(String, Vec<u8>)>> {
        let mut files = Vec::with_capacity(manifest.files.len());
        for file in &manifest.files {
            let path = self.lake.object_path(&file.path);
            let bytes = self.lake.object_store().get(&path).await.map_err(|e| JobsError::Export(format!("reading {path}: {e}")))?.bytes().await.map_err(|e| JobsError::Export(format!("reading {path}: {e}")))?;
            files.push((file.path.rsplit('/').next().unwrap_or(&file.path).to_owned(), bytes.to_vec()));
        }
        Ok(files)
    }

    /// Reads a manifest back from the object store.
    pub async fn manifest(&self, run: &RunIdentity) -> Result<Manifest> {
        let path = self.lake.object_path(&format!("{}/manifest.json", Self::run_prefix(run)));
        let bytes = self.lake.object_store().get(&path).await.map_err(|e| JobsError::Export(format!("reading {path}: {e}")))?.bytes().await.map_err(|e| JobsError::Export(format!("reading {path}: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| JobsError::Export(format!("{path} is not a manifest: {e}")))
    }

    async fn produce(&self, run: RunIdentity, rerun_of: Option<Uuid>, spec: &ReportSpec, inputs: Inputs) -> Result<Manifest> {
        let session = self.lake.session_as_of(&inputs.pins).await?;
        let ctx = session.context();
        let lake_versions: BTreeMap<String, u64> = INPUTS
            .iter()
            .map(|id| session.versions().get(id).map(|v| (id.to_string(), *v)).ok_or_else(|| JobsError::InvalidReport(format!("{id} does not exist yet: run the pipeline first"))))
            .collect::<Result<_>>()?;

        let (from, to) = match inputs.days {
            Some(days) => days,
            None => {
                let newest = strings(ctx, "SELECT max(as_of_date) FROM gold.influencer_metrics").await?.first().and_then(|d| d.parse().ok());
                let newest = newest.ok_or_else(|| JobsError::InvalidReport("no metrics are published yet".into()))?;
                spec.period.resolve(newest)
            }
        };
        let influencers = match inputs.influencers {
            Some(ids) => ids,
            None => cohort(ctx, spec, to).await?,
        };
        register_scope(ctx, &influencers)?;

        let date = |d: NaiveDate| format!("DATE '{d}'");
        let metrics: String = spec.metrics.iter().map(|m| format!(", m.{m}")).collect();
        let parameters = BTreeMap::from([
            ("from".to_owned(), date(from)),
            ("to".to_owned(), date(to)),
            ("formula".to_owned(), format!("'{}'", spec.score_formula.replace('\'', "''"))),
            ("metrics".to_owned(), metrics),
        ]);
        // A PDF draws every creator's history and score, whatever tables it shows.
        let mut computed = spec.sections.clone();
        if spec.format == Format::Pdf {
            for needed in [Section::Summary, Section::History, Section::Score] {
                if !computed.contains(&needed) {
                    computed.push(needed);
                }
            }
        }
        let mut tables = Vec::with_capacity(computed.len());
        for section in &computed {
            let sql = render("report", section.sql(), &parameters)?;
            let frame = ctx.sql(&sql).await.map_err(|source| JobsError::Query { step: "report", source })?;
            let schema = Arc::new(frame.schema().as_arrow().clone());
            let batches = frame.collect().await.map_err(|source| JobsError::Query { step: "report", source })?;
            tables.push(Table::new(section.name(), schema, &batches)?);
        }
        let mut formula_versions = vec![spec.score_formula.clone()];
        formula_versions.extend(metric_formulas(ctx, to).await?);

        let prefix = Self::run_prefix(&run);
        let files: Vec<(String, Vec<u8>, BTreeMap<String, usize>)> = match spec.format {
            Format::Xlsx => vec![(format!("{prefix}/report.xlsx"), formats::xlsx(&tables, spec.language)?, tables.iter().map(|t| (t.name.to_owned(), t.rows())).collect())],
            Format::Pdf => {
                let cover = pdf::Cover {
                    name: &run.report_name,
                    from,
                    to,
                    generated: Utc::now(),
                    lake_versions: lake_versions.iter().map(|(t, v)| format!("{t}@v{v}")).collect::<Vec<_>>().join(", "),
                    formulas: formula_versions.join(", "),
                };
                let shown: Vec<&str> = spec.sections.iter().map(|s| s.name()).collect();
                vec![(format!("{prefix}/report.pdf"), pdf::render(&cover, &tables, &shown, spec.language), tables.iter().map(|t| (t.name.to_owned(), t.rows())).collect())]
            }
            Format::Csv | Format::Parquet => tables
                .iter()
                .map(|t| {
                    let bytes = if spec.format == Format::Csv { formats::csv(t)? } else { formats::parquet(t)? };
                    Ok((format!("{prefix}/{}.{}", t.name, spec.format.extension()), bytes, BTreeMap::from([(t.name.to_owned(), t.rows())])))
                })
                .collect::<Result<_>>()?,
        };

        let manifest = Manifest {
            run,
            rerun_of,
            spec: spec.clone(),
            from,
            to,
            lake_versions,
            formula_versions,
            model_versions: BTreeMap::new(),
            influencers,
            files: files.iter().map(|(path, bytes, sections)| ManifestFile { path: path.clone(), sections: sections.clone(), bytes: bytes.len(), sha256: hex::encode(Sha256::digest(bytes)) }).collect(),
            created_at: Utc::now(),
        };
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| JobsError::Export(e.to_string()))?;
        self.publish(files.into_iter().map(|(path, bytes, _)| (path, bytes)).chain([(format!("{prefix}/manifest.json"), manifest_bytes)]).collect()).await?;
        Ok(manifest)
    }

    /// Writes the files, the manifest last: a run without its manifest never happened, and a
    /// failure removes what was already written so no partial run is left behind.
    async fn publish(&self, files: Vec<(String, Vec<u8>)>) -> Result<()> {
        let store = self.lake.object_store();
        let mut written = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            let path = self.lake.object_path(&path);
            if let Err(error) = store.put(&path, PutPayload::from(bytes)).await {
                for done in &written {
                    if let Err(cleanup) = store.delete(done).await {
                        tracing::warn!(path = %done, %cleanup, "could not remove a file of a failed export");
                    }
                }
                return Err(JobsError::Export(format!("writing {path}: {error}")));
            }
            written.push(path);
        }
        Ok(())
    }
}

/// Tries `attempt` until it succeeds, fails for good (a definition that cannot run does not
/// get better), or runs out of attempts, doubling the delay each time; returns the attempts made.
async fn retrying<F, Fut>(retry: &Retry, mut attempt: F) -> (Result<Manifest>, i32)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Manifest>>,
{
    let mut delay = retry.first_delay;
    let mut made = 0;
    loop {
        made += 1;
        match attempt().await {
            Err(error) if made < retry.attempts && !matches!(error, JobsError::InvalidReport(_)) => {
                tracing::warn!(%error, attempt = made, "report run failed; trying again");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            outcome => return (outcome, made),
        }
    }
}

async fn finish(db: &PgPool, run_id: Uuid, (outcome, attempts): (Result<Manifest>, i32)) -> Result<Manifest> {
    match outcome {
        Ok(manifest) => {
            record_success(db, &manifest, attempts).await?;
            Ok(manifest)
        }
        Err(error) => {
            record_failure(db, run_id, &error.to_string(), attempts).await?;
            Err(error)
        }
    }
}

#[derive(Clone, Copy)]
enum Holder {
    List,
    Campaign,
}

/// The members of an organisation's list or campaign; one of another organisation is refused.
async fn members(db: &PgPool, org_id: Uuid, holder: Holder, id: Uuid) -> Result<Vec<String>> {
    let (what, owned, listed) = match holder {
        Holder::List => ("list", "SELECT EXISTS (SELECT 1 FROM tracked_lists WHERE org_id = $1 AND list_id = $2)", "SELECT platform || ':' || account_id FROM tracked_list_members WHERE list_id = $1 ORDER BY 1"),
        Holder::Campaign => ("campaign", "SELECT EXISTS (SELECT 1 FROM campaigns WHERE org_id = $1 AND campaign_id = $2)", "SELECT platform || ':' || account_id FROM campaign_members WHERE campaign_id = $1 ORDER BY 1"),
    };
    let is_ours: bool = sqlx::query_scalar(owned).bind(org_id).bind(id).fetch_one(db).await?;
    if !is_ours {
        return Err(JobsError::InvalidReport(format!("the {what} {id} is not one of this organisation's")));
    }
    Ok(sqlx::query_scalar(listed).bind(id).fetch_all(db).await?)
}

/// The first column of a query's rows, as text (nulls left out).
async fn strings(ctx: &datafusion::prelude::SessionContext, sql: &str) -> Result<Vec<String>> {
    let mut values = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let column = arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
        values.extend(column.as_any().downcast_ref::<StringArray>().expect("cast to Utf8").iter().flatten().map(str::to_owned));
    }
    Ok(values)
}

/// The creators of a cohort filter as of `to`. The filter's values are checked words (see
/// `ReportSpec::check`), quoted as SQL strings.
async fn cohort(ctx: &datafusion::prelude::SessionContext, spec: &ReportSpec, to: NaiveDate) -> Result<Vec<String>> {
    let Scope::Cohort(filter) = &spec.scope else { unreachable!("only a cohort scope is resolved here") };
    let mut conditions = vec![format!("as_of_date = (SELECT max(as_of_date) FROM gold.influencer_metrics WHERE as_of_date <= DATE '{to}')")];
    for (column, values) in [("platform", &filter.platform), ("niche", &filter.niche), ("tier", &filter.tier), ("country", &filter.country)] {
        if !values.is_empty() {
            let quoted: Vec<String> = values.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect();
            conditions.push(format!("{column} IN ({})", quoted.join(", ")));
        }
    }
    strings(ctx, &format!("SELECT platform || ':' || account_id AS id FROM gold.influencer_metrics WHERE {} ORDER BY id", conditions.join(" AND "))).await
}

/// The metric formula versions of the rows the report reads.
async fn metric_formulas(ctx: &datafusion::prelude::SessionContext, to: NaiveDate) -> Result<Vec<String>> {
    strings(
        ctx,
        &format!("SELECT DISTINCT m.formula_version FROM gold.influencer_metrics m JOIN report.scope s ON s.platform = m.platform AND s.account_id = m.account_id WHERE m.as_of_date <= DATE '{to}' ORDER BY 1"),
    )
    .await
}

/// `report.scope`: the creators in the run, joined by every section's SQL.
fn register_scope(ctx: &datafusion::prelude::SessionContext, influencers: &[String]) -> Result<()> {
    let (platforms, accounts): (Vec<&str>, Vec<&str>) = influencers
        .iter()
        .map(|id| split_id(id).ok_or_else(|| JobsError::InvalidReport(format!("`{id}` is not an influencer id"))))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    let schema = Arc::new(Schema::new(vec![Field::new("platform", DataType::Utf8, false), Field::new("account_id", DataType::Utf8, false)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(platforms)), Arc::new(StringArray::from(accounts))])?;
    let schemas = MemorySchemaProvider::new();
    schemas.register_table("scope".into(), Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))?;
    let catalog = ctx.catalog(analisa_lake::CATALOG).expect("the lake's catalogue");
    catalog.register_schema("report", Arc::new(schemas) as Arc<dyn SchemaProvider>)?;
    Ok(())
}
