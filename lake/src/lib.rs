//! Analisa's lake: where the data lives and how it is read and written.
//!
//! - [`store`]: one object-store factory for `file://`, `s3://` and `memory://` roots;
//! - [`catalog`]: every bronze, silver and gold table with schema, partitions and keys;
//! - [`Lake`]: the Delta operations the pipeline uses (create, append, upsert, delete,
//!   optimize, vacuum, checkpoint, time travel);
//! - [`LakeSession`]: a DataFusion session with every table registered under the schemas
//!   `bronze`, `silver` and `gold`, on a bounded memory pool that spills to disk.

pub mod catalog;
pub mod config;
mod delta;
mod error;
mod session;
pub mod store;

pub use catalog::{Layer, TableDef, TableId};
pub use config::{LakeConfig, S3Config};
pub use delta::{AsOf, Lake, TableInfo, WriteOutcome};
pub use error::{LakeError, Result};
pub use session::{CATALOG, LakeSession, LoadedTable, with_own_pool};
