//! Instagram (with Facebook Login or Instagram Login) and Facebook Pages.

use chrono::{Duration, TimeZone, Utc};
use serde_json::Value;
use url::Url;

use super::{Collector, endpoint, tolerate};
use crate::fetch::{Call, FetchError, Fetched};
use crate::platforms::{Platform, PlatformConfig};
use crate::target::Target;

const IG_PROFILE: &str = "id,username,name,biography,followers_count,follows_count,media_count,profile_picture_url,website";
const IG_MEDIA: &str = "id,caption,media_type,media_product_type,timestamp,permalink,like_count,comments_count";
/// Top-level comments with their replies expanded (the edge lists top-level ones only).
const IG_COMMENTS: &str = "id,text,timestamp,username,like_count,from,parent_id,replies{id,text,timestamp,username,like_count,from,parent_id}";
/// Account insights asked for (current names; retired ones drop out as the platform says so).
const IG_ACCOUNT_METRICS: [&str; 7] = ["reach", "views", "accounts_engaged", "total_interactions", "likes", "comments", "follower_count"];
/// Media insights by API version: `views` replaced `impressions` in v22 (and `impressions`
/// died for every version in April 2025, which the catalogue learns from the refusal).
const IG_MEDIA_METRICS: [&str; 6] = ["reach", "views", "saved", "shares", "likes", "total_interactions"];
const IG_MEDIA_METRICS_V21: [&str; 6] = ["reach", "impressions", "saved", "shares", "likes", "total_interactions"];

fn media_metrics(api_version: &str) -> &'static [&'static str] {
    let major: u32 = api_version.trim_start_matches('v').split('.').next().and_then(|v| v.parse().ok()).unwrap_or(u32::MAX);
    if major <= 21 { &IG_MEDIA_METRICS_V21 } else { &IG_MEDIA_METRICS }
}
const DEMOGRAPHIC_BREAKDOWNS: [&str; 4] = ["country", "city", "age", "gender"];
const PAGE_FIELDS: &str = "id,name,username,fan_count,followers_count,link,category,about,verification_status";
const PAGE_POST_FIELDS: &str = "id,message,created_time,permalink_url,status_type,shares,reactions.summary(total_count).limit(0)";
const PAGE_COMMENTS: &str = "id,message,created_time,from";
const PAGE_METRICS: [&str; 6] = ["page_post_engagements", "page_follows", "page_daily_follows_unique", "page_daily_unfollows_unique", "page_media_view", "page_total_media_view_unique"];
const POST_METRICS: [&str; 3] = ["post_reactions_by_type_total", "post_media_view", "post_total_media_view_unique"];

/// The Graph API host and token to use for an account.
struct Graph<'a> {
    config: &'a PlatformConfig,
    token: &'a str,
    data_platform: Platform,
    account: &'a str,
}

impl Graph<'_> {
    fn url(&self, path: &str, params: &[(&str, &str)]) -> Url {
        let mut url = endpoint(&self.config.base_url, &format!("{}/{path}", self.config.api_version));
        url.query_pairs_mut().extend_pairs(params.iter().copied()).append_pair("access_token", self.token);
        url
    }

    fn call(&self, endpoint: &'static str, url: Url) -> Call {
        Call::get(self.data_platform, endpoint, &self.config.api_version, self.account, url)
    }

    /// Follows `paging.next` until the platform stops giving one; every page is landed.
    async fn pages(&self, collector: &Collector, endpoint: &'static str, first: Url) -> Result<Vec<Value>, FetchError> {
        let mut items = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut next = Some(first);
        while let Some(url) = next {
            seen.insert(url.to_string());
            let Fetched { json, .. } = collector.call(self.call(endpoint, url)).await?;
            let page = json["data"].as_array().cloned().unwrap_or_default();
            let empty = page.is_empty();
            items.extend(page);
            // Stop when `next` is absent; also on an empty page or a `next` already followed,
            // so a platform quirk cannot keep a collector going round forever.
            next = json["paging"]["next"].as_str().and_then(|n| Url::parse(n).ok()).filter(|n| !empty && !seen.contains(n.as_str()));
        }
        Ok(items)
    }

    /// The comments of a post that did not come expanded in it: the pages after the expanded
    /// ones (`comments.paging.next`), or all of the edge when the answer left them out although
    /// the post has comments.
    async fn remaining_comments(&self, collector: &Collector, post: &Value, has_comments: bool, endpoint: &'static str, edge: impl FnOnce() -> Url, notes: &mut Vec<String>) -> Result<(), FetchError> {
        let expanded = &post["comments"];
        let first = match expanded["paging"]["next"].as_str() {
            Some(next) => Url::parse(next).ok(),
            None if has_comments && expanded["data"].as_array().is_none_or(Vec::is_empty) => Some(edge()),
            None => None,
        };
        if let Some(first) = first {
            tolerate_pages(self.pages(collector, endpoint, first).await, notes)?;
        }
        Ok(())
    }

    /// Insights with the metric catalogue: a metric the platform names as retired is removed
    /// (for this and later requests) and the call is made again with the rest. A refusal that
    /// names no metric is narrowed down by asking for each metric alone, and only a metric
    /// refused on its own is retired.
    async fn insights(&self, collector: &Collector, endpoint: &'static str, object: &str, catalogue: &[&str], params: &[(&str, &str)], notes: &mut Vec<String>) -> Result<(), FetchError> {
        let mut metrics = collector.current(self.data_platform, catalogue);
        while !metrics.is_empty() {
            match self.insights_call(collector, endpoint, object, &metrics, params).await {
                Ok(()) => return Ok(()),
                Err(FetchError::Refused { message, .. }) => match refused_metric(&message, &metrics) {
                    Some(bad) => {
                        if message.contains("for this media product type") {
                            notes.push(format!("{endpoint} {object}: {message}"));
                        } else {
                            collector.retire(self.data_platform, &bad, &message);
                        }
                        metrics.retain(|m| *m != bad);
                    }
                    None if metrics.len() > 1 && message.contains("valid insights metric") => {
                        for metric in std::mem::take(&mut metrics) {
                            match self.insights_call(collector, endpoint, object, std::slice::from_ref(&metric), params).await {
                                Ok(()) => {}
                                Err(FetchError::Refused { message, .. }) if message.contains("valid insights metric") => collector.retire(self.data_platform, &metric, &message),
                                Err(FetchError::Refused { message, .. }) => notes.push(format!("{endpoint} {object} {metric}: {message}")),
                                Err(other) => return Err(other),
                            }
                        }
                    }
                    None => {
                        notes.push(format!("{endpoint} {object}: {message}"));
                        return Ok(());
                    }
                },
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    async fn insights_call(&self, collector: &Collector, endpoint: &'static str, object: &str, metrics: &[String], params: &[(&str, &str)]) -> Result<(), FetchError> {
        let joined = metrics.join(",");
        let mut all: Vec<(&str, &str)> = vec![("metric", joined.as_str())];
        all.extend_from_slice(params);
        collector.call(self.call(endpoint, self.url(&format!("{object}/insights"), &all))).await.map(|_| ())
    }
}

/// Which metric an insights refusal is about: `metric[2] must be one of …` names its index;
/// `does not support the replies metric` names it; a bare "valid insights metric" names none,
/// and then the request is narrowed one metric at a time from the end.
fn refused_metric(message: &str, metrics: &[String]) -> Option<String> {
    if let Some(rest) = message.split("metric[").nth(1) {
        let index: usize = rest.split(']').next()?.parse().ok()?;
        return metrics.get(index).cloned();
    }
    if let Some(rest) = message.split("does not support the ").nth(1) {
        let names = rest.split(" metric").next()?;
        return names.split(", ").find_map(|n| metrics.iter().find(|m| *m == n).cloned());
    }
    None
}

/// Pages of a secondary edge: a definite refusal is noted and the account goes on.
fn tolerate_pages(result: Result<Vec<Value>, FetchError>, notes: &mut Vec<String>) -> Result<Vec<Value>, FetchError> {
    match result {
        Err(FetchError::Refused { endpoint, message, .. }) => {
            notes.push(format!("{endpoint}: {message}"));
            Ok(Vec::new())
        }
        other => other,
    }
}

fn unix(date: chrono::NaiveDate) -> String {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight")).timestamp().to_string()
}

pub async fn instagram(collector: &Collector, target: &Target, notes: &mut Vec<String>) -> Result<(), FetchError> {
    // Facebook Login (graph.facebook.com) when the creator connected through a Page,
    // Instagram Login (graph.instagram.com) otherwise.
    let (config, token) = match (&target.tokens.facebook, &target.tokens.instagram) {
        (Some(t), _) => (&collector.platforms.facebook, t.access_token.as_str()),
        (None, Some(t)) => (&collector.platforms.instagram, t.access_token.as_str()),
        (None, None) => return business_discovery(collector, target, true, notes).await,
    };
    let graph = Graph { config, token, data_platform: Platform::Instagram, account: &target.account_id };
    let id = &target.account_id;
    collector.call(graph.call("ig_user", graph.url(id, &[("fields", IG_PROFILE)]))).await?;
    // Each medium with its first comments: they come with it instead of costing one more
    // request per post (the edge is asked only for the rest).
    let fields = format!("{IG_MEDIA},comments.limit({}){{{IG_COMMENTS}}}", collector.comments_expanded);
    let media = graph.pages(collector, "media", graph.url(&format!("{id}/media"), &[("fields", &fields), ("limit", "100")])).await?;
    for item in &media {
        let has_comments = item["comments_count"].as_i64().unwrap_or(0) > 0;
        let media_id = item["id"].as_str().unwrap_or_default();
        graph.remaining_comments(collector, item, has_comments, "comments", || graph.url(&format!("{media_id}/comments"), &[("fields", IG_COMMENTS), ("limit", "100")]), notes).await?;
    }
    if target.connected {
        let until = collector.today();
        let since = until - Duration::days(collector.window_days - 1);
        let (since, until) = (unix(since), unix(until));
        graph.insights(collector, "account_insights", id, &IG_ACCOUNT_METRICS, &[("period", "day"), ("since", &since), ("until", &until)], notes).await?;
        for breakdown in DEMOGRAPHIC_BREAKDOWNS {
            graph.insights(collector, "audience_insights", id, &["follower_demographics"], &[("period", "lifetime"), ("metric_type", "total_value"), ("timeframe", "this_month"), ("breakdown", breakdown)], notes).await?;
        }
        let stories = tolerate_pages(graph.pages(collector, "stories", graph.url(&format!("{id}/stories"), &[("fields", IG_MEDIA)])).await, notes)?;
        let recent = collector.now() - Duration::days(collector.window_days);
        for item in media.iter().chain(&stories) {
            let fresh = item["timestamp"].as_str().and_then(|t| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok()).is_some_and(|t| t > recent);
            if fresh {
                graph.insights(collector, "media_insights", item["id"].as_str().unwrap_or_default(), media_metrics(&config.api_version), &[], notes).await?;
            }
        }
    }
    Ok(())
}

/// The profile's counters only: `ig_user` with the account's own token, else
/// `business_discovery` without media.
pub async fn instagram_profile(collector: &Collector, target: &Target, notes: &mut Vec<String>) -> Result<(), FetchError> {
    let (config, token) = match (&target.tokens.facebook, &target.tokens.instagram) {
        (Some(t), _) => (&collector.platforms.facebook, t.access_token.as_str()),
        (None, Some(t)) => (&collector.platforms.instagram, t.access_token.as_str()),
        (None, None) => return business_discovery(collector, target, false, notes).await,
    };
    let graph = Graph { config, token, data_platform: Platform::Instagram, account: &target.account_id };
    collector.call(graph.call("ig_user", graph.url(&target.account_id, &[("fields", IG_PROFILE)]))).await?;
    Ok(())
}

/// The Page's counters only.
pub async fn page_profile(collector: &Collector, target: &Target, notes: &mut Vec<String>) -> Result<(), FetchError> {
    let Some(token) = target.tokens.facebook.as_ref() else {
        notes.push("no Facebook token for this Page".into());
        return Ok(());
    };
    let graph = Graph { config: &collector.platforms.facebook, token: &token.access_token, data_platform: Platform::Facebook, account: &target.account_id };
    collector.call(graph.call("page", graph.url(&target.account_id, &[("fields", PAGE_FIELDS)]))).await?;
    Ok(())
}

/// A public business or creator account seen through the operator's own account: its profile,
/// and with `with_media` every page of its media.
async fn business_discovery(collector: &Collector, target: &Target, with_media: bool, notes: &mut Vec<String>) -> Result<(), FetchError> {
    let config = &collector.platforms.facebook;
    let Some(token) = config.access_token.as_ref() else {
        notes.push("no token for this account and no operator token for business_discovery".into());
        return Ok(());
    };
    let token = secrecy::ExposeSecret::expose_secret(token);
    // Ask the operator's own IG user id once: `/me` with its token.
    let graph = Graph { config, token, data_platform: Platform::Instagram, account: &target.account_id };
    let me = collector.call(graph.call("ig_user", graph.url("me", &[("fields", "id")]))).await?;
    let me = me.json["id"].as_str().unwrap_or_default().to_owned();
    let mut after: Option<String> = None;
    loop {
        let media = match (&after, with_media) {
            (_, false) => String::new(),
            (Some(cursor), true) => format!(",media.limit(100).after({cursor}){{{IG_MEDIA}}}"),
            (None, true) => format!(",media.limit(100){{{IG_MEDIA}}}"),
        };
        let fields = format!("business_discovery.username({}){{{IG_PROFILE}{media}}}", target.handle);
        let Some(fetched) = tolerate(collector.call(graph.call("business_discovery", graph.url(&me, &[("fields", &fields)]))).await, notes)? else {
            return Ok(());
        };
        if !with_media {
            return Ok(());
        }
        let media = &fetched.json["business_discovery"]["media"];
        let next = media["paging"]["cursors"]["after"].as_str().map(str::to_owned);
        if next.is_none() || next == after || media["data"].as_array().is_none_or(|d| d.is_empty()) {
            return Ok(());
        }
        after = next;
    }
}

pub async fn page(collector: &Collector, target: &Target, notes: &mut Vec<String>) -> Result<(), FetchError> {
    let Some(token) = target.tokens.facebook.as_ref() else {
        notes.push("no Facebook token for this Page".into());
        return Ok(());
    };
    let graph = Graph { config: &collector.platforms.facebook, token: &token.access_token, data_platform: Platform::Facebook, account: &target.account_id };
    let id = &target.account_id;
    collector.call(graph.call("page", graph.url(id, &[("fields", PAGE_FIELDS)]))).await?;
    // Each post with its counters and first comments (the edge is asked only for the rest).
    let fields = format!("{PAGE_POST_FIELDS},comments.summary(true).limit({}){{{PAGE_COMMENTS}}}", collector.comments_expanded);
    let posts = graph.pages(collector, "page_posts", graph.url(&format!("{id}/posts"), &[("fields", &fields), ("limit", "100")])).await?;
    for post in &posts {
        let has_comments = post["comments"]["summary"]["total_count"].as_i64().unwrap_or(0) > 0;
        let post_id = post["id"].as_str().unwrap_or_default();
        graph.remaining_comments(collector, post, has_comments, "page_post_comments", || graph.url(&format!("{post_id}/comments"), &[("fields", PAGE_COMMENTS), ("limit", "100")]), notes).await?;
    }
    if target.connected {
        let until = collector.today();
        let since = until - Duration::days(collector.window_days);
        let (since, until) = (unix(since), unix(until));
        graph.insights(collector, "page_insights", id, &PAGE_METRICS, &[("period", "day"), ("since", &since), ("until", &until)], notes).await?;
        let recent = collector.now() - Duration::days(collector.window_days);
        for post in &posts {
            let fresh = post["created_time"].as_str().and_then(|t| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok()).is_some_and(|t| t > recent);
            if fresh {
                graph.insights(collector, "post_insights", post["id"].as_str().unwrap_or_default(), &POST_METRICS, &[], notes).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_metric() {
        let metrics: Vec<String> = ["reach", "impressions", "views"].iter().map(|s| s.to_string()).collect();
        assert_eq!(refused_metric("(100) (#100) metric[1] must be one of the following values: reach, views", &metrics).as_deref(), Some("impressions"));
        assert_eq!(refused_metric("(100) (#100) The Media Insights API does not support the views metric for this media product type.", &metrics).as_deref(), Some("views"));
        assert_eq!(refused_metric("(100) (#100) The value must be a valid insights metric", &metrics), None, "no guessing");
        assert_eq!(refused_metric("(10) (#10) Not enough viewers for the media to show insights", &metrics), None);
    }
}
