//! Collectors: what to ask each platform about an account, page by page.

mod ga4;
mod meta;
mod tiktok;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use secrecy::ExposeSecret;
use tokio::sync::mpsc;
use tracing::warn;
use url::Url;

use crate::fetch::{Call, FetchError, Fetched, Fetcher};
use crate::oauth::{Connections, OAuthError};
use crate::platforms::{Platform, PlatformsConfig};
use crate::run::ToBronze;
use crate::target::{Target, TokenPair};

/// How much of an account to collect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Profile, media with counters, comments, insights and GA4.
    #[default]
    Full,
    /// The profile's counters only (followers, follows, media count): the cheap daily snapshot
    /// that follower history is made of.
    Profile,
}

/// Comments asked for inside each Graph API post page unless a run says otherwise.
pub const COMMENTS_EXPANDED: usize = 50;

/// What a collector shares: the HTTP side, where the APIs are, where answers go, and the
/// metrics the platforms have retired (learned once, then left out of later requests).
pub struct Collector {
    pub fetcher: Fetcher,
    pub platforms: PlatformsConfig,
    pub sink: mpsc::Sender<ToBronze>,
    /// Days of insights and reports to ask for.
    pub window_days: i64,
    /// Comments asked for inside each Graph API post page (`comments.limit(n){…}`); a post with
    /// more gets the rest from its comment edge.
    pub comments_expanded: usize,
    retired: Mutex<HashSet<(Platform, String)>>,
    /// Accounts connected through OAuth: their stored tokens are used over the accounts file's.
    connections: Option<Arc<Connections>>,
}

impl Collector {
    pub fn new(fetcher: Fetcher, platforms: PlatformsConfig, sink: mpsc::Sender<ToBronze>, connections: Option<Arc<Connections>>) -> Self {
        Self { fetcher, platforms, sink, window_days: 30, comments_expanded: COMMENTS_EXPANDED, retired: Mutex::default(), connections }
    }

    /// The target with the tokens of its stored connections (refreshed first when they expire
    /// soon), and which connections those are. A connection waiting for re-authorisation is
    /// skipped with a note: the account is then collected from public data.
    async fn with_stored_tokens(&self, target: &Target, notes: &mut Vec<String>) -> (Option<Target>, Vec<Platform>) {
        let Some(connections) = &self.connections else { return (None, Vec::new()) };
        let flavours: &[Platform] = match target.platform {
            Platform::Instagram => &[Platform::Facebook, Platform::Instagram],
            Platform::Facebook => &[Platform::Facebook],
            Platform::Tiktok | Platform::TiktokBusiness => &[Platform::TiktokBusiness, Platform::Tiktok],
            Platform::Ga4 => &[],
        };
        let mut stored = target.clone();
        let mut used = Vec::new();
        for &flavour in flavours {
            match connections.access_token(flavour, &target.account_id).await {
                Ok(token) => {
                    let pair = Some(TokenPair { access_token: token.expose_secret().to_owned(), refresh_token: None });
                    match flavour {
                        Platform::Facebook => stored.tokens.facebook = pair,
                        Platform::Instagram => stored.tokens.instagram = pair,
                        Platform::TiktokBusiness => stored.tokens.tiktok_business = pair,
                        _ => stored.tokens.tiktok = pair,
                    }
                    used.push(flavour);
                }
                Err(OAuthError::NotConnected { .. }) => {}
                Err(error) => {
                    warn!(platform = %flavour, account = %target.account_id, %error, "stored connection not used");
                    notes.push(format!("stored {flavour} connection not used: {error}"));
                }
            }
        }
        if used.is_empty() {
            return (None, used);
        }
        // A token of the account's own means it authorised the app: its insights may be read.
        stored.connected = true;
        (Some(stored), used)
    }

    /// Fetches and lands one answer. Error answers are landed too: bronze keeps everything the
    /// platform said.
    async fn call(&self, call: Call) -> Result<Fetched, FetchError> {
        match self.fetcher.fetch(&call).await {
            Ok(fetched) => {
                let _ = self.sink.send(ToBronze::Answer(fetched.answer.clone())).await;
                Ok(fetched)
            }
            Err(FetchError::Refused { platform, endpoint, message, answer }) => {
                let _ = self.sink.send(ToBronze::Answer((*answer).clone())).await;
                Err(FetchError::Refused { platform, endpoint, message, answer })
            }
            Err(other) => Err(other),
        }
    }

    /// Waits until every answer sent so far is in bronze.
    pub async fn flushed(&self) -> Result<(), String> {
        let (done, landed) = tokio::sync::oneshot::channel();
        self.sink.send(ToBronze::Flush(done)).await.map_err(|_| "the bronze writer has stopped".to_owned())?;
        landed.await.map_err(|_| "the bronze writer has stopped".to_owned())?
    }

    fn retired(&self, platform: Platform, metric: &str) -> bool {
        self.retired.lock().expect("retired metrics").contains(&(platform, metric.to_owned()))
    }

    fn retire(&self, platform: Platform, metric: &str, reason: &str) {
        warn!(%platform, metric, reason, "the platform no longer offers this metric; leaving it out of later requests");
        self.retired.lock().expect("retired metrics").insert((platform, metric.to_owned()));
    }

    fn now(&self) -> chrono::DateTime<Utc> {
        self.fetcher.now()
    }

    /// The collection's day (UTC): insight windows end on it.
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Metrics learned to be retired in this run, as `platform:metric`.
    pub fn retired_metrics(&self) -> Vec<String> {
        let mut out: Vec<String> = self.retired.lock().expect("retired metrics").iter().map(|(p, m)| format!("{p}:{m}")).collect();
        out.sort();
        out
    }

    /// The metrics of a catalogue that the platform has not retired.
    fn current(&self, platform: Platform, catalogue: &[&str]) -> Vec<String> {
        catalogue.iter().filter(|m| !self.retired(platform, m)).map(|m| (*m).to_owned()).collect()
    }

    /// Collects everything about one account. Errors of single requests that cannot succeed
    /// (a refused insights call) are recorded and the rest goes on; a rejected token or a
    /// spent budget stops the account.
    pub async fn collect(&self, target: &Target, scope: Scope) -> Result<Vec<String>, FetchError> {
        let mut notes = Vec::new();
        let (stored, used) = self.with_stored_tokens(target, &mut notes).await;
        let result = self.collect_as(stored.as_ref().unwrap_or(target), scope, &mut notes).await;
        // A stored token the platform refuses waits for the user to authorise again, instead
        // of being tried on every collection.
        if let (Err(FetchError::TokenRejected { platform, account, message }), Some(connections)) = (&result, &self.connections) {
            let refused: Vec<Platform> = if used.contains(platform) { vec![*platform] } else { used };
            for flavour in refused {
                if let Err(error) = connections.mark_needs_reauth(flavour, account, message).await {
                    warn!(%error, "could not mark the connection for re-authorisation");
                }
            }
        }
        result.map(|()| notes)
    }

    async fn collect_as(&self, target: &Target, scope: Scope, notes: &mut Vec<String>) -> Result<(), FetchError> {
        if scope == Scope::Profile {
            match target.platform {
                Platform::Instagram => meta::instagram_profile(self, target, notes).await?,
                Platform::Facebook => meta::page_profile(self, target, notes).await?,
                Platform::Tiktok | Platform::TiktokBusiness => tiktok::profile(self, target, notes).await?,
                Platform::Ga4 => {}
            }
            return Ok(());
        }
        let _ = self.sink.send(ToBronze::Answer(registry_answer(target, self.now()))).await;
        match target.platform {
            Platform::Instagram => meta::instagram(self, target, notes).await?,
            Platform::Facebook => meta::page(self, target, notes).await?,
            Platform::Tiktok | Platform::TiktokBusiness => tiktok::collect(self, target, notes).await?,
            Platform::Ga4 => {}
        }
        if target.ga4.is_some() {
            ga4::collect(self, target, notes).await?;
        }
        Ok(())
    }
}

/// The registry's declared attributes of an account as a bronze row (endpoint `registry`), so
/// that silver can always be rebuilt from bronze alone. Unchanged declarations share a
/// fingerprint and land once.
fn registry_answer(target: &Target, now: chrono::DateTime<Utc>) -> crate::raw::RawAnswer {
    let mut body = serde_json::to_value(&target.declared).expect("declared attributes serialise");
    body["handle"] = serde_json::Value::String(target.handle.clone());
    crate::raw::RawAnswer {
        platform: match target.platform {
            Platform::TiktokBusiness => Platform::Tiktok,
            other => other,
        },
        endpoint: "registry",
        api_version: "analisa/v1".into(),
        account_ref: target.account_id.clone(),
        request_path: "registry".into(),
        http_status: 200,
        fetched_at: now,
        rate_limit: None,
        body: body.to_string(),
    }
}

/// A base URL joined with a path (base URLs end in `/`).
fn endpoint(base: &Url, path: &str) -> Url {
    base.join(path).expect("collector paths are valid")
}



/// Keeps going after a definite refusal, noting it; stops on anything else.
fn tolerate(result: Result<Fetched, FetchError>, notes: &mut Vec<String>) -> Result<Option<Fetched>, FetchError> {
    match result {
        Ok(fetched) => Ok(Some(fetched)),
        Err(FetchError::Refused { message, endpoint, .. }) => {
            notes.push(format!("{endpoint}: {message}"));
            Ok(None)
        }
        Err(other) => Err(other),
    }
}
