//! The model registry: versioned artefacts on the lake's object store under
//! `models/<name>/<version>/` (a card with settings, metrics and the training-data fingerprint,
//! the burnpack weights, and for the classifier its lexicons), plus the small defaults built
//! into the binary, so that scoring never needs a training run or a download.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{MlError, Result};
use crate::forecast::{ForecastShape, Forecaster};
use crate::sentiment::{Classifier, SentimentShape};
use crate::text::Lexicons;

/// The models Analisa has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelName {
    Sentiment,
    Forecast,
}

impl ModelName {
    pub const ALL: [ModelName; 2] = [ModelName::Sentiment, ModelName::Forecast];

    pub fn as_str(self) -> &'static str {
        match self {
            ModelName::Sentiment => "sentiment",
            ModelName::Forecast => "forecast",
        }
    }
}

impl FromStr for ModelName {
    type Err = MlError;

    fn from_str(s: &str) -> Result<Self> {
        ModelName::ALL.into_iter().find(|n| n.as_str() == s).ok_or_else(|| MlError::UnknownModel(s.to_owned()))
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which version a caller asks for: `default` (built in), `latest` (newest in the registry) or
/// `<name>@<version>` (also `<name>@default`, `<name>@latest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelRef {
    Default,
    Latest,
    Version(String),
}

impl ModelRef {
    /// Parses a reference for model `name`; a reference naming another model is refused.
    pub fn parse(s: &str, name: ModelName) -> Result<Self> {
        let version = match s.split_once('@') {
            Some((n, v)) if n == name.as_str() => v,
            Some(_) => return Err(MlError::BadReference(format!("{s} (this command takes a {name} model)"))),
            None => s,
        };
        match version {
            "" => Err(MlError::BadReference(s.to_owned())),
            "default" => Ok(ModelRef::Default),
            "latest" => Ok(ModelRef::Latest),
            v if s.contains('@') && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') => Ok(ModelRef::Version(v.to_owned())),
            _ => Err(MlError::BadReference(s.to_owned())),
        }
    }
}

/// What is stored beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub name: ModelName,
    pub version: String,
    pub created_at: DateTime<Utc>,
    /// The network's shape (needed to load the weights).
    pub shape: serde_json::Value,
    /// The training run's settings, seed included.
    pub settings: serde_json::Value,
    /// SHA-256 over the training data (and lexicons): what the model was trained on.
    pub data_fingerprint: String,
    /// Held-out measures taken right after training.
    pub metrics: serde_json::Value,
}

impl ModelCard {
    /// The card of weights trained just now: versioned by today and their digest.
    pub fn new(name: ModelName, weights: &[u8], shape: serde_json::Value, settings: serde_json::Value, data_fingerprint: String, metrics: serde_json::Value) -> Self {
        let created_at = Utc::now();
        Self { name, version: version_for(created_at, weights), created_at, shape, settings, data_fingerprint, metrics }
    }

    /// `<name>@<version>`, as the pipeline writes it into every scored row.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// A model's files.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub card: ModelCard,
    pub weights: Vec<u8>,
    /// The classifier's lexicons (JSON); none for the forecaster.
    pub assets: Option<Vec<u8>>,
}

/// A version named after the day and a digest of the weights file.
fn version_for(created_at: DateTime<Utc>, weights: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(weights));
    format!("{}-{}", created_at.format("%Y%m%d"), &digest[..10])
}

/// A loaded classifier with its card.
#[derive(Debug)]
pub struct SentimentModel {
    pub card: ModelCard,
    pub classifier: Classifier,
}

/// A loaded forecaster with its card.
#[derive(Debug)]
pub struct ForecastModel {
    pub card: ModelCard,
    pub forecaster: Forecaster,
}

impl Artifact {
    pub fn sentiment(card: ModelCard, classifier: &Classifier) -> Result<Self> {
        let assets = serde_json::to_vec(classifier.lexicons()).expect("lexicons serialise");
        Ok(Self { card, weights: classifier.weights()?, assets: Some(assets) })
    }

    pub fn forecast(card: ModelCard, forecaster: &Forecaster) -> Result<Self> {
        Ok(Self { card, weights: forecaster.weights()?, assets: None })
    }

    fn broken(&self, details: impl fmt::Display) -> MlError {
        MlError::Artifact { name: self.card.id(), details: details.to_string() }
    }

    pub fn into_sentiment(self) -> Result<SentimentModel> {
        if self.card.name != ModelName::Sentiment {
            return Err(self.broken("is not a sentiment model"));
        }
        let shape: SentimentShape = serde_json::from_value(self.card.shape.clone()).map_err(|e| self.broken(e))?;
        let lexicons: Lexicons = serde_json::from_slice(self.assets.as_deref().unwrap_or_default()).map_err(|e| self.broken(format!("lexicons: {e}")))?;
        let classifier = Classifier::from_parts(shape, lexicons, &self.weights)?;
        Ok(SentimentModel { card: self.card, classifier })
    }

    pub fn into_forecast(self) -> Result<ForecastModel> {
        if self.card.name != ModelName::Forecast {
            return Err(self.broken("is not a forecast model"));
        }
        let shape: ForecastShape = serde_json::from_value(self.card.shape.clone()).map_err(|e| self.broken(e))?;
        let forecaster = Forecaster::from_parts(shape, &self.weights)?;
        Ok(ForecastModel { card: self.card, forecaster })
    }

    /// The artefact built into the binary (committed under `ml/models/`, reproducible with
    /// `analisa ml train`).
    pub fn builtin(name: ModelName) -> Result<Self> {
        let (card, weights, assets): (&[u8], &[u8], Option<&[u8]>) = match name {
            ModelName::Sentiment => (include_bytes!("../models/sentiment/card.json"), include_bytes!("../models/sentiment/weights.bpk"), Some(include_bytes!("../models/sentiment/assets.json"))),
            ModelName::Forecast => (include_bytes!("../models/forecast/card.json"), include_bytes!("../models/forecast/weights.bpk"), None),
        };
        let card: ModelCard = serde_json::from_slice(card).map_err(|e| MlError::Artifact { name: format!("{name}@default"), details: e.to_string() })?;
        Ok(Self { card, weights: weights.to_vec(), assets: assets.map(<[u8]>::to_vec) })
    }

    /// Writes the artefact into a folder (how the defaults under `ml/models/` are made).
    pub fn write_to(&self, dir: &std::path::Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("weights.bpk"), &self.weights)?;
        if let Some(assets) = &self.assets {
            std::fs::write(dir.join("assets.json"), assets)?;
        }
        std::fs::write(dir.join("card.json"), serde_json::to_vec_pretty(&self.card).expect("card serialises"))?;
        Ok(())
    }
}

/// Model versions on an object store.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Arc<dyn ObjectStore>,
    root: ObjectPath,
}

impl Registry {
    /// `root` is the `models/` folder of the lake.
    pub fn new(store: Arc<dyn ObjectStore>, root: ObjectPath) -> Self {
        Self { store, root }
    }

    fn path(&self, name: ModelName, version: &str, file: &str) -> ObjectPath {
        self.root.clone().join(name.as_str()).join(version).join(file)
    }

    /// Stores an artefact; the card goes last, so a half-written version is never listed.
    pub async fn save(&self, artifact: &Artifact) -> Result<()> {
        let (name, version) = (artifact.card.name, artifact.card.version.as_str());
        self.store.put(&self.path(name, version, "weights.bpk"), PutPayload::from(Bytes::from(artifact.weights.clone()))).await?;
        if let Some(assets) = &artifact.assets {
            self.store.put(&self.path(name, version, "assets.json"), PutPayload::from(Bytes::from(assets.clone()))).await?;
        }
        let card = serde_json::to_vec_pretty(&artifact.card).expect("card serialises");
        self.store.put(&self.path(name, version, "card.json"), PutPayload::from(Bytes::from(card))).await?;
        Ok(())
    }

    /// Every stored version's card, oldest first.
    pub async fn list(&self) -> Result<Vec<ModelCard>> {
        let mut cards = Vec::new();
        let objects: Vec<_> = self.store.list(Some(&self.root)).try_collect().await?;
        for object in objects.iter().filter(|o| o.location.filename() == Some("card.json")) {
            let bytes = self.store.get(&object.location).await?.bytes().await?;
            match serde_json::from_slice::<ModelCard>(&bytes) {
                Ok(card) => cards.push(card),
                Err(e) => tracing::warn!(path = %object.location, error = %e, "unreadable model card skipped"),
            }
        }
        cards.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.version.cmp(&b.version)));
        Ok(cards)
    }

    /// Loads what `reference` names for model `name`.
    pub async fn load(&self, name: ModelName, reference: &ModelRef) -> Result<Artifact> {
        let version = match reference {
            ModelRef::Default => return Artifact::builtin(name),
            ModelRef::Latest => self
                .list()
                .await?
                .into_iter()
                .filter(|c| c.name == name)
                .next_back()
                .map(|c| c.version)
                .ok_or_else(|| MlError::UnknownModel(format!("{name}@latest (none trained into this lake yet)")))?,
            ModelRef::Version(v) => v.clone(),
        };
        let read = |file: &'static str| {
            let path = self.path(name, &version, file);
            async move {
                match self.store.get(&path).await {
                    Ok(r) => Ok(Some(r.bytes().await?.to_vec())),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(MlError::from(e)),
                }
            }
        };
        let card = read("card.json").await?.ok_or_else(|| MlError::UnknownModel(format!("{name}@{version}")))?;
        let card: ModelCard = serde_json::from_slice(&card).map_err(|e| MlError::Artifact { name: format!("{name}@{version}"), details: e.to_string() })?;
        let weights = read("weights.bpk").await?.ok_or_else(|| MlError::Artifact { name: card.id(), details: "weights missing".into() })?;
        let assets = read("assets.json").await?;
        Ok(Artifact { card, weights, assets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse() {
        let s = ModelName::Sentiment;
        assert_eq!(ModelRef::parse("default", s).unwrap(), ModelRef::Default);
        assert_eq!(ModelRef::parse("latest", s).unwrap(), ModelRef::Latest);
        assert_eq!(ModelRef::parse("sentiment@latest", s).unwrap(), ModelRef::Latest);
        assert_eq!(ModelRef::parse("sentiment@20261129-abc", s).unwrap(), ModelRef::Version("20261129-abc".into()));
        assert!(ModelRef::parse("forecast@1", s).is_err());
        assert!(ModelRef::parse("sentiment@../../etc", s).is_err());
        assert!(ModelRef::parse("sentiment@", s).is_err());
        assert!(ModelRef::parse("whatever", s).is_err());
    }
}
