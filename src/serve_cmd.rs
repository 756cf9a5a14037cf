//! `analisa serve` (the HTTP API) and `analisa audit verify`.

use std::net::SocketAddr;

use analisa_lake::Lake;
use analisa_query_api::{Api, Verdict};
use clap::{Args, Subcommand};
use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::config::AppConfig;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides http.listen), e.g. 0.0.0.0:8080.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

pub fn api(config: &AppConfig, db: PgPool) -> anyhow::Result<Api> {
    let lake = Lake::open(&config.lake)?;
    Ok(Api::new(db, config.redis.url.expose_secret(), &config.ingest.redis_prefix, Some(lake), config.api.clone())?)
}

pub async fn serve(args: ServeArgs, config: &AppConfig) -> anyhow::Result<()> {
    let db = crate::database::connect(config).await?;
    let api = api(config, db)?;
    let listen = args.listen.unwrap_or(config.http.listen);
    listen_and_serve(&api, listen).await
}

pub async fn listen_and_serve(api: &Api, listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    // The bound address (port 0 picks one): tests and scripts read this line.
    println!("listening on http://{}", listener.local_addr()?);
    api.serve(listener, crate::sim_cmd::shutdown_signal()).await?;
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Checks the audit log's hash chain from its first row to its last.
    Verify,
}

pub async fn audit(command: AuditCommand, config: &AppConfig) -> anyhow::Result<()> {
    let db = crate::database::connect(config).await?;
    match command {
        AuditCommand::Verify => match analisa_query_api::verify_audit_log(&db).await? {
            Verdict::Intact { rows } => println!("audit log intact: {rows} rows, every hash and link verified"),
            Verdict::Broken { seq, reason } => anyhow::bail!("audit log BROKEN at row {seq}: {reason}"),
        },
    }
    Ok(())
}
