//! SQL over the lake for data scientists: the one planner behind `POST /v1/sql` and the Arrow
//! Flight SQL endpoint.
//!
//! A query is checked as text first ([`statement`]: one read-only statement, time travel
//! rewritten, every relation a catalogued table, a pinned version or one of our views, each
//! visible to the caller's role), then planned in the session of the caller's organisation and
//! role ([`session`]: only the tables the role may read, an organisation's private rows filtered
//! to the caller's organisation; kept until a table changes, copied per query with a memory pool
//! of its own that never spills), and run on threads
//! of its own so that a heavy query cannot starve the HTTP API. It is cancelled when its time
//! is up, capped at a row limit, and written to the audit log whatever its outcome.

mod format;
mod session;
mod statement;

use std::collections::BTreeMap;
use std::pin::Pin as StdPin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use analisa_lake::config::human_duration;
use analisa_lake::{CATALOG, Lake, LakeError, Layer};
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, FieldRef, Fields, SchemaRef};
use datafusion::common::Column;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast};
use datafusion::prelude::SessionContext;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::{Instrument, info_span, warn};
use uuid::Uuid;

use crate::ids::Role;

pub use format::{Format, encode};
use session::Views;

/// The `[api.sql]` section: the limits every query runs under.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqlConfig {
    /// Most rows a query returns; a caller may ask for fewer.
    pub row_limit: usize,
    /// A query still running after this is cancelled.
    #[serde(with = "human_duration")]
    pub time_limit: Duration,
    /// Memory one query's operators may hold (sorts, joins, aggregates), e.g. "512MiB".
    #[serde(deserialize_with = "analisa_lake::config::deserialize_bytes")]
    pub memory_limit: u64,
    /// How old the gateway's view of the lake's newest versions may get before it looks again.
    #[serde(with = "human_duration")]
    pub refresh_interval: Duration,
    /// Threads that run queries, apart from the ones that answer HTTP requests.
    pub threads: usize,
}

impl Default for SqlConfig {
    fn default() -> Self {
        Self {
            row_limit: 100_000,
            time_limit: Duration::from_secs(30),
            memory_limit: 512 * 1024 * 1024,
            refresh_interval: Duration::from_secs(5),
            threads: 2,
        }
    }
}

/// Everything a query can be refused or fail for, named by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    NotReadOnly(String),
    #[error("unknown table `{0}`: query the catalogued tables (information_schema.tables lists the ones you can read)")]
    UnknownTable(String),
    #[error("{table} is in the {layer} layer, which needs the {needs} role or higher; you are {have}", needs = .needs.as_str(), have = .have.as_str())]
    NotVisible { table: String, layer: Layer, needs: Role, have: Role },
    #[error("{0}")]
    Plan(String),
    #[error("{0}")]
    TimeTravel(String),
    #[error("the query was cancelled after its time limit of {}", humantime::format_duration(*.0))]
    TimeLimit(Duration),
    #[error("the query needs more memory than the {} MiB a query may hold: {}", .0 / (1024 * 1024), .1)]
    MemoryLimit(u64, String),
    #[error("the lake cannot be read now: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl SqlError {
    /// A stable label for metrics and the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Syntax(_) => "syntax",
            Self::NotReadOnly(_) => "not_read_only",
            Self::UnknownTable(_) => "unknown_table",
            Self::NotVisible { .. } => "not_visible",
            Self::Plan(_) => "plan",
            Self::TimeTravel(_) => "time_travel",
            Self::TimeLimit(_) => "time_limit",
            Self::MemoryLimit(..) => "memory_limit",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn from_datafusion(error: DataFusionError, memory_limit: u64) -> Self {
        match error.find_root() {
            DataFusionError::ResourcesExhausted(detail) => Self::MemoryLimit(memory_limit, detail.clone()),
            DataFusionError::Plan(m) | DataFusionError::NotImplemented(m) | DataFusionError::Execution(m) => Self::Plan(m.clone()),
            DataFusionError::SchemaError(..) | DataFusionError::SQL(..) | DataFusionError::ArrowError(..) => Self::Plan(error.find_root().to_string()),
            DataFusionError::ObjectStore(e) => Self::Unavailable(e.to_string()),
            _ => Self::Internal(error.to_string()),
        }
    }

    fn from_lake(error: LakeError) -> Self {
        match error {
            LakeError::NoSuchVersion { .. } | LakeError::NoVersionAtTimestamp { .. } | LakeError::NotInitialised { .. } => Self::TimeTravel(error.to_string()),
            LakeError::ObjectStore { .. } => Self::Unavailable(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Who is asking: the organisation whose private rows they may see and their role in it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org_id: Uuid,
    pub role: Role,
    /// How the audit log names them (`user:…`, `api_key:…`).
    pub actor: String,
}

/// The least role that may read a layer.
pub fn least_role(layer: Layer) -> Role {
    match layer {
        Layer::Gold => Role::Viewer,
        Layer::Silver => Role::Analyst,
        Layer::Bronze => Role::Admin,
    }
}

/// Where the query came from, for the audit log.
#[derive(Debug, Clone, Copy)]
pub enum Channel {
    Http,
    FlightSql,
    /// `analisa export adhoc`.
    Console,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Console => "console",
            Self::FlightSql => "flight_sql",
        }
    }
}

/// The SQL gateway: shared by `/v1/sql` and Flight SQL.
pub struct Gateway {
    lake: Lake,
    db: PgPool,
    config: SqlConfig,
    views: Views,
    newest: Mutex<Option<session::Snapshot>>,
    runtime: QueryRuntime,
}

/// A query planned for one caller, ready to run.
pub struct Planned {
    ctx: SessionContext,
    plan: LogicalPlan,
    schema: SchemaRef,
    row_limit: usize,
    /// Delta version of every lake table the query reads (`gold.social_score` → 12).
    pub versions: BTreeMap<String, u64>,
    caller: Caller,
    sql: String,
    channel: Channel,
}

impl Planned {
    /// The result's schema (strings as plain UTF-8, whatever the engine reads them as).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// `gold.social_score=12, silver.accounts=40`: the header form of `versions`.
    pub fn versions_text(&self) -> String {
        self.versions.iter().map(|(table, version)| format!("{table}={version}")).collect::<Vec<_>>().join(", ")
    }
}

impl Gateway {
    pub fn new(lake: Lake, db: PgPool, config: SqlConfig) -> std::io::Result<Self> {
        let runtime = QueryRuntime::new(config.threads.max(1))?;
        Ok(Self { lake, db, config, views: Views::load(), newest: Mutex::new(None), runtime })
    }

    /// Checks and plans `sql` for `caller`. A refusal is written to the audit log here; a
    /// planned query is audited when it has run.
    pub async fn plan(&self, caller: &Caller, sql: &str, row_limit: Option<usize>, channel: Channel) -> Result<Planned, SqlError> {
        let span = info_span!("sql.plan", actor = %caller.actor, channel = channel.as_str());
        let outcome = self.plan_inner(caller, sql, row_limit, channel).instrument(span).await;
        if let Err(error) = &outcome {
            self.audit(caller, sql, channel, json!({"status": "refused", "error_kind": error.kind(), "error": error.to_string()})).await;
        }
        outcome
    }

    async fn plan_inner(&self, caller: &Caller, sql: &str, row_limit: Option<usize>, channel: Channel) -> Result<Planned, SqlError> {
        let checked = statement::check(sql)?;
        let mut reads: Vec<statement::Relation> = Vec::new();
        for reference in &checked.relations {
            let relation = statement::resolve(reference, &checked.pins, self.views.names())?;
            if let Some(layer) = relation.layer()
                && caller.role < least_role(layer)
            {
                return Err(SqlError::NotVisible { table: relation.to_string(), layer, needs: least_role(layer), have: caller.role });
            }
            if !reads.contains(&relation) {
                reads.push(relation);
            }
        }
        let snapshot = self.snapshot().await?;
        let memory = self.config.memory_limit;
        let session = if checked.pins.is_empty() {
            snapshot.session_of(&self.lake, &self.views, caller, memory).await?.for_query(memory)?
        } else {
            // A pinned version is registered under a name of its own, so this query gets a
            // session of its own, holding only what it reads.
            let needs = session::Needs::of(&reads, &self.views);
            session::for_caller(&self.lake, &snapshot, &checked.pins, &self.views, caller, memory, &needs).await?
        };
        let plan = session.ctx.state().statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(checked.statement))).await.map_err(|e| SqlError::from_datafusion(e, memory))?;
        // Belt and braces: the text check already allowed only a query.
        SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false).verify_plan(&plan).map_err(|e| SqlError::NotReadOnly(e.to_string()))?;
        let row_limit = row_limit.unwrap_or(self.config.row_limit).min(self.config.row_limit).max(1);
        let plan = plain_strings(LogicalPlanBuilder::from(plan).limit(0, Some(row_limit + 1)).map_err(|e| SqlError::from_datafusion(e, memory))?.build().map_err(|e| SqlError::from_datafusion(e, memory))?)
            .map_err(|e| SqlError::from_datafusion(e, memory))?;
        let schema = Arc::new(plan.schema().as_arrow().clone());
        let versions = reads.iter().flat_map(|relation| session.versions_of(relation, &self.views)).collect();
        Ok(Planned { ctx: session.ctx, plan, schema, row_limit, versions, caller: caller.clone(), sql: sql.to_owned(), channel })
    }

    /// The newest loaded versions of the lake's tables, looked up again when older than the
    /// refresh interval.
    async fn snapshot(&self) -> Result<session::Snapshot, SqlError> {
        let mut newest = self.newest.lock().await;
        match newest.as_ref() {
            Some(snapshot) if snapshot.loaded_at.elapsed() < self.config.refresh_interval => Ok(snapshot.clone()),
            _ => {
                let snapshot = match newest.as_ref() {
                    Some(previous) => previous.refreshed(self.lake.refresh_tables(&previous.tables).await.map_err(SqlError::from_lake)?),
                    None => session::Snapshot::new(self.lake.load_tables(&BTreeMap::new()).await.map_err(SqlError::from_lake)?),
                };
                *newest = Some(snapshot.clone());
                Ok(snapshot)
            }
        }
    }

    /// Runs a planned query on the query threads. Batches arrive through the returned stream;
    /// the query is cancelled when its time limit passes or the stream is dropped. When it ends
    /// the audit log records what it returned.
    pub fn execute(self: &Arc<Self>, planned: Planned) -> ResultStream {
        let (sender, receiver) = mpsc::channel(4);
        let (audited_sender, audited) = oneshot::channel();
        let truncated = Arc::new(AtomicBool::new(false));
        let schema = planned.schema();
        let gateway = Arc::clone(self);
        let flag = Arc::clone(&truncated);
        let span = info_span!("sql.execute", actor = %planned.caller.actor, channel = planned.channel.as_str());
        self.runtime.handle().spawn(
            async move {
                let started = Instant::now();
                let (rows, outcome) = gateway.run(&planned, &sender, &flag).await;
                let status = match &outcome {
                    Ok(()) => json!({"status": "ok", "rows": rows, "truncated": flag.load(Ordering::Relaxed)}),
                    Err(error) => json!({"status": "failed", "rows": rows, "error_kind": error.kind(), "error": error.to_string()}),
                };
                if let Err(error) = outcome {
                    // The receiver may be gone (client hung up): then there is no one to tell.
                    let _ = sender.send(Err(error)).await;
                }
                // The stream ends here: the rows have gone out already, and the audit row's
                // commit (a disk flush, up to several ms) need not hold back the end of every answer.
                drop(sender);
                let mut details = status;
                details["elapsed_ms"] = json!(started.elapsed().as_millis() as u64);
                details["lake_versions"] = json!(planned.versions);
                gateway.audit(&planned.caller, &planned.sql, planned.channel, details).await;
                let _ = audited_sender.send(());
            }
            .instrument(span),
        );
        ResultStream { schema, receiver, truncated, audited }
    }

    async fn run(&self, planned: &Planned, sender: &mpsc::Sender<Result<RecordBatch, SqlError>>, truncated: &AtomicBool) -> (usize, Result<(), SqlError>) {
        let memory = self.config.memory_limit;
        let deadline = tokio::time::Instant::now() + self.config.time_limit;
        let mut rows = 0;
        let stream = match tokio::time::timeout_at(deadline, async {
            planned.ctx.execute_logical_plan(planned.plan.clone()).await?.execute_stream().await
        })
        .await
        {
            Err(_) => return (0, Err(SqlError::TimeLimit(self.config.time_limit))),
            Ok(Err(e)) => return (0, Err(SqlError::from_datafusion(e, memory))),
            Ok(Ok(stream)) => stream,
        };
        let mut stream = stream;
        loop {
            let batch = match tokio::time::timeout_at(deadline, stream.next()).await {
                // Dropping the stream (on return) cancels the query's tasks.
                Err(_) => return (rows, Err(SqlError::TimeLimit(self.config.time_limit))),
                Ok(None) => return (rows, Ok(())),
                Ok(Some(Err(e))) => return (rows, Err(SqlError::from_datafusion(e, memory))),
                Ok(Some(Ok(batch))) => batch,
            };
            let room = planned.row_limit - rows;
            let batch = if batch.num_rows() > room {
                truncated.store(true, Ordering::Relaxed);
                batch.slice(0, room)
            } else {
                batch
            };
            rows += batch.num_rows();
            if batch.num_rows() > 0 && sender.send(Ok(batch)).await.is_err() {
                return (rows, Err(SqlError::Internal("the client went away before the result was read".into())));
            }
            if truncated.load(Ordering::Relaxed) {
                return (rows, Ok(()));
            }
        }
    }

    async fn audit(&self, caller: &Caller, sql: &str, channel: Channel, mut details: serde_json::Value) {
        details["channel"] = json!(channel.as_str());
        details["sql"] = json!(sql.chars().take(16 * 1024).collect::<String>());
        let entry = crate::audit::Entry { org_id: Some(caller.org_id), actor: &caller.actor, action: "sql.query", target: "lake", details };
        if let Err(error) = crate::audit::record(&self.db, entry).await {
            warn!(%error, "a SQL query could not be written to the audit log");
        }
    }
}

/// A relation a caller can read, for catalogue browsing (Flight SQL's GetTables).
pub struct Listed {
    pub layer: Layer,
    pub name: String,
    /// TABLE or VIEW.
    pub kind: &'static str,
    pub schema: SchemaRef,
}

impl Gateway {
    /// Every table and view the caller may read, with the schema a query of it returns.
    pub async fn catalogue(&self, caller: &Caller) -> Result<Vec<Listed>, SqlError> {
        let snapshot = self.snapshot().await?;
        let session = snapshot.session_of(&self.lake, &self.views, caller, self.config.memory_limit).await?;
        let catalog = session.ctx.catalog(CATALOG).ok_or_else(|| SqlError::Internal("the session has no catalogue".into()))?;
        let mut listed = Vec::new();
        for layer in Layer::ALL.into_iter().filter(|&l| caller.role >= least_role(l)) {
            let Some(schema) = catalog.schema(layer.as_str()) else { continue };
            let mut names = schema.table_names();
            names.sort();
            for name in names {
                let Some(table) = schema.table(&name).await.map_err(|e| SqlError::from_datafusion(e, 0))? else { continue };
                let kind = if self.views.names().contains(&(layer, name.clone())) { "VIEW" } else { "TABLE" };
                listed.push(Listed { layer, name, kind, schema: plain_schema(&table.schema()) });
            }
        }
        Ok(listed)
    }
}

fn plain_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema.fields().iter().map(|f| match plain_type(f.data_type()) {
        Some(plain) => Field::new(f.name(), plain, f.is_nullable()).with_metadata(f.metadata().clone()),
        None => f.as_ref().clone(),
    }).collect();
    Arc::new(arrow::datatypes::Schema::new(fields))
}

/// The rows of a running query, batch by batch.
pub struct ResultStream {
    schema: SchemaRef,
    receiver: mpsc::Receiver<Result<RecordBatch, SqlError>>,
    truncated: Arc<AtomicBool>,
    /// Resolves once the query's audit row has been written (or its writing failed and was logged).
    audited: oneshot::Receiver<()>,
}

impl ResultStream {
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Whether rows beyond the row limit were left out (known once the stream has ended).
    pub fn truncated(&self) -> bool {
        self.truncated.load(Ordering::Relaxed)
    }

    /// Waits for the query's audit row, which is written after the stream ends: for a process
    /// that exits once it has its answer (the console).
    pub async fn audited(self) {
        // An error means the task is gone (the runtime shut down): nothing left to wait for.
        let _ = self.audited.await;
    }
}

impl Stream for ResultStream {
    type Item = Result<RecordBatch, SqlError>;

    fn poll_next(mut self: StdPin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}

/// A projection on top of the plan that turns string and binary views into plain UTF-8 and
/// binary (DataFusion reads Parquet strings as views, which many clients, JDBC and older pandas,
/// do not read) and dictionaries into their values.
fn plain_strings(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    if !plan.schema().fields().iter().any(|f| plain_type(f.data_type()).is_some()) {
        return Ok(plan);
    }
    let projection: Vec<Expr> = plan
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::from((qualifier, field)));
            match plain_type(field.data_type()) {
                Some(plain) => cast(column, plain).alias_qualified(qualifier.cloned(), field.name()),
                None => column,
            }
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(projection)?.build()
}

/// The type with every view replaced by its plain form, or None when there is no view in it.
fn plain_type(data_type: &DataType) -> Option<DataType> {
    let field = |f: &FieldRef| plain_type(f.data_type()).map(|t| Arc::new(Field::new(f.name(), t, f.is_nullable()).with_metadata(f.metadata().clone())));
    match data_type {
        DataType::Utf8View => Some(DataType::Utf8),
        DataType::BinaryView => Some(DataType::Binary),
        // Partition columns come dictionary-encoded; Flight's encoder sends them plain, so the
        // announced schema must say plain too.
        DataType::Dictionary(_, values) => Some(plain_type(values).unwrap_or_else(|| values.as_ref().clone())),
        DataType::List(item) => field(item).map(DataType::List),
        DataType::LargeList(item) => field(item).map(DataType::LargeList),
        DataType::Struct(fields) if fields.iter().any(|f| plain_type(f.data_type()).is_some()) => Some(DataType::Struct(Fields::from(
            fields.iter().map(|f| field(f).unwrap_or_else(|| f.clone())).collect::<Vec<_>>(),
        ))),
        _ => None,
    }
}

/// Threads of their own for queries (as InfluxDB's dedicated executor): a cross join that
/// keeps them busy leaves the HTTP threads free to answer, and to cancel it.
struct QueryRuntime(Option<tokio::runtime::Runtime>);

impl QueryRuntime {
    fn new(threads: usize) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).thread_name("analisa-sql").enable_all().build()?;
        Ok(Self(Some(runtime)))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("the runtime lives until the gateway is dropped").handle()
    }
}

impl Drop for QueryRuntime {
    fn drop(&mut self) {
        // Dropped from async code at shutdown: a blocking shutdown would panic there.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}
