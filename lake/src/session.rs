//! The DataFusion session factory: every catalogued table under `bronze`, `silver`, `gold`.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{GreedyMemoryPool, MemoryLimit, MemoryPool, MemoryReservation, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::prelude::{Expr, col, lit};
use deltalake::DeltaTable;
use deltalake::delta_datafusion::DeltaCdfTableProvider;
use futures::{StreamExt, TryStreamExt};

use crate::catalog::{Layer, TableId, tables};
use crate::config::LakeConfig;
use crate::delta::{AsOf, Lake};
use crate::error::{LakeError, Result};

/// The SQL catalogue name under which the layers appear (`analisa.gold.social_score`).
pub const CATALOG: &str = "analisa";

/// A query session over the lake, with the Delta version of every table it reads pinned at
/// creation, so a long query or report sees one consistent state.
#[derive(Clone)]
pub struct LakeSession {
    ctx: SessionContext,
    versions: BTreeMap<TableId, u64>,
}

impl LakeSession {
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The Delta version of each registered table.
    pub fn versions(&self) -> &BTreeMap<TableId, u64> {
        &self.versions
    }

    /// Runs one statement and collects its result.
    pub async fn sql(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        Ok(self.ctx.sql(sql).await?.collect().await?)
    }
}

/// A context with the configured memory pool and spill directory, and the three layer schemas.
pub(crate) fn context(config: &LakeConfig) -> Result<SessionContext> {
    // A greedy pool, not a fair one: DataFusion's estimate of a sort batch counts string-view
    // buffers shared across batches once per batch, so a silver step over a few thousand bronze
    // rows asked for ~200 MB while using far less; a fair pool caps each of the plan's ~14
    // spilling operators at pool/14 (~145 MB of 2 GiB) and refused it, depending on how the
    // rows fell into batches. The tracking wrapper names the top consumers when it runs out.
    context_with_pool(config, tracked(GreedyMemoryPool::new(config.memory_pool as usize)))
}

/// The pipeline's context: strings read as plain strings, so that a batch weighs what it holds
/// (see [`Lake::session_with_changes`]), and a greedy pool in which no operator that can spill
/// holds more than a share of the pool (see [`SpillCappedPool`]).
fn pipeline_context(config: &LakeConfig) -> Result<SessionContext> {
    let pool = config.memory_pool as usize;
    let ctx = context_with_pool(config, tracked(SpillCappedPool { greedy: GreedyMemoryPool::new(pool), spiller_cap: pool / SPILLER_SHARE }))?;
    ctx.state_ref().write().config_mut().options_mut().execution.parquet.schema_force_view_types = false;
    Ok(ctx)
}

fn context_with_pool(config: &LakeConfig, pool: Arc<dyn MemoryPool>) -> Result<SessionContext> {
    let mut runtime = RuntimeEnvBuilder::new().with_memory_pool(pool);
    if let Some(dir) = &config.spill_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            LakeError::InvalidConfig(format!("lake.spill_dir {} cannot be created: {e}", dir.display()))
        })?;
        runtime = runtime.with_temp_file_path(dir);
    }
    with_layers(runtime)
}

fn tracked(pool: impl MemoryPool + 'static) -> Arc<dyn MemoryPool> {
    Arc::new(TrackConsumersPool::new(pool, NonZeroUsize::new(5).expect("non-zero")))
}

/// The largest part of the pool one operator that can spill may hold: 1/4.
const SPILLER_SHARE: usize = 4;

/// First come, first served, as DataFusion's greedy pool, except that an operator that can
/// spill (a sort, an aggregate) is refused beyond `spiller_cap` and spills there. Plain greedy
/// let the gold build's two sorts over 5M posts take 1.5 GB of 2 GiB, and then an operator that
/// cannot give memory back failed for want of 6 MB. DataFusion's fair pool divides the pool by
/// the number of spilling operators instead, which on a plan of many small sorts (each also
/// holding a few MB it cannot spill) left an aggregate less than one batch.
#[derive(Debug)]
struct SpillCappedPool {
    greedy: GreedyMemoryPool,
    spiller_cap: usize,
}

impl MemoryPool for SpillCappedPool {
    fn name(&self) -> &str {
        "spill-capped greedy"
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.greedy.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.greedy.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> datafusion::common::Result<()> {
        if reservation.consumer().can_spill() && reservation.size() + additional > self.spiller_cap {
            return Err(datafusion::common::DataFusionError::ResourcesExhausted(format!(
                "{} may hold at most {} bytes of the pool (it can spill); it holds {} and asked for {} more",
                reservation.consumer().name(),
                self.spiller_cap,
                reservation.size(),
                additional
            )));
        }
        self.greedy.try_grow(reservation, additional)
    }

    fn reserved(&self) -> usize {
        self.greedy.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.greedy.memory_limit()
    }
}

impl std::fmt::Display for SpillCappedPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at most {} bytes per spilling operator)", self.greedy, self.spiller_cap)
    }
}

fn with_layers(runtime: RuntimeEnvBuilder) -> Result<SessionContext> {
    let session_config = SessionConfig::new()
        .with_information_schema(true)
        .with_default_catalog_and_schema(CATALOG, Layer::Gold.as_str())
        .with_create_default_catalog_and_schema(true);
    let ctx = SessionContext::new_with_config_rt(session_config, runtime.build_arc()?);
    let catalog = ctx.catalog(CATALOG).expect("the default catalogue is created with the context");
    for layer in [Layer::Bronze, Layer::Silver] {
        catalog.register_schema(layer.as_str(), Arc::new(MemorySchemaProvider::new()) as Arc<dyn SchemaProvider>)?;
    }
    Ok(ctx)
}

/// A table loaded at one version, ready to be registered in any number of sessions: loading
/// reads the Delta log, registering does not. Per-query sessions are made from these.
#[derive(Clone)]
pub struct LoadedTable {
    id: TableId,
    table: DeltaTable,
}

impl LoadedTable {
    pub fn id(&self) -> TableId {
        self.id
    }

    pub fn version(&self) -> u64 {
        self.table.version().unwrap_or_default()
    }

    /// The table as a provider for `ctx`, whose runtime learns the table's object store and
    /// whose options (string views or not) the scan follows.
    pub async fn provider(&self, ctx: &SessionContext) -> Result<Arc<dyn TableProvider>> {
        let state = ctx.state();
        self.table.update_datafusion_session(&state).map_err(|source| LakeError::Delta {
            operation: "register",
            table: self.id,
            location: self.table.table_url().to_string(),
            source,
        })?;
        Ok(self.table.table_provider().with_session(Arc::new(state)).await?)
    }
}

impl Lake {
    /// A session over the newest version of every table, except that each table named in
    /// `since` shows only the rows committed after that version (from its change data feed):
    /// how an incremental step reads just what bronze gained since its last run. The
    /// session's versions still say up to which version each table was read.
    ///
    /// Strings are read as plain strings, not string views. A view points into a buffer shared
    /// with other rows, and DataFusion weighs each batch with every buffer it points into: rows
    /// taken out of a hash join's in-memory side point into that whole side, so at 5M posts each
    /// batch after the join weighed ~350 MB to the sort that followed, which could then not run
    /// in a 2 GiB pool. A plain string is copied into its batch, which weighs what it holds.
    pub async fn session_with_changes(&self, since: &BTreeMap<TableId, u64>) -> Result<LakeSession> {
        let session = self.register_tables(pipeline_context(self.config())?, &BTreeMap::new()).await?;
        for (&id, &after) in since {
            let Some(&latest) = session.versions.get(&id) else { continue };
            let name = TableReference::full(CATALOG, id.layer().as_str(), id.name());
            let schema = id.def().schema.clone();
            let provider: Arc<dyn TableProvider> = if latest > after {
                let table = self.table_as_of(id, AsOf::Version(latest)).await?;
                let cdf = DeltaCdfTableProvider::try_new(table.scan_cdf().with_starting_version(after + 1))
                    .map_err(|source| LakeError::Delta { operation: "read changes", table: id, location: self.table_url(id).to_string(), source })?;
                let columns: Vec<Expr> = schema.fields().iter().map(|f| col(f.name())).collect();
                // Appends and MERGE inserts are `insert`; updates also leave a post-image.
                let inserted = session
                    .ctx
                    .read_table(Arc::new(cdf))?
                    .filter(col("_change_type").in_list(vec![lit("insert"), lit("update_postimage")], false))?
                    .select(columns)?;
                inserted.into_view()
            } else {
                Arc::new(MemTable::try_new(schema, vec![vec![]])?)
            };
            session.ctx.deregister_table(name.clone())?;
            session.ctx.register_table(name, provider)?;
        }
        Ok(session)
    }

    /// A session over the newest version of every table that exists.
    pub async fn session(&self) -> Result<LakeSession> {
        self.session_as_of(&BTreeMap::new()).await
    }

    /// A session where the tables named in `pins` are read as of the given version or time
    /// (the others at their newest): the ground of reproducible reports and `AS OF` queries.
    pub async fn session_as_of(&self, pins: &BTreeMap<TableId, AsOf>) -> Result<LakeSession> {
        self.register_tables(self.session_context()?, pins).await
    }

    async fn register_tables(&self, ctx: SessionContext, pins: &BTreeMap<TableId, AsOf>) -> Result<LakeSession> {
        let mut versions = BTreeMap::new();
        for table in self.load_tables(pins).await? {
            let provider = table.provider(&ctx).await?;
            ctx.register_table(TableReference::full(CATALOG, table.id.layer().as_str(), table.id.name()), provider)?;
            versions.insert(table.id, table.version());
        }
        Ok(LakeSession { ctx, versions })
    }

    /// Every table that exists, loaded at its newest version except those pinned in `pins`.
    /// Tables not created yet are left out (a query naming one says it does not exist),
    /// unless the caller pinned them: a pin on a missing table is an error.
    pub async fn load_tables(&self, pins: &BTreeMap<TableId, AsOf>) -> Result<Vec<LoadedTable>> {
        // Owned (id, pin) pairs: a closure over borrowed catalogue entries makes the future
        // lose `Send` for callers that spawn it (the HTTP and Flight SQL handlers).
        let wanted: Vec<(TableId, Option<AsOf>)> = tables().iter().map(|def| (def.id, pins.get(&def.id).copied())).collect();
        let loaded: Vec<Option<LoadedTable>> = futures::stream::iter(wanted)
            .map(|(id, pin)| self.load_if_present(id, pin))
            .buffered(8)
            .try_collect()
            .await?;
        Ok(loaded.into_iter().flatten().collect())
    }

    /// `previous` brought up to date: a table loaded before reads only the commits made since
    /// (when there are none, that is one listing of its log), a table created since is loaded.
    pub async fn refresh_tables(&self, previous: &[LoadedTable]) -> Result<Vec<LoadedTable>> {
        let wanted: Vec<(TableId, Option<LoadedTable>)> = tables().iter().map(|def| (def.id, previous.iter().find(|t| t.id == def.id).cloned())).collect();
        let loaded: Vec<Option<LoadedTable>> = futures::stream::iter(wanted)
            .map(|(id, loaded)| async move {
                match loaded {
                    Some(mut loaded) => match loaded.table.update_incremental(None).await {
                        Ok(()) => Ok(Some(loaded)),
                        // Gone or replaced under us (an erasure's rewrite, a re-initialised
                        // lake): load it afresh, which also says whether it still exists.
                        Err(_) => self.load_if_present(id, None).await,
                    },
                    None => self.load_if_present(id, None).await,
                }
            })
            .buffered(8)
            .try_collect()
            .await?;
        Ok(loaded.into_iter().flatten().collect())
    }

    async fn load_if_present(&self, id: TableId, pin: Option<AsOf>) -> Result<Option<LoadedTable>> {
        match self.load_table(id, pin.unwrap_or_default()).await {
            Ok(table) => Ok(Some(table)),
            Err(LakeError::NotInitialised { .. }) if pin.is_none() => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// One table as it was at a version or time.
    pub async fn load_table(&self, id: TableId, as_of: AsOf) -> Result<LoadedTable> {
        Ok(LoadedTable { id, table: self.table_as_of(id, as_of).await? })
    }

    /// An empty context (the layer schemas, no tables) whose queries may hold at most
    /// `memory_limit` bytes and never spill to disk: the sandbox of one user query.
    pub fn bounded_context(&self, memory_limit: u64) -> Result<SessionContext> {
        with_layers(bounded_runtime(memory_limit))
    }
}

/// A runtime whose pool holds `memory_limit` bytes and that never spills.
fn bounded_runtime(memory_limit: u64) -> RuntimeEnvBuilder {
    let no_disk = DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled);
    RuntimeEnvBuilder::new().with_memory_pool(tracked(GreedyMemoryPool::new(memory_limit as usize))).with_disk_manager_builder(no_disk)
}

/// The same session (catalogue, registered tables and views, options, object stores) with a
/// memory pool of its own of `memory_limit` bytes: a session set up once serves many queries,
/// each within its own limit.
pub fn with_own_pool(ctx: &SessionContext, memory_limit: u64) -> Result<SessionContext> {
    let runtime = bounded_runtime(memory_limit).with_object_store_registry(ctx.runtime_env().object_store_registry.clone()).build_arc()?;
    Ok(SessionContext::new_with_state(SessionStateBuilder::new_from_existing(ctx.state()).with_runtime_env(runtime).build()))
}

#[cfg(test)]
mod tests {
    use datafusion::common::DataFusionError;
    use datafusion::execution::memory_pool::MemoryConsumer;

    use super::*;

    #[test]
    fn an_operator_that_can_spill_holds_at_most_its_share() {
        let pool: Arc<dyn MemoryPool> = Arc::new(SpillCappedPool { greedy: GreedyMemoryPool::new(1000), spiller_cap: 250 });
        let sort = MemoryConsumer::new("sort").with_can_spill(true).register(&pool);
        sort.try_grow(250).unwrap();
        let refused = sort.try_grow(1).unwrap_err();
        assert!(matches!(refused, DataFusionError::ResourcesExhausted(_)), "a refusal the sort answers by spilling: {refused}");
        assert!(refused.to_string().contains("sort may hold at most 250 bytes"), "{refused}");
        // One that cannot spill takes what the pool has left, and no more.
        let join = MemoryConsumer::new("hash join").register(&pool);
        join.try_grow(750).unwrap();
        assert!(join.try_grow(1).is_err(), "the pool's limit holds");
        drop(sort);
        join.try_grow(250).unwrap();
        assert_eq!(pool.reserved(), 1000);
    }
}
