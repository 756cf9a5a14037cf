//! `analisa serve` (the HTTP API) and `analisa audit verify`.

use std::io::Write;
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
    /// Address of the Arrow Flight SQL endpoint (overrides flight_sql.listen), e.g. 0.0.0.0:50051.
    #[arg(long)]
    pub flight_sql_listen: Option<SocketAddr>,
}

pub fn api(config: &AppConfig, db: PgPool) -> anyhow::Result<Api> {
    let lake = Lake::open(&config.lake)?;
    let api_config = analisa_query_api::ApiConfig { report_smtp: config.reports.smtp.clone(), ..config.api.clone() };
    let connections = crate::ingest_cmd::connection_store(config, db.clone())?;
    let api = Api::new(db, config.redis.url.expose_secret(), &config.ingest.redis_prefix, Some(lake), api_config)?;
    Ok(match connections {
        Some(connections) => api.with_connections(connections),
        None => api,
    })
}

pub async fn serve(args: ServeArgs, config: &AppConfig) -> anyhow::Result<()> {
    let db = crate::database::connect(config).await?;
    let api = api(config, db)?;
    let listen = args.listen.unwrap_or(config.http.listen);
    let flight_listen = args.flight_sql_listen.unwrap_or(config.flight_sql.listen);
    listen_and_serve(&api, listen, flight_listen).await
}

/// Serves HTTP and Flight SQL side by side until a shutdown signal, when both stop.
pub async fn listen_and_serve(api: &Api, listen: SocketAddr, flight_listen: SocketAddr) -> anyhow::Result<()> {
    let bind = |address: SocketAddr| async move { tokio::net::TcpListener::bind(address).await.map_err(|e| anyhow::anyhow!("cannot listen on {address}: {e}")) };
    let listener = bind(listen).await?;
    let flight_listener = bind(flight_listen).await?;
    // The bound addresses (port 0 picks one): tests and scripts read these lines. A reader that
    // stops after the first line must not take the server down, so write errors are ignored.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on http://{}", listener.local_addr()?);
    let _ = writeln!(out, "flight sql listening on grpc://{}", flight_listener.local_addr()?);
    let _ = out.flush();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        crate::sim_cmd::shutdown_signal().await;
        let _ = stop.send(true);
    });
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        }
    };
    tokio::try_join!(
        async { api.serve(listener, until_stopped()).await.map_err(anyhow::Error::from) },
        async { api.serve_flight_sql(flight_listener, until_stopped()).await.map_err(anyhow::Error::from) },
    )?;
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
