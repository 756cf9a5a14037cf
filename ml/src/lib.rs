//! Analisa's models (burn): the pt-BR/English sentiment classifier, the follower-growth
//! forecaster, recommendations, and the model registry on the lake's object store.
