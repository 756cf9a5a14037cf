//! The live state of a running simulator: the world seen at the simulator's clock, the apps
//! and tokens it knows, posts published through it, and the counters tests read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::server::faults::Faults;
use crate::server::limits::Limits;
use crate::world::{Account, Platform, Post, Timeline, WorldSpec};

/// The API flavours a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// graph.facebook.com tokens: Instagram with Facebook Login, and Pages.
    Facebook,
    /// graph.instagram.com tokens (Instagram Login).
    Instagram,
    TiktokDisplay,
    TiktokBusiness,
    Google,
}

impl Flavour {
    pub const ALL: [Flavour; 5] = [Flavour::Facebook, Flavour::Instagram, Flavour::TiktokDisplay, Flavour::TiktokBusiness, Flavour::Google];

    fn prefix(self) -> &'static str {
        match self {
            Flavour::Facebook => "EAAS",
            Flavour::Instagram => "IGAAS",
            Flavour::TiktokDisplay => "act.d",
            Flavour::TiktokBusiness => "act.b",
            Flavour::Google => "ya29.s",
        }
    }

    /// Whether accounts of `platform` can hold a token of this flavour.
    pub fn serves(self, platform: Platform) -> bool {
        matches!(
            (self, platform),
            (Flavour::Facebook, Platform::Instagram | Platform::Facebook)
                | (Flavour::Instagram, Platform::Instagram)
                | (Flavour::TiktokDisplay | Flavour::TiktokBusiness, Platform::Tiktok)
                | (Flavour::Google, _)
        )
    }
}

/// App credentials of one flavour.
#[derive(Debug, Clone)]
pub struct App {
    pub client_id: String,
    pub client_secret: String,
}

/// What a token grants.
#[derive(Debug, Clone)]
pub struct Grant {
    pub flavour: Flavour,
    pub account: u32,
    pub scopes: Vec<String>,
    /// Wall-clock expiry; None for tokens that do not expire (page / system-user tokens).
    pub expires_at: Option<DateTime<Utc>>,
    pub long_lived: bool,
}

#[derive(Debug, Clone)]
pub struct PendingCode {
    pub flavour: Flavour,
    pub account: u32,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    pub issued: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub flavour: Flavour,
    pub account: u32,
    pub scopes: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// A media container of the Instagram Content Publishing API.
#[derive(Debug, Clone)]
pub struct Container {
    pub account: u32,
    pub caption: String,
    pub media_type: String,
    pub created: DateTime<Utc>,
    pub published_id: Option<String>,
}

/// Per-server request counters.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
}

/// Everything handlers share.
pub struct SimState {
    pub world: WorldSpec,
    clock: RwLock<DateTime<Utc>>,
    pub apps: HashMap<Flavour, App>,
    tokens: RwLock<HashMap<String, Grant>>,
    pub codes: Mutex<HashMap<String, PendingCode>>,
    pub refresh: Mutex<HashMap<String, RefreshGrant>>,
    /// TikTok rotates refresh tokens (the old one stops working once a new one is issued).
    pub rotate_refresh_tokens: bool,
    /// Lifetime of TikTok access tokens.
    pub tiktok_access_ttl: Duration,
    timelines: Mutex<HashMap<u32, Arc<Timeline>>>,
    by_handle: HashMap<(Platform, String), u32>,
    pub published: Mutex<HashMap<u32, Vec<Post>>>,
    pub containers: Mutex<HashMap<String, Container>>,
    pub limits: Limits,
    pub faults: HashMap<&'static str, Faults>,
    pub counters: HashMap<&'static str, Counters>,
    pub serial: AtomicU64,
    pub webhooks: crate::server::webhooks::Subscriptions,
}

/// Names of the servers, as used in faults, counters and the ready line.
pub const SERVERS: [&str; 5] = ["instagram", "facebook", "tiktok", "tiktok_business", "ga4"];

impl SimState {
    pub fn new(world: WorldSpec, limits: Limits, faults: HashMap<&'static str, Faults>) -> Self {
        let apps = Flavour::ALL
            .into_iter()
            .map(|f| {
                let id = match f {
                    Flavour::Facebook => format!("10{:014}", world.seed % 100_000_000_000_000),
                    Flavour::Instagram => format!("17{:014}", world.seed % 100_000_000_000_000),
                    Flavour::TiktokDisplay => format!("aw{}", &secret(world.seed, "client_key", 0)[..14]),
                    Flavour::TiktokBusiness => format!("72{:017}", world.seed % 100_000_000_000_000_000),
                    Flavour::Google => format!("{}-sim.apps.googleusercontent.com", world.seed % 1_000_000_000_000),
                };
                (f, App { client_id: id, client_secret: secret(world.seed, "app", f as u64)[..32].to_owned() })
            })
            .collect();
        let mut tokens = HashMap::new();
        let mut by_handle = HashMap::new();
        for account in world.accounts() {
            by_handle.insert((account.platform, account.handle.clone()), account.index);
            for flavour in Flavour::ALL.into_iter().filter(|f| f.serves(account.platform)) {
                tokens.insert(
                    preissued_token(world.seed, flavour, account.index),
                    Grant { flavour, account: account.index, scopes: all_scopes(flavour), expires_at: None, long_lived: true },
                );
            }
        }
        Self {
            clock: RwLock::new(Utc.from_utc_datetime(&(world.end_date + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight"))),
            world,
            apps,
            tokens: RwLock::new(tokens),
            codes: Mutex::default(),
            refresh: Mutex::default(),
            rotate_refresh_tokens: true,
            tiktok_access_ttl: Duration::hours(24),
            timelines: Mutex::default(),
            by_handle,
            published: Mutex::default(),
            containers: Mutex::default(),
            limits,
            faults,
            counters: SERVERS.into_iter().map(|s| (s, Counters::default())).collect(),
            serial: AtomicU64::new(1),
            webhooks: Default::default(),
        }
    }

    /// The simulator's "now": data up to the end of the previous day is visible.
    pub fn now(&self) -> DateTime<Utc> {
        *self.clock.read().expect("clock lock")
    }

    /// The last complete day.
    pub fn today(&self) -> NaiveDate {
        (self.now() - Duration::seconds(1)).date_naive()
    }

    /// Moves the clock to the end of `date`; returns the previous time.
    pub fn set_day(&self, date: NaiveDate) -> Result<DateTime<Utc>, String> {
        if date < self.world.start_date() || date > self.world.end_date {
            return Err(format!("the world spans {} to {}", self.world.start_date(), self.world.end_date));
        }
        let next = Utc.from_utc_datetime(&(date + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight"));
        let mut clock = self.clock.write().expect("clock lock");
        Ok(std::mem::replace(&mut *clock, next))
    }

    pub fn timeline(&self, index: u32) -> Arc<Timeline> {
        let mut cache = self.timelines.lock().expect("timeline cache");
        if let Some(t) = cache.get(&index) {
            return t.clone();
        }
        if cache.len() > 4_096 {
            cache.clear();
        }
        let t = Arc::new(self.world.timeline(self.world.account(index)));
        cache.insert(index, t.clone());
        t
    }

    /// The account's counters on the last complete day.
    pub fn day_now(&self, index: u32) -> crate::world::Day {
        let timeline = self.timeline(index);
        let today = self.today();
        *timeline.days.iter().rev().find(|d| d.date <= today).unwrap_or(&timeline.days[0])
    }

    pub fn account_by_id(&self, platform: Platform, id: &str) -> Option<Account> {
        self.world.find_account(platform, id)
    }

    pub fn account_by_handle(&self, platform: Platform, handle: &str) -> Option<Account> {
        self.by_handle.get(&(platform, handle.to_ascii_lowercase())).map(|i| self.world.account(*i))
    }

    /// Posts of an account visible now, newest first (world posts plus API-published ones).
    pub fn visible_posts(&self, index: u32) -> Vec<Post> {
        let now = self.now();
        let timeline = self.timeline(index);
        let mut posts: Vec<Post> = timeline.posts.iter().filter(|p| p.published_at < now).cloned().collect();
        if let Some(extra) = self.published.lock().expect("published").get(&index) {
            posts.extend(extra.iter().cloned());
        }
        posts.sort_by(|a, b| b.published_at.cmp(&a.published_at).then_with(|| b.id.cmp(&a.id)));
        posts
    }

    /// The comments counter of a post as served: never below the comments already written, so
    /// that a client trusting the counter finds every comment the edge lists.
    pub fn comments_count(&self, account: &Account, post: &Post, counted: i64) -> i64 {
        crate::world::comments_served(counted, &self.world.comments(account, post), self.now())
    }

    pub fn find_post(&self, platform: Platform, post_id: &str) -> Option<(Account, Post)> {
        let index = post_account_index(platform, post_id)?;
        if index >= self.world.influencers {
            return None;
        }
        let account = self.world.account(index);
        if account.platform != platform {
            return None;
        }
        let post = self.visible_posts(index).into_iter().find(|p| p.id == post_id)?;
        Some((account, post))
    }

    pub fn grant(&self, token: &str) -> Option<Grant> {
        self.tokens.read().expect("tokens").get(token).cloned()
    }

    pub fn issue(&self, grant: Grant) -> String {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let token = format!("{}{}", grant.flavour.prefix(), &secret(self.world.seed, "issued", n)[..40]);
        self.tokens.write().expect("tokens").insert(token.clone(), grant);
        token
    }

    pub fn revoke(&self, token: &str) -> bool {
        self.tokens.write().expect("tokens").remove(token).is_some()
    }

    /// A fresh opaque value (codes, refresh tokens, request ids).
    pub fn nonce(&self, domain: &str) -> String {
        secret(self.world.seed, domain, self.serial.fetch_add(1, Ordering::Relaxed))[..32].to_owned()
    }

    pub fn count(&self, server: &str) -> &Counters {
        &self.counters[server]
    }
}

/// Stable tokens handed out at start, one per account and flavour (as if every creator had
/// already connected the app); they do not expire.
pub fn preissued_token(seed: u64, flavour: Flavour, account: u32) -> String {
    format!("{}{}", flavour.prefix(), &secret(seed, &format!("{flavour:?}"), account as u64)[..40])
}

pub fn all_scopes(flavour: Flavour) -> Vec<String> {
    let scopes: &[&str] = match flavour {
        Flavour::Facebook => &["instagram_basic", "instagram_manage_insights", "instagram_content_publish", "instagram_manage_comments", "pages_show_list", "pages_read_engagement", "pages_manage_posts", "read_insights"],
        Flavour::Instagram => &["instagram_business_basic", "instagram_business_manage_insights", "instagram_business_manage_comments", "instagram_business_content_publish"],
        Flavour::TiktokDisplay => &["user.info.basic", "user.info.profile", "user.info.stats", "video.list"],
        Flavour::TiktokBusiness => &["user.info.basic", "user.info.stats", "video.list", "video.insights", "user.insights", "comment.list"],
        Flavour::Google => &["https://www.googleapis.com/auth/analytics.readonly"],
    };
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

fn secret(seed: u64, domain: &str, n: u64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&seed.to_le_bytes()).expect("any key length");
    mac.update(domain.as_bytes());
    mac.update(&n.to_le_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Post ids encode their account (see world.rs), so a post is found without an index.
fn post_account_index(platform: Platform, id: &str) -> Option<u32> {
    match platform {
        Platform::Instagram => id.strip_prefix("179")?.parse::<u64>().ok().map(|v| (v / 100_000) as u32),
        Platform::Tiktok => id.strip_prefix("73")?.parse::<u64>().ok().map(|v| (v / 100_000) as u32),
        Platform::Facebook => {
            let (page, _) = id.split_once('_')?;
            crate::world::account_index_from_id(Platform::Facebook, page)
        }
    }
}
