//! Prometheus metrics of the API (`/metrics`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};

use crate::state::AppState;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub cache: IntCounterVec,
    pub rate_limited: IntCounter,
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new_custom(Some("analisa_api".into()), None).expect("a valid prefix");
        let requests = IntCounterVec::new(Opts::new("requests_total", "HTTP requests by route and status"), &["method", "route", "status"]).expect("valid");
        let latency = HistogramVec::new(
            HistogramOpts::new("request_duration_seconds", "HTTP request latency").buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
            &["method", "route"],
        )
        .expect("valid");
        let cache = IntCounterVec::new(Opts::new("cache_total", "Answer cache lookups by outcome (near_hit: in process, hit: Redis, miss, bypass: Redis down)"), &["outcome"]).expect("valid");
        let rate_limited = IntCounter::new("rate_limited_total", "Requests refused by the rate limiter").expect("valid");
        for collector in [Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>, Box::new(latency.clone()), Box::new(cache.clone()), Box::new(rate_limited.clone())] {
            registry.register(collector).expect("registered once");
        }
        Self { registry, requests, latency, cache, rate_limited }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer).expect("text encoding");
        String::from_utf8(buffer).expect("prometheus text is UTF-8")
    }
}

/// Counts and times every request by its route template (never the raw path: ids would
/// explode the label set).
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.latency.with_label_values(&[&method, &route]).observe(started.elapsed().as_secs_f64());
    state.metrics.requests.with_label_values(&[&method, &route, response.status().as_str()]).inc();
    response
}
