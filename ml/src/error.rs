use thiserror::Error;

pub type Result<T, E = MlError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum MlError {
    /// Training or evaluation data missing or malformed.
    #[error("data: {0}")]
    Data(String),
    /// A model reference that names nothing in the registry.
    #[error("no model {0} (see `analisa ml models`)")]
    UnknownModel(String),
    #[error("bad model reference {0:?}: expected default, latest or <name>@<version>")]
    BadReference(String),
    /// An artefact that does not load: wrong kind, damaged weights, unreadable metadata.
    #[error("model {name}: {details}")]
    Artifact { name: String, details: String },
    #[error("model store: {0}")]
    Store(#[from] object_store::Error),
    #[error("input: {0}")]
    Input(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
