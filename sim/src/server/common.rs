//! Pieces every fake server uses: cursors, time formats, responses with headers.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Graph API timestamps: `2021-08-13T08:25:28+0000`.
pub fn meta_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+0000").to_string()
}

/// An opaque, stable cursor for a position in a list.
pub fn cursor(position: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("pos:{position}"))
}

pub fn parse_cursor(text: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("pos:")?.parse().ok()
}

/// A JSON response with extra headers.
pub fn json(status: StatusCode, body: Value, headers: Vec<(&'static str, String)>) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    add_headers(response.headers_mut(), headers);
    response
}

pub fn add_headers(map: &mut HeaderMap, headers: Vec<(&'static str, String)>) {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            map.insert(HeaderName::from_static(name), value);
        }
    }
}

/// The query string with some parameters replaced or removed (for paging URLs).
pub fn with_params(pairs: &[(String, String)], set: &[(&str, Option<String>)]) -> String {
    let mut out: Vec<(String, String)> = pairs.iter().filter(|(k, _)| !set.iter().any(|(s, _)| s == k)).cloned().collect();
    for (key, value) in set {
        if let Some(value) = value {
            out.push(((*key).to_owned(), value.clone()));
        }
    }
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(out).finish()
}

/// Base URL the client used to reach us, from the Host header.
pub fn origin(headers: &HeaderMap) -> String {
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(parse_cursor(&cursor(42)), Some(42));
        assert_eq!(parse_cursor("garbage!"), None);
        let t = DateTime::parse_from_rfc3339("2021-08-13T08:25:28Z").unwrap().to_utc();
        assert_eq!(meta_time(t), "2021-08-13T08:25:28+0000");
    }
}
