//! Webhooks the simulator sends: the Meta verification handshake, then signed deliveries of
//! new comments and mentions (Meta `X-Hub-Signature-256`, TikTok `TikTok-Signature`).

use std::sync::Mutex;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// A receiver that passed the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub platform: String,
    pub callback_url: String,
}

pub type Subscriptions = Mutex<Vec<Subscription>>;

pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Meta signs the payload with non-ASCII escaped as `\uXXXX`: these are those bytes.
pub fn meta_body(payload: &Value) -> Vec<u8> {
    let mut out = String::new();
    for c in payload.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out.into_bytes()
}

/// `X-Hub-Signature-256: sha256=<hex>` over the raw body with the app secret.
pub fn meta_signature(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(app_secret, body))
}

/// `TikTok-Signature: t=<ts>,s=<hex>` with s = HMAC-SHA256(client_secret, "<t>.<body>").
pub fn tiktok_signature(client_secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={timestamp},s={}", hmac_hex(client_secret, &signed))
}

/// The Meta change for a new comment: Instagram sends field `comments`; a Page, subscribed
/// with `feed`, sends field `feed` with `item: comment`.
pub fn meta_comment_event(account_id: &str, post: &crate::world::Post, page: bool, comment: &crate::world::Comment, time: i64) -> Value {
    let change = if page {
        let mut value = json!({ "item": "comment", "verb": "add", "post_id": post.id, "comment_id": comment.id, "message": comment.text, "from": { "id": comment.commenter_id, "name": comment.username }, "created_time": comment.published_at.timestamp() });
        if let Some(parent) = &comment.parent_id {
            value["parent_id"] = json!(parent);
        }
        json!({ "field": "feed", "value": value })
    } else {
        let product = match post.media_type {
            crate::world::MediaType::Video => "REELS",
            crate::world::MediaType::Story => "STORY",
            _ => "FEED",
        };
        let mut value = json!({ "from": { "id": comment.commenter_id, "username": comment.username }, "media": { "id": post.id, "media_product_type": product }, "id": comment.id, "text": comment.text });
        if let Some(parent) = &comment.parent_id {
            value["parent_id"] = json!(parent);
        }
        json!({ "field": "comments", "value": value })
    };
    json!({ "object": if page { "page" } else { "instagram" }, "entry": [{ "id": account_id, "time": time, "changes": [change] }] })
}

pub fn meta_mention_event(account_id: &str, media_id: &str, comment_id: &str, time: i64) -> Value {
    json!({ "object": "instagram", "entry": [{ "id": account_id, "time": time, "changes": [{ "field": "mentions", "value": { "comment_id": comment_id, "media_id": media_id } }] }] })
}

/// TikTok events carry their content as a JSON string.
pub fn tiktok_event(client_key: &str, event: &str, open_id: &str, content: &Value, time: i64) -> Value {
    json!({ "client_key": client_key, "event": event, "create_time": time, "user_openid": open_id, "content": content.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_algorithms() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published vector.
        assert_eq!(hmac_hex("key", b"The quick brown fox jumps over the lazy dog"), "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
        let body = br#"{"a":1}"#;
        assert_eq!(meta_signature("s3cret", body), format!("sha256={}", hmac_hex("s3cret", body)));
        let tiktok = tiktok_signature("s3cret", 1633174587, body);
        assert_eq!(tiktok, format!("t=1633174587,s={}", hmac_hex("s3cret", b"1633174587.{\"a\":1}")));
    }

    #[test]
    fn meta_bodies_escape_non_ascii() {
        let body = meta_body(&json!({ "text": "amei 😍 ção" }));
        assert_eq!(String::from_utf8(body).unwrap(), r#"{"text":"amei \ud83d\ude0d \u00e7\u00e3o"}"#);
    }
}
