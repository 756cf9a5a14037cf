pub mod auth;
pub mod connections;
pub mod influencers;
pub mod lists;
pub mod ops;
pub mod orgs;
pub mod reports;
pub mod sql;
