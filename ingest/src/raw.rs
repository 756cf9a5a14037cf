//! Raw answers as they land in bronze: unchanged bodies with the facts of the request.

use std::sync::Arc;

use analisa_lake::TableId;
use arrow::array::{ArrayRef, Date32Array, Int32Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use url::Url;

use crate::platforms::Platform;

/// Query parameters that carry secrets; they never reach bronze.
const SECRET_PARAMS: [&str; 10] = [
    "access_token", "client_secret", "code", "refresh_token", "fb_exchange_token", "input_token",
    "appsecret_proof", "auth_code", "code_verifier", "client_key",
];

/// One answer of a platform API.
#[derive(Debug, Clone, PartialEq)]
pub struct RawAnswer {
    /// The platform whose data it is (bronze table).
    pub platform: Platform,
    /// Logical endpoint: ig_user, media, comments, media_insights, page_posts, video_list, …
    pub endpoint: &'static str,
    pub api_version: String,
    /// Platform id of the account the request was about.
    pub account_ref: String,
    /// Path and query without secrets.
    pub request_path: String,
    pub http_status: u16,
    pub fetched_at: DateTime<Utc>,
    /// Rate-limit headers as a JSON object, when the answer had any.
    pub rate_limit: Option<String>,
    pub body: String,
}

impl RawAnswer {
    /// The day it was fetched, as days since 1970-01-01 (bronze's `fetched_date`, part of its key).
    pub fn fetched_day(&self) -> i32 {
        (self.fetched_at.date_naive() - NaiveDate::default()).num_days() as i32
    }

    /// The same page with the same content always gets the same fingerprint, so landing it
    /// again adds nothing; a changed page (new likes) is a new snapshot.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        for part in [self.platform.as_str(), &self.request_path] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hash_stable_body(&self.body, &mut hash);
        hash.update([0]);
        hex::encode(hash.finalize())
    }
}

/// Envelope fields that change on every call without the data changing (request and trace
/// ids, quota counters): left out of the fingerprint, kept in the stored body.
const VOLATILE: [&str; 4] = ["request_id", "log_id", "fbtrace_id", "propertyQuota"];

/// Feeds `hash` the body without its volatile fields, written compactly with keys in order
/// (serde_json maps are ordered by key, so equal content is written equally), straight into the
/// hash instead of into a copy of the body first. A body that is not JSON goes in as it is.
fn hash_stable_body(body: &str, hash: &mut Sha256) {
    let Ok(mut json) = serde_json::from_str::<serde_json::Value>(body) else {
        hash.update(body.as_bytes());
        return;
    };
    if let Some(map) = json.as_object_mut() {
        for key in VOLATILE {
            map.remove(key);
        }
        if let Some(error) = map.get_mut("error").and_then(|e| e.as_object_mut()) {
            for key in VOLATILE {
                error.remove(key);
            }
        }
    }
    serde_json::to_writer(HashWriter(hash), &json).expect("hashing cannot fail");
}

/// Bytes written go into a hash.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Path and query of a URL with every secret parameter removed (body parameters are never
/// recorded).
pub fn redact(url: &Url) -> String {
    let kept: Vec<(String, String)> = url.query_pairs().filter(|(k, _)| !SECRET_PARAMS.contains(&k.as_ref())).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if kept.is_empty() {
        return url.path().to_owned();
    }
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
    format!("{}?{query}", url.path())
}

/// An answer's body with the values of secret query parameters blanked wherever they appear
/// (Meta paging URLs carry the caller's `access_token`). Everything else stays byte for byte.
/// One pass over the body's `=` signs: a media page with its comments is a few hundred KB, and
/// a search per secret name was 6 % of an ingest run.
pub fn redact_body(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut copied = 0;
    for (equals, _) in body.match_indices('=') {
        if equals < copied {
            continue;
        }
        let before = &body[..equals];
        // Only a parameter, i.e. after `?` or `&` (or its JSON escape `\u0026`).
        let is_param = SECRET_PARAMS.iter().any(|name| {
            before.strip_suffix(name).is_some_and(|rest| rest.ends_with('?') || rest.ends_with('&') || rest.ends_with("\\u0026"))
        });
        if !is_param {
            continue;
        }
        let start = equals + 1;
        let end = body[start..].find(|c: char| matches!(c, '&' | '"' | '\\' | ' ' | '#')).map_or(body.len(), |e| start + e);
        if end > start {
            out.push_str(&body[copied..start]);
            out.push_str("REDACTED");
            copied = end;
        }
    }
    out.push_str(&body[copied..]);
    out
}

/// The bronze table of a platform.
pub fn bronze_table(platform: Platform) -> TableId {
    let name = match platform {
        Platform::Instagram => "bronze.instagram_raw",
        Platform::Facebook => "bronze.facebook_raw",
        Platform::Tiktok => "bronze.tiktok_raw",
        Platform::TiktokBusiness => "bronze.tiktok_business_raw",
        Platform::Ga4 => "bronze.ga4_raw",
    };
    name.parse().expect("bronze tables are catalogued")
}

/// Answers of one platform as rows of its bronze table, with their fingerprints.
pub fn to_batch(run_id: &str, answers: &[RawAnswer], fingerprints: Vec<String>) -> RecordBatch {
    let table = bronze_table(answers.first().map_or(Platform::Instagram, |a| a.platform));
    let n = answers.len();
    let text = |values: Vec<String>| Arc::new(StringArray::from(values)) as ArrayRef;
    RecordBatch::try_new(
        table.def().schema.clone(),
        vec![
            text(fingerprints),
            text(vec![run_id.to_owned(); n]),
            text(answers.iter().map(|a| a.platform.as_str().to_owned()).collect()),
            text(answers.iter().map(|a| a.endpoint.to_owned()).collect()),
            text(answers.iter().map(|a| a.api_version.clone()).collect()),
            text(answers.iter().map(|a| a.account_ref.clone()).collect()),
            text(answers.iter().map(|a| a.request_path.clone()).collect()),
            Arc::new(Int32Array::from_iter_values(answers.iter().map(|a| a.http_status as i32))),
            Arc::new(TimestampMicrosecondArray::from_iter_values(answers.iter().map(|a| a.fetched_at.timestamp_micros())).with_timezone("UTC")),
            Arc::new(Date32Array::from_iter_values(answers.iter().map(RawAnswer::fetched_day))),
            Arc::new(StringArray::from(answers.iter().map(|a| a.rate_limit.clone()).collect::<Vec<_>>())),
            text(answers.iter().map(|a| a.body.clone()).collect()),
        ],
    )
    .expect("columns follow the bronze schema")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_path() {
        let url = Url::parse("https://graph.facebook.com/v24.0/123/media?fields=id,caption&access_token=EAAsecret&after=QVE&client_secret=x").unwrap();
        assert_eq!(redact(&url), "/v24.0/123/media?fields=id%2Ccaption&after=QVE");
        assert_eq!(redact(&Url::parse("https://x.example/v2/user/info/").unwrap()), "/v2/user/info/");
    }

    #[test]
    fn secrets_inside_bodies_are_blanked() {
        let body = r#"{"data":[],"paging":{"next":"http://x/v24.0/1/media?fields=id&access_token=EAAsecret&after=QVE","previous":"http://x/?access_token=EAAother"},"note":"my_access_token=keep"}"#;
        let clean = redact_body(body);
        assert!(!clean.contains("EAAsecret") && !clean.contains("EAAother"), "{clean}");
        assert!(clean.contains("access_token=REDACTED&after=QVE") && clean.contains("my_access_token=keep"), "{clean}");
        let escaped = r#"{"next":"http://x/?fields=id\u0026access_token=EAAx\u0026after=Q","code":"a=b","u":"?code=123&refresh_token=R"}"#;
        assert_eq!(redact_body(escaped), r#"{"next":"http://x/?fields=id\u0026access_token=REDACTED\u0026after=Q","code":"a=b","u":"?code=REDACTED&refresh_token=REDACTED"}"#);
        assert_eq!(redact_body("no parameters at all"), "no parameters at all");
    }

    #[test]
    fn fingerprints_follow_content() {
        let answer = RawAnswer {
            platform: Platform::Instagram, endpoint: "media", api_version: "v24.0".into(), account_ref: "1".into(),
            request_path: "/v24.0/1/media".into(), http_status: 200, fetched_at: Utc::now(), rate_limit: None, body: "{}".into(),
        };
        let later = RawAnswer { fetched_at: Utc::now() + chrono::Duration::hours(1), ..answer.clone() };
        assert_eq!(answer.fingerprint(), later.fingerprint(), "the same page fetched twice");
        let changed = RawAnswer { body: "{\"likes\":1}".into(), ..answer.clone() };
        let tiktok_a = RawAnswer { body: r#"{"code":0,"data":{"x":1},"request_id":"a1"}"#.into(), ..answer.clone() };
        let tiktok_b = RawAnswer { body: r#"{"data":{"x":1},"code":0,"request_id":"b2"}"#.into(), ..answer.clone() };
        assert_eq!(tiktok_a.fingerprint(), tiktok_b.fingerprint(), "request ids and key order do not make a new page");
        assert_ne!(answer.fingerprint(), changed.fingerprint());
        // The form bronze has always held: platform, path and compact sorted body, each ended by
        // a zero byte (a new form would land every known page once more).
        let mut expected = Sha256::new();
        expected.update(b"instagram\0/v24.0/1/media\0{\"code\":0,\"data\":{\"x\":1}}\0");
        assert_eq!(tiktok_a.fingerprint(), hex::encode(expected.finalize()));
        let prints = vec![answer.fingerprint(), changed.fingerprint()];
        let batch = to_batch("run-1", &[answer, changed], prints);
        assert_eq!(batch.num_rows(), 2);
    }
}
