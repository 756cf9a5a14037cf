//! Connectors against the platform simulator, landing into a real lake.

mod collection;
mod governor;
mod queue;
mod webhooks;
