//! The DataFusion session factory: every catalogued table under `bronze`, `silver`, `gold`.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::execution::memory_pool::{GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::prelude::{Expr, col, lit};
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
    let pool = TrackConsumersPool::new(
        GreedyMemoryPool::new(config.memory_pool as usize),
        NonZeroUsize::new(5).expect("non-zero"),
    );
    let mut runtime = RuntimeEnvBuilder::new().with_memory_pool(Arc::new(pool));
    if let Some(dir) = &config.spill_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            LakeError::InvalidConfig(format!("lake.spill_dir {} cannot be created: {e}", dir.display()))
        })?;
        runtime = runtime.with_temp_file_path(dir);
    }
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

impl Lake {
    /// A session over the newest version of every table, except that each table named in
    /// `since` shows only the rows committed after that version (from its change data feed):
    /// how an incremental step reads just what bronze gained since its last run. The
    /// session's versions still say up to which version each table was read.
    pub async fn session_with_changes(&self, since: &BTreeMap<TableId, u64>) -> Result<LakeSession> {
        let session = self.session().await?;
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
        let ctx = self.session_context()?;
        // Tables not created yet are left out (a query naming one says it does not exist),
        // unless the caller pinned them: a pin on a missing table is an error.
        let loaded: Vec<_> = futures::stream::iter(tables().iter().map(|def| {
            let pin = pins.get(&def.id).copied();
            async move {
                match self.table_as_of(def.id, pin.unwrap_or_default()).await {
                    Ok(table) => Ok(Some((def.id, table))),
                    Err(LakeError::NotInitialised { .. }) if pin.is_none() => Ok(None),
                    Err(other) => Err(other),
                }
            }
        }))
        .buffered(8)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
        let mut versions = BTreeMap::new();
        for (id, table) in loaded {
            table
                .update_datafusion_session(&ctx.state())
                .map_err(|e| LakeError::Delta {
                    operation: "register",
                    table: id,
                    location: self.table_url(id).to_string(),
                    source: e,
                })?;
            let provider = table.table_provider().await?;
            ctx.register_table(TableReference::full(CATALOG, id.layer().as_str(), id.name()), provider)?;
            versions.insert(id, table.version().unwrap_or_default());
        }
        Ok(LakeSession { ctx, versions })
    }
}
