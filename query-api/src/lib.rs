//! Analisa's HTTP API (axum): auth, organisations, influencers, analytics, SQL, reports and
//! compliance; the Arrow Flight SQL endpoint; and the host of the `web/` dashboard.
//! It listens on `http.listen` and `flight_sql.listen`.
