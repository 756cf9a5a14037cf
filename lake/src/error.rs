use crate::catalog::TableId;

/// Everything that can go wrong in the lake, named by what the caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("unknown lake table `{0}` (see `analisa lake info` for the catalogue)")]
    UnknownTable(String),

    #[error("invalid lake root `{root}`: {reason}")]
    InvalidRoot { root: String, reason: String },

    #[error("invalid lake configuration: {0}")]
    InvalidConfig(String),

    #[error("table {table} is not initialised at {location}; run `analisa lake init`")]
    NotInitialised { table: TableId, location: String },

    #[error("rows for {table} do not match its catalogued schema: {details}")]
    SchemaMismatch { table: TableId, details: String },

    #[error("version {version} of {table} does not exist (latest is {latest})")]
    NoSuchVersion { table: TableId, version: u64, latest: u64 },

    #[error("no version of {table} existed at {timestamp}")]
    NoVersionAtTimestamp { table: TableId, timestamp: String },

    #[error("concurrent commit conflict on {table} that retries did not resolve: {source}")]
    CommitConflict {
        table: TableId,
        #[source]
        source: deltalake::DeltaTableError,
    },

    #[error("Delta operation `{operation}` on {table} at {location} failed: {source}")]
    Delta {
        operation: &'static str,
        table: TableId,
        location: String,
        #[source]
        source: deltalake::DeltaTableError,
    },

    #[error("object store at {location} failed: {source}")]
    ObjectStore {
        location: String,
        #[source]
        source: object_store::Error,
    },

    #[error("query engine error: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),

    #[error("Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

pub type Result<T, E = LakeError> = std::result::Result<T, E>;
