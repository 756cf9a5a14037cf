//! PostgreSQL: connecting and migrating (`analisa migrate`).

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::AppConfig;

/// The migrations in `migrations/`, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub async fn connect(config: &AppConfig) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(config.database.url.expose_secret())
        .await
        // The URL may hold a password: it is not repeated in the message.
        .context("cannot connect to PostgreSQL (database.url)")
}

/// Applies every migration not applied yet.
pub async fn migrate(config: &AppConfig) -> anyhow::Result<()> {
    let pool = connect(config).await?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    println!("database schema is up to date ({} migrations)", MIGRATOR.iter().count());
    Ok(())
}
