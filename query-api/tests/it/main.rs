//! The API against real PostgreSQL (a database per test) and Redis (a key prefix per test).

mod support;

mod auth;
mod cache;
mod connections;
mod dashboard;
mod identities;
mod influencers;
mod openapi;
mod reports;
mod sql;
mod tenancy;
