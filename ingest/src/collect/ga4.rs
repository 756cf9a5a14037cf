//! GA4 `runReport`: the creator's site traffic by day, source and medium.

use serde_json::json;

use super::{Collector, endpoint, tolerate};
use crate::fetch::{Call, FetchError};
use crate::platforms::Platform;
use crate::target::Target;

const PAGE_ROWS: u64 = 10_000;

pub async fn collect(collector: &Collector, target: &Target, notes: &mut Vec<String>) -> Result<(), FetchError> {
    let Some(property) = &target.ga4 else { return Ok(()) };
    let config = &collector.platforms.ga4;
    let url = endpoint(&config.base_url, &format!("{}/properties/{}:runReport", config.api_version, property.property_id));
    let mut offset = 0u64;
    loop {
        let body = json!({
            "dateRanges": [{ "startDate": format!("{}daysAgo", collector.window_days), "endDate": "yesterday" }],
            "dimensions": [{ "name": "date" }, { "name": "sessionSource" }, { "name": "sessionMedium" }],
            "metrics": [{ "name": "sessions" }, { "name": "activeUsers" }],
            "limit": PAGE_ROWS.to_string(), "offset": offset.to_string(), "returnPropertyQuota": true,
        });
        let call = Call::get(Platform::Ga4, "run_report", &config.api_version, &property.property_id, url.clone()).header("authorization", format!("Bearer {}", property.access_token)).post_json(body);
        let Some(page) = tolerate(collector.call(call).await, notes)? else { return Ok(()) };
        let rows = page.json["rowCount"].as_u64().unwrap_or(0);
        offset += PAGE_ROWS;
        if offset >= rows {
            return Ok(());
        }
    }
}
