//! Delta operations on catalogued tables: the only way the rest of Analisa writes the lake.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::{cast, concat_batches, take_record_batch};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};
use chrono::{DateTime, Utc};
use datafusion::prelude::{SessionContext, col};
use deltalake::kernel::transaction::{CommitProperties, TransactionError};
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::StructType;
use deltalake::operations::vacuum::VacuumMode;
use deltalake::protocol::SaveMode;
use deltalake::TableProperty;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use tracing::{debug, info, instrument};
use url::Url;

use crate::catalog::{Layer, TableDef, TableId, tables};
use crate::config::LakeConfig;
use crate::error::{LakeError, Result};
use crate::store::{self, LakeRoot};

/// Which version of a table to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AsOf {
    #[default]
    Latest,
    Version(u64),
    Timestamp(DateTime<Utc>),
}

/// What a committed write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The table version after the write (unchanged when there was nothing to write).
    pub version: u64,
    /// Rows inserted or updated.
    pub rows: u64,
}

/// Size and shape of a table, for `analisa lake info` and monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub id: TableId,
    /// None when the table has not been created yet.
    pub version: Option<u64>,
    pub files: u64,
    pub rows: u64,
    pub bytes: u64,
}

/// How many times a commit that lost a race is rebased and retried before the caller hears
/// of the conflict. Appends never truly conflict, so this only bounds pathological contention.
const COMMIT_RETRIES: usize = 25;

/// Times a MERGE is run again after a concurrent writer changed the data it read.
const MERGE_RETRIES: u32 = 6;

/// The lake: an object store plus the catalogue, with every Delta operation the pipeline uses.
#[derive(Debug, Clone)]
pub struct Lake {
    root_url: Url,
    store: Arc<dyn ObjectStore>,
    config: LakeConfig,
}

impl Lake {
    /// Connects to the configured root. Nothing is read or written yet.
    pub fn open(config: &LakeConfig) -> Result<Self> {
        config.validate()?;
        let root = LakeRoot::parse(&config.root)?;
        let store = store::object_store(&root, config)?;
        Ok(Self { root_url: root.url(), store, config: config.clone() })
    }

    pub fn config(&self) -> &LakeConfig {
        &self.config
    }

    pub fn root_url(&self) -> &Url {
        &self.root_url
    }

    /// The store the lake lives on, rooted as `root_url` says (for exports and checks that
    /// need to list or read raw objects).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The object-store key of a path relative to the lake root (`exports/…`).
    pub fn object_path(&self, relative: &str) -> ObjectPath {
        let url = self.root_url.join(relative).expect("relative paths of ours are valid URL segments");
        ObjectPath::from_url_path(url.path()).expect("a URL path is a valid object path")
    }

    /// Where a table lives.
    pub fn table_url(&self, id: TableId) -> Url {
        self.root_url
            .join(&format!("{}/", id.path()))
            .expect("catalogue paths are valid URL segments")
    }

    fn builder(&self, id: TableId) -> Result<DeltaTableBuilder> {
        let url = self.table_url(id);
        let builder = DeltaTableBuilder::from_url(url.clone())
            .map_err(|source| self.delta_error("open", id, source))?;
        Ok(builder.with_storage_backend(self.store.clone(), url))
    }

    fn delta_error(&self, operation: &'static str, table: TableId, source: DeltaTableError) -> LakeError {
        match source {
            DeltaTableError::NotATable(_) => LakeError::NotInitialised {
                table,
                location: self.table_url(table).to_string(),
            },
            DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_) | TransactionError::MaxCommitAttempts(_),
            } => LakeError::CommitConflict { table, source },
            source => LakeError::Delta {
                operation,
                table,
                location: self.table_url(table).to_string(),
                source,
            },
        }
    }

    /// Loads the newest version of a table.
    pub async fn table(&self, id: TableId) -> Result<DeltaTable> {
        self.table_as_of(id, AsOf::Latest).await
    }

    /// Whether the table has a Delta log. Asked of the store directly, so that a store that
    /// cannot be reached is reported as such and never mistaken for an empty lake.
    pub async fn exists(&self, id: TableId) -> Result<bool> {
        let table_url = self.table_url(id);
        let log = ObjectPath::from_url_path(format!("{}_delta_log", table_url.path()))
            .expect("catalogue paths are valid object paths");
        match self.store.list(Some(&log)).next().await {
            None => Ok(false),
            Some(Ok(_)) => Ok(true),
            Some(Err(source)) => Err(LakeError::ObjectStore { location: table_url.to_string(), source }),
        }
    }

    /// Loads a table as it was at a version or a point in time.
    #[instrument(skip(self), fields(table = %id))]
    pub async fn table_as_of(&self, id: TableId, as_of: AsOf) -> Result<DeltaTable> {
        if !self.exists(id).await? {
            return Err(LakeError::NotInitialised { table: id, location: self.table_url(id).to_string() });
        }
        let mut table = self.builder(id)?.build().map_err(|e| self.delta_error("open", id, e))?;
        let loaded = match as_of {
            AsOf::Latest => table.load().await,
            AsOf::Version(version) => {
                let latest = table
                    .get_latest_version()
                    .await
                    .map_err(|e| self.delta_error("load", id, e))?;
                if version > latest {
                    return Err(LakeError::NoSuchVersion { table: id, version, latest });
                }
                table.load_version(version).await
            }
            AsOf::Timestamp(at) => {
                let too_early = || LakeError::NoVersionAtTimestamp { table: id, timestamp: at.to_rfc3339() };
                match table.load_with_datetime(at).await {
                    // deltalake answers a time before the first commit with version 0.
                    Ok(()) => {
                        let version = current_version(&table);
                        let committed = table
                            .snapshot()
                            .ok()
                            .and_then(|s| s.version_timestamp(version))
                            .ok_or_else(too_early)?;
                        if committed > at.timestamp_millis() {
                            return Err(too_early());
                        }
                        Ok(())
                    }
                    Err(DeltaTableError::InvalidVersion(_)) => return Err(too_early()),
                    Err(other) => Err(other),
                }
            }
        };
        loaded.map_err(|e| self.delta_error("load", id, e))?;
        Ok(table)
    }

    /// Creates the table if it does not exist. Returns whether it was created.
    #[instrument(skip(self), fields(table = %id))]
    pub async fn create_if_missing(&self, id: TableId) -> Result<bool> {
        if self.exists(id).await? {
            return Ok(false);
        }
        let def = id.def();
        let schema: StructType = def
            .schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| LakeError::Delta {
                operation: "create",
                table: id,
                location: self.table_url(id).to_string(),
                source: DeltaTableError::from(e),
            })?;
        let table = self.builder(id)?.build().map_err(|e| self.delta_error("create", id, e))?;
        let mut create = table.create();
        if id.layer() == Layer::Bronze || id == TableId::INFLUENCER_DAILY {
            // The pipeline reads only what bronze gained since its last run, and publishing
            // copies only the history rows that changed, through the change data feed.
            create = create.with_configuration_property(TableProperty::EnableChangeDataFeed, Some("true"));
        }
        let created = create
            .with_table_name(id.name())
            .with_comment(def.description)
            .with_columns(schema.fields().cloned())
            .with_partition_columns(def.partition_columns.iter().copied())
            // Another process creating the same table at the same moment is not an error.
            .with_save_mode(SaveMode::Ignore)
            .await;
        match created {
            Ok(_) => {
                info!(table = %id, "created table");
                Ok(true)
            }
            Err(DeltaTableError::VersionAlreadyExists(_)) => Ok(false),
            Err(e) => Err(self.delta_error("create", id, e)),
        }
    }

    /// Creates every catalogued table that is missing. Returns the ones it created.
    pub async fn init(&self) -> Result<Vec<TableId>> {
        let mut created = Vec::new();
        for def in tables() {
            if self.create_if_missing(def.id).await? {
                created.push(def.id);
            }
        }
        Ok(created)
    }

    /// Appends rows. The rows must match the catalogued schema.
    #[instrument(skip(self, batches), fields(table = %id))]
    pub async fn append(&self, id: TableId, batches: Vec<RecordBatch>) -> Result<WriteOutcome> {
        let batches = conform(id.def(), batches)?;
        let rows = row_count(&batches);
        let table = self.table(id).await?;
        if rows == 0 {
            return Ok(WriteOutcome { version: current_version(&table), rows: 0 });
        }
        let table = table
            .write(batches)
            .with_save_mode(SaveMode::Append)
            .with_commit_properties(commit_properties())
            .await
            .map_err(|e| self.delta_error("append", id, e))?;
        let version = current_version(&table);
        debug!(rows, version, "appended");
        Ok(WriteOutcome { version, rows })
    }

    /// Inserts new rows and replaces existing ones that share the natural key (MERGE). When the
    /// input itself repeats a key, the last occurrence wins, so the table never holds duplicates.
    #[instrument(skip(self, batches), fields(table = %id))]
    pub async fn upsert(&self, id: TableId, batches: Vec<RecordBatch>) -> Result<WriteOutcome> {
        self.merge(id, batches, true).await
    }

    /// Inserts the rows whose natural key is not in the table yet and leaves existing rows
    /// untouched: how append-only layers (bronze) land the same answer twice without a duplicate.
    #[instrument(skip(self, batches), fields(table = %id))]
    pub async fn insert_missing(&self, id: TableId, batches: Vec<RecordBatch>) -> Result<WriteOutcome> {
        self.merge(id, batches, false).await
    }

    /// MERGE reads the table, so a concurrent commit can invalidate it; it is then run again on
    /// the new version (a few times, with a growing pause) before the conflict is reported.
    async fn merge(&self, id: TableId, batches: Vec<RecordBatch>, update_matches: bool) -> Result<WriteOutcome> {
        let batches = conform(id.def(), batches)?;
        let mut attempt = 0;
        loop {
            match self.merge_once(id, &batches, update_matches).await {
                Err(LakeError::CommitConflict { .. }) if attempt < MERGE_RETRIES => {
                    attempt += 1;
                    debug!(attempt, "merge lost a race with another writer; running it again");
                    tokio::time::sleep(std::time::Duration::from_millis(20 * (1 << attempt))).await;
                }
                other => return other,
            }
        }
    }

    async fn merge_once(&self, id: TableId, batches: &[RecordBatch], update_matches: bool) -> Result<WriteOutcome> {
        let def = id.def();
        let table = self.table(id).await?;
        if row_count(batches) == 0 {
            return Ok(WriteOutcome { version: current_version(&table), rows: 0 });
        }
        let source = last_per_key(def, batches)?;

        let ctx = self.session_context()?;
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| self.delta_error("merge", id, e))?;
        let source = ctx.read_batch(source)?;
        let on = def
            .natural_key
            .iter()
            .map(|key| col(format!("target.{key}")).eq(col(format!("source.{key}"))))
            .reduce(|a, b| a.and(b))
            .expect("every catalogued table has a natural key");
        let columns: Vec<String> = def.schema.fields().iter().map(|f| f.name().clone()).collect();
        let mut builder = table
            .merge(source, on)
            .with_source_alias("source")
            .with_target_alias("target")
            .with_session_state(Arc::new(ctx.state()))
            .with_commit_properties(commit_properties());
        if update_matches {
            builder = builder
                .when_matched_update(|update| {
                    columns
                        .iter()
                        .filter(|c| !def.natural_key.contains(&c.as_str()))
                        .fold(update, |u, c| u.update(c.as_str(), col(format!("source.{c}"))))
                })
                .map_err(|e| self.delta_error("merge", id, e))?;
        }
        let (table, metrics) = builder
            .when_not_matched_insert(|insert| columns.iter().fold(insert, |i, c| i.set(c.as_str(), col(format!("source.{c}")))))
            .map_err(|e| self.delta_error("merge", id, e))?
            .await
            .map_err(|e| self.delta_error("merge", id, e))?;
        let rows = (metrics.num_target_rows_inserted + metrics.num_target_rows_updated) as u64;
        debug!(inserted = metrics.num_target_rows_inserted, updated = metrics.num_target_rows_updated, "merged");
        Ok(WriteOutcome { version: current_version(&table), rows })
    }

    /// Replaces, in one commit, the rows matching a SQL predicate (all rows when there is none)
    /// with `batches`: how a step that recomputes a day or a whole derived table publishes it,
    /// so readers see the old rows or the new ones, never a mix.
    #[instrument(skip(self, batches), fields(table = %id))]
    pub async fn replace(&self, id: TableId, predicate: Option<&str>, batches: Vec<RecordBatch>) -> Result<WriteOutcome> {
        let batches = conform(id.def(), batches)?;
        let rows = row_count(&batches);
        let table = self.table(id).await?;
        let mut write = table
            .write(batches)
            .with_save_mode(SaveMode::Overwrite)
            .with_commit_properties(commit_properties());
        if let Some(predicate) = predicate {
            write = write.with_replace_where(predicate.to_owned());
        }
        let table = write.await.map_err(|e| self.delta_error("replace", id, e))?;
        let version = current_version(&table);
        debug!(rows, version, predicate, "replaced");
        Ok(WriteOutcome { version, rows })
    }

    /// Deletes the rows matching a SQL predicate, e.g. `account_id = '17841400000000001'`.
    /// Returns the new version and the number of rows deleted.
    #[instrument(skip(self), fields(table = %id))]
    pub async fn delete(&self, id: TableId, predicate: &str) -> Result<WriteOutcome> {
        let table = self.table(id).await?;
        let (table, metrics) = table
            .delete()
            .with_predicate(predicate.to_owned())
            .with_commit_properties(commit_properties())
            .await
            .map_err(|e| self.delta_error("delete", id, e))?;
        let rows = metrics.num_deleted_rows.unwrap_or(0) as u64;
        info!(rows, predicate, "deleted");
        Ok(WriteOutcome { version: current_version(&table), rows })
    }

    /// Compacts small files into files of about `lake.target_file_size`.
    /// Returns (files added, files removed).
    #[instrument(skip(self), fields(table = %id))]
    pub async fn optimize(&self, id: TableId) -> Result<(u64, u64)> {
        let table = self.table(id).await?;
        let target = NonZeroU64::new(self.config.target_file_size).expect("validated non-zero");
        let (_, metrics) = table
            .optimize()
            .with_target_size(target)
            .with_commit_properties(commit_properties())
            .await
            .map_err(|e| self.delta_error("optimize", id, e))?;
        Ok((metrics.num_files_added, metrics.num_files_removed))
    }

    /// Deletes files that no version newer than `retention` ago needs, including files no
    /// commit ever referenced (left by crashed writers). Returns the paths deleted.
    #[instrument(skip(self), fields(table = %id))]
    pub async fn vacuum(&self, id: TableId, retention: Duration) -> Result<Vec<String>> {
        let table = self.table(id).await?;
        let retention = chrono::Duration::from_std(retention)
            .map_err(|e| LakeError::InvalidConfig(format!("vacuum retention out of range: {e}")))?;
        let (_, metrics) = table
            .vacuum()
            .with_retention_period(retention)
            // The caller decides: maintenance passes `lake.vacuum_retention`, erasure passes 0
            // so that erased rows leave the store now rather than after a week.
            .with_enforce_retention_duration(false)
            .with_mode(VacuumMode::Full)
            .with_commit_properties(commit_properties())
            .await
            .map_err(|e| self.delta_error("vacuum", id, e))?;
        info!(files = metrics.files_deleted.len(), "vacuumed");
        Ok(metrics.files_deleted)
    }

    /// Writes a checkpoint of the current version so readers need not replay the whole log.
    pub async fn checkpoint(&self, id: TableId) -> Result<u64> {
        let table = self.table(id).await?;
        deltalake::checkpoints::create_checkpoint(&table, None)
            .await
            .map_err(|e| self.delta_error("checkpoint", id, e))?;
        Ok(current_version(&table))
    }

    /// Version, files, rows and bytes of every catalogued table.
    pub async fn info(&self) -> Result<Vec<TableInfo>> {
        let mut out = Vec::new();
        for def in tables() {
            let info = match self.table(def.id).await {
                Ok(table) => {
                    let snapshot = table.snapshot().map_err(|e| self.delta_error("info", def.id, e))?;
                    let (mut files, mut rows, mut bytes) = (0, 0, 0);
                    for file in snapshot.log_data().iter() {
                        files += 1;
                        rows += file.num_records().unwrap_or(0) as u64;
                        bytes += file.size().max(0) as u64;
                    }
                    TableInfo { id: def.id, version: Some(current_version(&table)), files, rows, bytes }
                }
                Err(LakeError::NotInitialised { .. }) => {
                    TableInfo { id: def.id, version: None, files: 0, rows: 0, bytes: 0 }
                }
                Err(other) => return Err(other),
            };
            out.push(info);
        }
        Ok(out)
    }

    /// A bare query context with the lake's memory pool and spill settings.
    pub(crate) fn session_context(&self) -> Result<SessionContext> {
        crate::session::context(&self.config)
    }
}

fn commit_properties() -> CommitProperties {
    CommitProperties::default().with_max_retries(COMMIT_RETRIES)
}

fn current_version(table: &DeltaTable) -> u64 {
    // A loaded table always has a version; an unloaded one is never handed out.
    table.version().unwrap_or_default()
}

fn row_count(batches: &[RecordBatch]) -> u64 {
    batches.iter().map(|b| b.num_rows() as u64).sum()
}

/// Checks rows against the catalogued schema and returns them re-labelled with it (same
/// column names, order and types; nested field names and metadata normalised). Refuses
/// anything else, naming every difference, before a single byte is written.
pub(crate) fn conform(def: &TableDef, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    let expected: SchemaRef = def.schema.clone();
    batches
        .into_iter()
        .map(|batch| {
            let mut problems = Vec::new();
            let got = batch.schema();
            let got_names: Vec<&str> = got.fields().iter().map(|f| f.name().as_str()).collect();
            let want_names: Vec<&str> = expected.fields().iter().map(|f| f.name().as_str()).collect();
            for name in &want_names {
                if !got_names.contains(name) {
                    problems.push(format!("missing column `{name}`"));
                }
            }
            for name in &got_names {
                if !want_names.contains(name) {
                    problems.push(format!("unexpected column `{name}`"));
                }
            }
            if problems.is_empty() && got_names != want_names {
                problems.push(format!("columns out of order: expected {}", want_names.join(", ")));
            }
            if !problems.is_empty() {
                return Err(LakeError::SchemaMismatch { table: def.id, details: problems.join("; ") });
            }
            let mut columns: Vec<ArrayRef> = Vec::with_capacity(expected.fields().len());
            for (field, array) in expected.fields().iter().zip(batch.columns()) {
                if !field.data_type().equals_datatype(array.data_type()) {
                    problems.push(format!(
                        "column `{}` is {} but must be {}",
                        field.name(),
                        array.data_type(),
                        field.data_type()
                    ));
                    continue;
                }
                if !field.is_nullable() && array.null_count() > 0 {
                    problems.push(format!(
                        "column `{}` is required but has {} null value(s)",
                        field.name(),
                        array.null_count()
                    ));
                    continue;
                }
                let array = if array.data_type() == field.data_type() {
                    array.clone()
                } else {
                    cast(array, field.data_type())?
                };
                columns.push(array);
            }
            if !problems.is_empty() {
                return Err(LakeError::SchemaMismatch { table: def.id, details: problems.join("; ") });
            }
            Ok(RecordBatch::try_new(expected.clone(), columns)?)
        })
        .collect()
}

/// One row per natural key, the last one given winning: MERGE refuses a source that matches a
/// target row twice, and "the newest answer wins" is what re-ingesting a page means.
fn last_per_key(def: &TableDef, batches: &[RecordBatch]) -> Result<RecordBatch> {
    let all = concat_batches(&def.schema, batches)?;
    let key_columns: Vec<ArrayRef> = def
        .natural_key
        .iter()
        .map(|k| all.column_by_name(k).expect("conformed batches have every column").clone())
        .collect();
    let converter =
        RowConverter::new(key_columns.iter().map(|c| SortField::new(c.data_type().clone())).collect())?;
    let rows = converter.convert_columns(&key_columns)?;
    let mut last: HashMap<arrow::row::Row<'_>, u32> = HashMap::with_capacity(all.num_rows());
    for (index, row) in rows.iter().enumerate() {
        last.insert(row, index as u32);
    }
    if last.len() == all.num_rows() {
        return Ok(all);
    }
    let mut keep: Vec<u32> = last.into_values().collect();
    keep.sort_unstable();
    let indices = arrow::array::UInt32Array::from(keep);
    Ok(take_record_batch(&all, &indices)?)
}
