//! Analisa's models (burn, flex CPU backend): the pt-BR/English sentiment classifier, the
//! follower-growth forecaster, their evaluation, and the model registry on the lake's object
//! store.

pub mod data;
mod error;
pub mod eval;
pub mod forecast;
pub mod metrics;
pub mod registry;
pub mod sentiment;
pub mod text;

pub use error::{MlError, Result};
pub use registry::{Artifact, ForecastModel, ModelCard, ModelName, ModelRef, Registry, SentimentModel};
