//! Rate limits as the platforms enforce them, with budgets set per run.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Budgets; every number is "calls allowed per window".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budgets {
    /// Meta Platform limit for the app, per rolling hour (`X-App-Usage`, code 4).
    pub meta_app_per_hour: u64,
    /// Meta Business Use Case limit per IG account or Page, per rolling hour
    /// (`X-Business-Use-Case-Usage`, codes 80002 / 80001).
    pub meta_object_per_hour: u64,
    /// TikTok API for Business calls per second for the app (code 40100).
    pub tiktok_business_per_second: u64,
    /// TikTok Display API calls per minute per endpoint, sliding window (HTTP 429).
    pub tiktok_display_per_minute: u64,
    /// GA4 requests per property per hour (`tokensPerHour`, 10 tokens a request).
    pub ga4_per_hour: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            meta_app_per_hour: 200_000,
            meta_object_per_hour: 20_000,
            tiktok_business_per_second: 200,
            tiktok_display_per_minute: 600,
            ga4_per_hour: 4_000,
        }
    }
}

impl Budgets {
    /// Parses `meta_app=100,meta_object=50,tiktok_business=5,tiktok_display=60,ga4=10`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut budgets = Budgets::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("`{part}` is not key=value"))?;
            let value: u64 = value.parse().map_err(|_| format!("`{value}` is not a whole number in `{part}`"))?;
            match key {
                "meta_app" => budgets.meta_app_per_hour = value,
                "meta_object" => budgets.meta_object_per_hour = value,
                "tiktok_business" => budgets.tiktok_business_per_second = value,
                "tiktok_display" => budgets.tiktok_display_per_minute = value,
                "ga4" => budgets.ga4_per_hour = value,
                other => return Err(format!("unknown budget `{other}` (meta_app, meta_object, tiktok_business, tiktok_display, ga4)")),
            }
        }
        Ok(budgets)
    }
}

/// What a limiter says about one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// Calls in the window, this one included, as a share of the budget (0–100+).
    pub percent: u64,
    pub allowed: bool,
    /// When the oldest call leaves the window.
    pub retry_after: Duration,
}

/// Sliding-window counters keyed by (limit, object).
#[derive(Debug, Default)]
pub struct Limits {
    pub budgets: Budgets,
    windows: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limits {
    pub fn new(budgets: Budgets) -> Self {
        Self { budgets, windows: Mutex::default() }
    }

    /// Records a call against `key` unless the window is full. Refused calls are not counted:
    /// they never reached the platform's work.
    pub fn take(&self, key: &str, budget: u64, window: Duration) -> Usage {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("limits lock");
        let calls = windows.entry(key.to_owned()).or_default();
        while calls.front().is_some_and(|t| now.duration_since(*t) >= window) {
            calls.pop_front();
        }
        let retry_after = calls.front().map_or(Duration::ZERO, |t| window.saturating_sub(now.duration_since(*t)));
        if calls.len() as u64 >= budget {
            return Usage { percent: 100 * calls.len() as u64 / budget.max(1), allowed: false, retry_after };
        }
        calls.push_back(now);
        Usage { percent: 100 * calls.len() as u64 / budget.max(1), allowed: true, retry_after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_holds_its_budget_and_frees_up() {
        let limits = Limits::new(Budgets::default());
        for i in 1..=3 {
            let usage = limits.take("k", 3, Duration::from_millis(200));
            assert!(usage.allowed);
            assert_eq!(usage.percent, i * 100 / 3);
        }
        let refused = limits.take("k", 3, Duration::from_millis(200));
        assert!(!refused.allowed && refused.retry_after > Duration::ZERO);
        assert!(limits.take("other", 3, Duration::from_millis(200)).allowed, "keys are independent");
        std::thread::sleep(Duration::from_millis(220));
        assert!(limits.take("k", 3, Duration::from_millis(200)).allowed);
    }

    #[test]
    fn budgets_parse() {
        let b = Budgets::parse("meta_app=100, tiktok_display=60").unwrap();
        assert_eq!((b.meta_app_per_hour, b.tiktok_display_per_minute), (100, 60));
        assert!(Budgets::parse("nope=1").unwrap_err().contains("unknown budget"));
        assert!(Budgets::parse("ga4=x").is_err());
    }
}
