//! PostgreSQL: connecting and migrating (`analisa migrate`).

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::AppConfig;

/// The migrations in `migrations/`, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub async fn connect(config: &AppConfig) -> anyhow::Result<PgPool> {
    connect_url(config.database.url.expose_secret()).await
}

pub async fn connect_url(url: &str) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(16)
        // A request waits at most this long for PostgreSQL, then gets a 503.
        .acquire_timeout(std::time::Duration::from_secs(3))
        .connect(url)
        .await
        // The URL may hold a password: it is not repeated in the message.
        .context("cannot connect to PostgreSQL (database.url)")
}

/// Applies every migration not applied yet.
pub async fn migrate(config: &AppConfig) -> anyhow::Result<()> {
    let pool = connect(config).await?;
    apply_migrations(&pool).await?;
    println!("database schema is up to date ({} migrations)", MIGRATOR.iter().count());
    Ok(())
}

pub async fn apply_migrations(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations")
}

/// Drops and recreates the database named in `url` (for `analisa demo`, whose database is its
/// own), connecting to the server's `postgres` database to do it.
pub async fn recreate(url: &str) -> anyhow::Result<PgPool> {
    let mut parsed = url::Url::parse(url).context("database URL")?;
    let name = parsed.path().trim_start_matches('/').to_owned();
    anyhow::ensure!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "the demo database name must be a plain identifier");
    parsed.set_path("/postgres");
    let admin = connect_url(parsed.as_str()).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await?;
    admin.close().await;
    let pool = connect_url(url).await?;
    apply_migrations(&pool).await?;
    Ok(pool)
}
