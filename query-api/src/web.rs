//! The dashboard's static files (the Angular build): client routes fall back to its
//! `index.html`, fingerprinted scripts and stylesheets are cached for good, everything else
//! is revalidated, and unknown API paths stay problem+json 404s rather than HTML.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::problem;

pub(crate) fn dashboard(root: &Path) -> Router {
    let files = ServeDir::new(root).fallback(ServeFile::new(root.join("index.html")));
    Router::new().fallback_service(files).layer(middleware::from_fn(policy))
}

async fn policy(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/v1" || path.starts_with("/v1/") {
        return problem(StatusCode::NOT_FOUND, "not-found", "no such route".into());
    }
    let mut response = next.run(request).await;
    let cache = if response.status().is_success() && fingerprinted(&path) { "public, max-age=31536000, immutable" } else { "no-cache" };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Angular's production build names scripts and stylesheets `<name>-<HASH>.<ext>` with an
/// eight-character upper-case hash, so their content never changes under one name.
fn fingerprinted(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, extension)) = file.rsplit_once('.') else { return false };
    matches!(extension, "js" | "css")
        && stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::fingerprinted;

    #[test]
    fn only_hashed_bundles_count_as_fingerprinted() {
        assert!(fingerprinted("/main-7ZQ4XK2M.js"));
        assert!(fingerprinted("/styles-ABCDEF12.css"));
        assert!(!fingerprinted("/index.html"));
        assert!(!fingerprinted("/favicon.ico"));
        assert!(!fingerprinted("/main.js"));
        assert!(!fingerprinted("/main-lowercase.js"));
        assert!(!fingerprinted("/influencers/instagram:123"));
    }
}
