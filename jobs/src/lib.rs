//! Analisa's batch pipeline: the bronze → silver → gold steps (their SQL lives in `sql/`),
//! publishing gold to PostgreSQL and Redis, report exports and retention, with a run ledger
//! and a scheduler. The steps arrive with the pipeline issue; the lake they run on is `lake`.
