//! Integration tests of the pipeline: golden tests of the SQL on small fixtures, and runs on a
//! simulated world collected by the real connectors.

mod metrics;
mod models;
mod runs;
mod flags;
mod score;
mod sentiment;
mod support;
mod reports;
mod tracked;
mod world;
