//! TikTok: the API for Business when the creator authorised it, the Display API otherwise.

use chrono::Duration;
use serde_json::{Value, json};

use super::{Collector, endpoint, tolerate};
use crate::fetch::{Call, FetchError};
use crate::platforms::Platform;
use crate::target::Target;

const BUSINESS_FIELDS: &str = r#"["username","display_name","profile_image","bio_description","is_verified","followers_count","following_count","videos_count","total_likes","audience_countries","audience_genders","metrics"]"#;
const BUSINESS_VIDEO_FIELDS: &str = r#"["item_id","create_time","caption","share_url","video_views","video_duration","likes","comments","shares","reach","full_video_watched_rate","average_time_watched"]"#;
const DISPLAY_USER_FIELDS: &str = "open_id,union_id,display_name,avatar_url,bio_description,profile_deep_link,is_verified,username,follower_count,following_count,likes_count,video_count";
const DISPLAY_VIDEO_FIELDS: &str = "id,create_time,share_url,video_description,duration,title,like_count,comment_count,share_count,view_count";

pub async fn collect(collector: &Collector, target: &Target, notes: &mut Vec<String>) -> Result<(), FetchError> {
    match (&target.tokens.tiktok_business, &target.tokens.tiktok) {
        (Some(business), _) => collect_business(collector, target, &business.access_token, notes).await,
        (None, Some(display)) => collect_display(collector, target, &display.access_token).await,
        (None, None) => {
            notes.push("no TikTok token for this account".into());
            Ok(())
        }
    }
}

/// The profile's counters only: `business/get` for the collection's day, or `user/info`.
pub async fn profile(collector: &Collector, target: &Target, notes: &mut Vec<String>) -> Result<(), FetchError> {
    match (&target.tokens.tiktok_business, &target.tokens.tiktok) {
        (Some(business), _) => {
            let day = collector.today().to_string();
            collector.call(business_call(collector, target, &business.access_token, "business_get", "business/get/", &[("fields", BUSINESS_FIELDS), ("start_date", &day), ("end_date", &day)])).await?;
        }
        (None, Some(display)) => {
            collector.call(display_user_call(collector, target, &display.access_token)).await?;
        }
        (None, None) => notes.push("no TikTok token for this account".into()),
    }
    Ok(())
}

/// A call to the API for Business about the target (token in the `Access-Token` header).
fn business_call(collector: &Collector, target: &Target, token: &str, endpoint_name: &'static str, path: &str, params: &[(&str, &str)]) -> Call {
    let config = &collector.platforms.tiktok_business;
    let version = &config.api_version;
    let mut url = endpoint(&config.base_url, &format!("{version}/{path}"));
    url.query_pairs_mut().append_pair("business_id", &target.account_id).extend_pairs(params.iter().copied());
    Call::get(Platform::TiktokBusiness, endpoint_name, version, &target.account_id, url).header("access-token", token)
}

fn display_user_call(collector: &Collector, target: &Target, token: &str) -> Call {
    let config = &collector.platforms.tiktok;
    let mut url = endpoint(&config.base_url, &format!("{}/user/info/", config.api_version));
    url.query_pairs_mut().append_pair("fields", DISPLAY_USER_FIELDS);
    Call::get(Platform::Tiktok, "user_info", &config.api_version, &target.account_id, url).header("authorization", format!("Bearer {token}"))
}

async fn collect_business(collector: &Collector, target: &Target, token: &str, notes: &mut Vec<String>) -> Result<(), FetchError> {
    let call = |endpoint_name: &'static str, path: &str, params: &[(&str, &str)]| business_call(collector, target, token, endpoint_name, path, params);
    let end = collector.today();
    let start = end - Duration::days(collector.window_days.min(30) - 1);
    let (start, end) = (start.to_string(), end.to_string());
    collector.call(call("business_get", "business/get/", &[("fields", BUSINESS_FIELDS), ("start_date", &start), ("end_date", &end)])).await?;
    let mut cursor: Option<i64> = None;
    let mut videos: Vec<Value> = Vec::new();
    loop {
        let cursor_text = cursor.map(|c| c.to_string());
        let mut params = vec![("fields", BUSINESS_VIDEO_FIELDS), ("max_count", "20")];
        if let Some(c) = &cursor_text {
            params.push(("cursor", c));
        }
        let page = collector.call(call("video_list", "business/video/list/", &params)).await?;
        let batch = page.json["data"]["videos"].as_array().cloned().unwrap_or_default();
        let empty = batch.is_empty();
        videos.extend(batch);
        let next = page.json["data"]["cursor"].as_i64();
        // has_more with no new cursor (or an empty page) would start over: stop instead.
        if page.json["data"]["has_more"] != json!(true) || empty || next.is_none() || next == cursor {
            break;
        }
        cursor = next;
    }
    for video in videos.iter().filter(|v| v["comments"].as_i64().unwrap_or(0) > 0) {
        let video_id = video["item_id"].as_str().unwrap_or_default();
        let mut cursor = 0i64;
        loop {
            let cursor_text = cursor.to_string();
            let Some(page) = tolerate(collector.call(call("comment_list", "business/comment/list/", &[("video_id", video_id), ("max_count", "30"), ("cursor", &cursor_text)])).await, notes)? else {
                break;
            };
            let next = page.json["data"]["cursor"].as_i64();
            if page.json["data"]["has_more"] != json!(true) || next.is_none_or(|n| n <= cursor) {
                break;
            }
            cursor = next.unwrap_or(cursor);
        }
    }
    Ok(())
}

async fn collect_display(collector: &Collector, target: &Target, token: &str) -> Result<(), FetchError> {
    let config = &collector.platforms.tiktok;
    let version = &config.api_version;
    let bearer = format!("Bearer {token}");
    collector.call(display_user_call(collector, target, token)).await?;
    let mut cursor: Option<i64> = None;
    loop {
        let mut url = endpoint(&config.base_url, &format!("{version}/video/list/"));
        url.query_pairs_mut().append_pair("fields", DISPLAY_VIDEO_FIELDS);
        let mut body = json!({ "max_count": 20 });
        if let Some(c) = cursor {
            body["cursor"] = json!(c);
        }
        let page = collector.call(Call::get(Platform::Tiktok, "video_list", version, &target.account_id, url).header("authorization", bearer.clone()).post_json(body)).await?;
        let next = page.json["data"]["cursor"].as_i64();
        let empty = page.json["data"]["videos"].as_array().is_none_or(|v| v.is_empty());
        if page.json["data"]["has_more"] != json!(true) || empty || next.is_none() || next == cursor {
            return Ok(());
        }
        cursor = next;
    }
}
