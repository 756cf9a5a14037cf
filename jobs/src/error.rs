use analisa_lake::{LakeError, TableId};

pub type Result<T, E = JobsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("step {step}: {source}")]
    Query { step: &'static str, source: datafusion::error::DataFusionError },
    #[error("step {step}: its result does not fit {table}: {details}")]
    Shape { step: &'static str, table: TableId, details: String },
    #[error("step {step}: unknown parameter ${{{name}}} in its SQL")]
    Parameter { step: &'static str, name: String },
    #[error("formula registry: {0}")]
    Formulas(String),
    #[error("unknown step {0:?} (steps: all, silver, gold, publish or one of: {1})")]
    UnknownStep(String, String),
    #[error("run ledger: {0}")]
    Ledger(#[from] sqlx::Error),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("report: {0}")]
    InvalidReport(String),
    #[error("export: {0}")]
    Export(String),
    #[error(transparent)]
    Model(#[from] analisa_ml::MlError),
}

impl From<datafusion::error::DataFusionError> for JobsError {
    fn from(source: datafusion::error::DataFusionError) -> Self {
        JobsError::Query { step: "session", source }
    }
}

impl From<arrow::error::ArrowError> for JobsError {
    fn from(source: arrow::error::ArrowError) -> Self {
        JobsError::Query { step: "session", source: source.into() }
    }
}
