use std::sync::Arc;

use analisa_ml::{Artifact, MlError, ModelName, ModelRef, Registry};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};

fn registry() -> (Registry, Arc<InMemory>) {
    let store = Arc::new(InMemory::new());
    (Registry::new(store.clone(), Path::from("lake/models")), store)
}

#[tokio::test]
async fn versions_are_saved_listed_and_loaded() {
    let (registry, store) = registry();
    assert!(matches!(registry.load(ModelName::Sentiment, &ModelRef::Latest).await, Err(MlError::UnknownModel(_))));
    let builtin = Artifact::builtin(ModelName::Sentiment).unwrap();
    let mut newer = builtin.clone();
    newer.card.version = "29991231-newer".into();
    newer.card.created_at = builtin.card.created_at + chrono::Duration::days(1);
    registry.save(&builtin).await.unwrap();
    registry.save(&newer).await.unwrap();
    registry.save(&Artifact::builtin(ModelName::Forecast).unwrap()).await.unwrap();
    let listed: Vec<String> = registry.list().await.unwrap().iter().map(|c| c.id()).collect();
    assert_eq!(listed.len(), 3);
    assert!(store.head(&Path::from(format!("lake/models/sentiment/{}/weights.bpk", builtin.card.version))).await.is_ok());

    let latest = registry.load(ModelName::Sentiment, &ModelRef::Latest).await.unwrap();
    assert_eq!(latest.card.version, "29991231-newer");
    let exact = registry.load(ModelName::Sentiment, &ModelRef::Version(builtin.card.version.clone())).await.unwrap();
    assert_eq!(exact, builtin);
    let model = exact.into_sentiment().unwrap();
    assert_eq!(model.classifier.predict(&["amei"]), Artifact::builtin(ModelName::Sentiment).unwrap().into_sentiment().unwrap().classifier.predict(&["amei"]));
    assert!(matches!(registry.load(ModelName::Sentiment, &ModelRef::Version("nope".into())).await, Err(MlError::UnknownModel(_))));
    // A forecaster's files are not a sentiment model.
    let forecast = registry.load(ModelName::Forecast, &ModelRef::Latest).await.unwrap();
    let mut mislabelled = forecast.clone();
    mislabelled.card.name = ModelName::Sentiment;
    assert!(mislabelled.into_sentiment().is_err());
}

#[tokio::test]
async fn damaged_artefacts_are_refused_not_half_loaded() {
    let (registry, store) = registry();
    let builtin = Artifact::builtin(ModelName::Forecast).unwrap();
    registry.save(&builtin).await.unwrap();
    let weights = Path::from(format!("lake/models/forecast/{}/weights.bpk", builtin.card.version));
    store.put(&weights, PutPayload::from_static(b"not burnpack")).await.unwrap();
    let loaded = registry.load(ModelName::Forecast, &ModelRef::Latest).await.unwrap();
    let err = loaded.into_forecast().unwrap_err();
    assert!(matches!(err, MlError::Artifact { .. }), "{err}");
    // An unreadable card is skipped by the listing instead of breaking it.
    store.put(&Path::from("lake/models/forecast/broken/card.json"), PutPayload::from_static(b"{")).await.unwrap();
    assert_eq!(registry.list().await.unwrap().len(), 1);
}
