//! The ceiling benchmark B5 compares the API with: a bare axum "hello" on the same machine,
//! same runtime, no middleware. `cargo run --release -p analisa-query-api --example bare_axum -- 127.0.0.1:8099`

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8099".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, Router::new().route("/", get(|| async { "hello" }))).await
}
