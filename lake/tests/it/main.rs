//! Integration tests of the lake on real stores: a local directory, an S3-compatible server
//! (started by `scripts/test`), and an independent Delta reader (Python `deltalake`).

mod bad_input;
mod catalogue;
mod concurrency;
mod python_reader;
mod round_trip;
mod support;
