//! Training, persistence and the registry, on small data so that they run in seconds.

mod forecast;
mod registry;
mod sentiment;
