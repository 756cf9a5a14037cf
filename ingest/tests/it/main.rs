//! Connectors against the platform simulator, landing into a real lake.

mod collection;
mod freshness;
mod governor;
mod oauth;
mod queue;
mod webhooks;
