//! The synthetic world: accounts, daily histories, posts, comments, first-party insights and
//! site traffic, all derived from (seed, size) alone.
//!
//! Nothing is held for the whole world: every account is generated on demand from its own
//! random stream, so an account's timeline is the same whether it is exported alone, among
//! 20,000 others, or served over HTTP, and memory stays bounded by one account at a time.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};

use crate::rng::{Rng, fnv};
use crate::vocab;

/// The last simulated day unless the caller names another, fixed so that one seed always
/// means one world.
pub const DEFAULT_END_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 28) {
    Some(date) => date,
    None => panic!("valid date"),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Pt,
    En,
    Es,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Pt => "pt",
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    Instagram,
    Facebook,
    Tiktok,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Instagram => "instagram",
            Platform::Facebook => "facebook",
            Platform::Tiktok => "tiktok",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountType {
    Creator,
    Business,
    /// Invisible to business_discovery, as on the real API.
    Personal,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Creator => "creator",
            AccountType::Business => "business",
            AccountType::Personal => "personal",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Image,
    Carousel,
    Video,
    Story,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Carousel => "carousel",
            MediaType::Video => "video",
            MediaType::Story => "story",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sentiment {
    Negative,
    Neutral,
    Positive,
}

impl Sentiment {
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Negative => "negative",
            Sentiment::Neutral => "neutral",
            Sentiment::Positive => "positive",
        }
    }
}

/// Size and seed of a world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorldSpec {
    pub seed: u64,
    /// Number of platform accounts (a creator present on two platforms counts twice).
    pub influencers: u32,
    pub days: u32,
    pub end_date: NaiveDate,
}

impl WorldSpec {
    pub fn new(seed: u64, influencers: u32, days: u32) -> Self {
        Self { seed, influencers, days: days.max(1), end_date: DEFAULT_END_DATE }
    }

    pub fn start_date(&self) -> NaiveDate {
        self.end_date - Duration::days(self.days as i64 - 1)
    }
}

/// Fraud injected into an account; the ground truth the authenticity flags are tested against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FraudPlan {
    pub bought_followers: bool,
    pub follow_churn: bool,
    pub comment_pod: bool,
}

/// A platform account and who is behind it.
#[derive(Debug, Clone)]
pub struct Account {
    pub index: u32,
    /// Index of the person behind it; accounts of one creator on several platforms share it.
    pub creator: u32,
    pub platform: Platform,
    /// The platform's id: IG user id, Page id, TikTok open_id / business_id.
    pub id: String,
    pub handle: String,
    pub name: String,
    pub bio: String,
    pub niche: &'static str,
    pub country: &'static str,
    pub lang: Lang,
    pub account_type: AccountType,
    pub verified: bool,
    /// Followers on the first simulated day.
    pub start_followers: f64,
    /// Expected follower growth over a year (0.2 = +20%).
    pub annual_growth: f64,
    /// Engagement (likes + comments) per follower on an ordinary post.
    pub engagement_rate: f64,
    pub posts_per_week: f64,
    pub best_hours: [u32; 2],
    /// The creator connected this account to Analisa: first-party insights and GA4 exist.
    pub connected: bool,
    pub fraud: FraudPlan,
    pub follows_base: f64,
    pub media_before: u64,
}

/// One simulated day of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub followers: i64,
    pub follows: i64,
    /// Posts published so far (stories excluded).
    pub media_count: i64,
}

/// Final counters of a post (as they stand once engagement has settled).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub saves: i64,
    pub views: i64,
    pub reach: i64,
    pub impressions: i64,
}

impl Metrics {
    /// The counters `hours` after publication: engagement arrives fast, then levels off.
    fn at_age(&self, hours: f64, platform: Platform) -> Metrics {
        if hours <= 0.0 {
            return Metrics::default();
        }
        let tau = if platform == Platform::Tiktok { 60.0 } else { 20.0 };
        let f = 1.0 - (-hours / tau).exp();
        let s = |v: i64| (v as f64 * f).round() as i64;
        Metrics {
            likes: s(self.likes),
            comments: s(self.comments),
            shares: s(self.shares),
            saves: s(self.saves),
            views: s(self.views),
            reach: s(self.reach),
            impressions: s(self.impressions),
        }
    }

    pub fn engagements(&self) -> i64 {
        self.likes + self.comments
    }
}

#[derive(Debug, Clone)]
pub struct Post {
    pub id: String,
    pub account_index: u32,
    pub published_at: DateTime<Utc>,
    pub media_type: MediaType,
    pub caption: String,
    pub hashtags: Vec<String>,
    pub mentions: Vec<String>,
    /// The disclosure in the caption, if the post is sponsored.
    pub disclosure: Option<&'static str>,
    pub pinned: bool,
    /// Ground truth: a post far above the account's usual engagement.
    pub viral: bool,
    pub followers_at_publish: i64,
    pub metrics: Metrics,
    pub duration_secs: u32,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: String,
    pub post_id: String,
    pub commenter_id: String,
    pub username: String,
    pub text: String,
    pub lang: Lang,
    /// Ground truth sentiment.
    pub sentiment: Sentiment,
    pub published_at: DateTime<Utc>,
    pub like_count: i64,
    pub parent_id: Option<String>,
    /// Ground truth: written by a comment pod or bot.
    pub from_pod: bool,
}

/// Ground-truth events, for testing authenticity flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub date: NaiveDate,
    /// bought_followers, purge, follow_churn, comment_pod, viral_post
    pub kind: &'static str,
    pub magnitude: i64,
}

/// An account with its whole simulated history.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub account: Account,
    pub days: Vec<Day>,
    /// Oldest first.
    pub posts: Vec<Post>,
    pub events: Vec<Event>,
}

/// Tier by followers, as in metrics.md.
/// Day-to-day persistence of a creator's growth phase (a half-life of about a month).
const GROWTH_MEMORY: f64 = 0.98;

pub fn tier(followers: i64) -> &'static str {
    match followers {
        f if f < 1_000 => "emerging",
        f if f < 10_000 => "nano",
        f if f < 100_000 => "micro",
        f if f < 500_000 => "mid",
        f if f < 1_000_000 => "macro",
        _ => "mega",
    }
}

/// (tier, share of accounts, follower range, like-based ER, reach rate): shaped like the
/// published creator populations and benchmarks (ER falls as audiences grow).
const TIERS: [(&str, f64, f64, f64, f64, f64); 6] = [
    ("emerging", 0.08, 300.0, 1_000.0, 0.065, 0.30),
    ("nano", 0.44, 1_000.0, 10_000.0, 0.042, 0.22),
    ("micro", 0.33, 10_000.0, 100_000.0, 0.024, 0.15),
    ("mid", 0.10, 100_000.0, 500_000.0, 0.016, 0.12),
    ("macro", 0.03, 500_000.0, 1_000_000.0, 0.012, 0.10),
    ("mega", 0.02, 1_000_000.0, 40_000_000.0, 0.008, 0.08),
];

impl WorldSpec {
    fn rng(&self, domain: &str, index: u64) -> Rng {
        Rng::for_entity(self.seed, domain, index)
    }

    /// The person behind account `index`: some accounts continue the creator of the account
    /// before them on another platform (at most three platforms per creator).
    fn creator_of(&self, index: u32) -> u32 {
        let mut creator = index;
        for _ in 0..2 {
            if creator == 0 || !self.rng("sibling", creator as u64).chance(0.18) {
                break;
            }
            creator -= 1;
        }
        creator
    }

    /// Account `index` (0-based, < influencers).
    pub fn account(&self, index: u32) -> Account {
        let creator = self.creator_of(index);
        let mut person = self.rng("creator", creator as u64);
        let (country, lang, _) = vocab::COUNTRIES[person.weighted(&vocab::COUNTRIES.map(|c| c.2))];
        let niche = vocab::NICHES[person.weighted(&vocab::NICHE_WEIGHTS)];
        let first = *person.pick(vocab::first_names(lang));
        let last = *person.pick(vocab::surnames(lang));
        let word = *person.pick(vocab::handle_words(niche));
        let style = person.range(0, 3);
        // The creator's number keeps handles unique on each platform (business_discovery
        // looks accounts up by handle), the way real handles grow digits.
        let base_handle = ascii_fold(&match style {
            0 => format!("{first}{last}{creator}"),
            1 => format!("{first}.{word}{creator}"),
            2 => format!("{word}com{first}_{creator}"),
            _ => format!("{first}_{last}.{creator}"),
        });
        let bio = person.pick(vocab::bio(niche, lang)).to_string();
        // Creator-level traits shared across platforms.
        let tier_index = person.weighted(&TIERS.map(|t| t.1));
        let (_, _, low, high, er, _) = TIERS[tier_index];
        let creator_size = (low.ln() + person.f64() * (high.ln() - low.ln())).exp();
        let creator_er = er * person.lognormal(1.0, 0.3);

        let mut rng = self.rng("account", index as u64);
        let platform = if index == creator {
            [Platform::Instagram, Platform::Tiktok, Platform::Facebook][rng.weighted(&[0.55, 0.30, 0.15])]
        } else {
            // A sibling goes where the previous account of this creator is not.
            let previous = self.account_platform_hint(index - 1);
            match previous {
                Platform::Instagram => Platform::Tiktok,
                Platform::Tiktok => Platform::Facebook,
                Platform::Facebook => Platform::Instagram,
            }
        };
        let id = match platform {
            Platform::Instagram => format!("178414{:011}", 10_000_000_000u64 + index as u64 * 7 + 3),
            Platform::Facebook => format!("1{:014}", 40_000_000_000_000u64 + index as u64 * 13 + 5),
            Platform::Tiktok => format!("7{:018}", 100_000_000_000_000_000u64 + index as u64 * 31 + 11),
        };
        // Size on this platform: near the creator's size, larger on the main one.
        let size_factor = if index == creator { 1.0 } else { rng.lognormal(0.35, 0.8) };
        let start_followers = (creator_size * size_factor * rng.lognormal(1.0, 0.1)).max(120.0);
        let engagement_rate = match platform {
            Platform::Instagram => creator_er,
            // Like-based ER is lower on Pages.
            Platform::Facebook => creator_er * 0.15,
            // TikTok likes relative to followers run higher; views dominate (see posts).
            Platform::Tiktok => creator_er * 1.6,
        };
        let account_type = match platform {
            Platform::Facebook => AccountType::Business,
            _ => [AccountType::Creator, AccountType::Business, AccountType::Personal][rng.weighted(&[0.62, 0.30, 0.08])],
        };
        let handle = if platform == Platform::Facebook { format!("{base_handle}oficial") } else { base_handle };
        let name = format!("{first} {last}");
        let fraud = FraudPlan {
            bought_followers: rng.chance(0.08),
            follow_churn: platform != Platform::Facebook && rng.chance(0.05),
            comment_pod: rng.chance(0.06),
        };
        let h1 = [8, 11, 12, 18, 19, 20, 21][rng.range(0, 6) as usize];
        let h2 = (h1 + rng.range(3, 9) as u32) % 24;
        Account {
            index,
            creator,
            platform,
            id,
            handle,
            name,
            bio,
            niche,
            country,
            lang,
            account_type,
            verified: start_followers > 500_000.0 && rng.chance(0.6),
            start_followers,
            annual_growth: rng.range_f64(-0.08, 0.55) * if tier_index <= 2 { 1.3 } else { 0.7 },
            engagement_rate,
            posts_per_week: rng.lognormal(if platform == Platform::Tiktok { 5.5 } else { 4.0 }, 0.45).min(21.0),
            best_hours: [h1, h2],
            connected: rng.chance(0.10),
            fraud,
            follows_base: rng.range_f64(150.0, 1_800.0),
            media_before: rng.range(20, 1_500),
        }
    }

    /// Platform of an account without building all of it (used to place siblings).
    fn account_platform_hint(&self, index: u32) -> Platform {
        self.account(index).platform
    }

    /// Every account, in order (generated lazily).
    pub fn accounts(&self) -> impl Iterator<Item = Account> + '_ {
        (0..self.influencers).map(|i| self.account(i))
    }

    /// The account with a platform id, if it belongs to this world.
    pub fn find_account(&self, platform: Platform, id: &str) -> Option<Account> {
        let index = account_index_from_id(platform, id)?;
        (index < self.influencers)
            .then(|| self.account(index))
            .filter(|a| a.platform == platform && a.id == id)
    }

    /// The account's full history.
    pub fn timeline(&self, account: Account) -> Timeline {
        let mut rng = self.rng("timeline", account.index as u64);
        let start = self.start_date();
        let days = self.days as usize;
        let daily_growth = (1.0 + account.annual_growth).ln() / 365.0;
        let reach_rate = TIERS.iter().find(|t| t.0 == tier(account.start_followers as i64)).map_or(0.15, |t| t.5);

        // Fraud schedule.
        let mut events = Vec::new();
        let mut adjustments = vec![0f64; days];
        if account.fraud.bought_followers && days >= 30 {
            let day = rng.range(7, days as u64 - 15) as usize;
            let wanted = account.start_followers * rng.range_f64(0.06, 0.35);
            let bundle = round_bundle(wanted);
            let exact = bundle as f64 * rng.range_f64(0.99, 1.01);
            adjustments[day] += exact;
            events.push(Event { date: start + Duration::days(day as i64), kind: "bought_followers", magnitude: exact.round() as i64 });
            if rng.chance(0.65) {
                let after = rng.range(2, 12) as usize;
                let share = rng.range_f64(0.5, 0.85);
                let purge_day = (day + after).min(days - 1);
                adjustments[purge_day] -= exact * share;
                events.push(Event { date: start + Duration::days(purge_day as i64), kind: "purge", magnitude: -(exact * share).round() as i64 });
            }
        }
        let churn_cycle = rng.range(6, 11) as usize;
        let churn_phase = rng.range(0, churn_cycle as u64 - 1) as usize;

        // Posts, day by day, with followers evolving alongside.
        let mut posts = Vec::new();
        let mut days_out = Vec::with_capacity(days);
        let mut followers = account.start_followers;
        let mut media_count = account.media_before as i64;
        let mut viral_boost = [0f64; 3];
        let comment_ratio = rng.range_f64(0.012, 0.05);
        let pinned_slots = rng.range(0, 3);
        // Growth comes in phases, as real creators have spurts and lulls: the daily rate wanders
        // around the long-run rate with a month-scale memory, and a viral post starts a spurt.
        // Its own random stream leaves every other draw (and so the posts) as they were.
        let mut phases = self.rng("growth", account.index as u64);
        let phase_sd = 0.8 * (daily_growth.abs() + 0.0004);
        let mut phase = phase_sd * phases.normal();
        for d in 0..days {
            let date = start + Duration::days(d as i64);
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            phase = GROWTH_MEMORY * phase + phase_sd * (1.0 - GROWTH_MEMORY * GROWTH_MEMORY).sqrt() * phases.normal();
            // Organic gain: trend in its current phase, weekly seasonality, and the noise of
            // follows and unfollows (over-dispersed counts, so about √followers).
            let seasonal = if weekend { 1.15 } else { 0.94 };
            let trend = followers * (daily_growth + phase) * seasonal;
            let noise = rng.normal() * (followers.sqrt() * 0.12 + followers * 0.0003);
            followers = (followers + trend + noise + viral_boost[0] + adjustments[d]).max(50.0);
            if account.fraud.comment_pod && d == 0 {
                events.push(Event { date, kind: "comment_pod", magnitude: 1 });
            }
            let mut follows = account.follows_base * (1.0 + 0.002 * d as f64);
            if account.fraud.follow_churn && (d + churn_phase) % churn_cycle < churn_cycle / 2 {
                follows *= 1.0 + rng.range_f64(0.25, 0.45);
                if (d + churn_phase) % churn_cycle == 0 {
                    events.push(Event { date, kind: "follow_churn", magnitude: (follows - account.follows_base).round() as i64 });
                }
            }
            let weekday_factor = if weekend { 0.8 } else { 1.08 };
            let count = rng.poisson(account.posts_per_week / 7.0 * weekday_factor);
            let mut todays: Vec<Post> = Vec::new();
            for n in 0..count {
                let post = self.make_post(&account, &mut rng, date, posts.len() + todays.len(), n, followers, reach_rate, comment_ratio);
                if post.viral {
                    // A strong post brings followers over the next two days: explained growth.
                    let gained = followers * rng.range_f64(0.01, 0.05);
                    phase += 0.5 * phase_sd;
                    viral_boost[1] += gained * 0.6;
                    viral_boost[2] += gained * 0.4;
                    events.push(Event { date, kind: "viral_post", magnitude: gained.round() as i64 });
                }
                if post.media_type != MediaType::Story {
                    media_count += 1;
                }
                todays.push(post);
            }
            todays.sort_by_key(|p| p.published_at);
            posts.extend(todays);
            days_out.push(Day { date, followers: followers.round() as i64, follows: follows.round() as i64, media_count });
            // Tomorrow's boost first: a viral post of today lifts the next two days.
            viral_boost = [viral_boost[1], viral_boost[2], 0.0];
        }
        // A few early posts stay pinned on the profile.
        let mut pinned = 0;
        for post in posts.iter_mut() {
            if pinned >= pinned_slots {
                break;
            }
            if post.media_type != MediaType::Story && post.platform_allows_pin(account.platform) {
                post.pinned = true;
                pinned += 1;
            }
        }
        Timeline { account, days: days_out, posts, events }
    }

    #[allow(clippy::too_many_arguments)]
    fn make_post(
        &self,
        account: &Account,
        rng: &mut Rng,
        date: NaiveDate,
        ordinal: usize,
        n_today: u64,
        followers: f64,
        reach_rate: f64,
        comment_ratio: f64,
    ) -> Post {
        let hour = if rng.chance(0.7) { account.best_hours[(n_today % 2) as usize] } else { rng.range(7, 23) as u32 };
        let published_at = Utc
            .from_utc_datetime(&date.and_hms_opt(hour, rng.range(0, 59) as u32, rng.range(0, 59) as u32).expect("valid time"));
        let media_type = match account.platform {
            Platform::Tiktok => MediaType::Video,
            Platform::Instagram => [MediaType::Image, MediaType::Carousel, MediaType::Video, MediaType::Story][rng.weighted(&[0.30, 0.22, 0.36, 0.12])],
            Platform::Facebook => [MediaType::Image, MediaType::Video][rng.weighted(&[0.65, 0.35])],
        };
        let lang = account.lang;
        let mut hashtags: Vec<String> = Vec::new();
        for _ in 0..rng.range(1, 6) {
            let tag = rng.pick(vocab::hashtags(account.niche)).to_string();
            if !hashtags.contains(&tag) {
                hashtags.push(tag);
            }
        }
        if rng.chance(0.4) {
            hashtags.push(rng.pick(&vocab::GENERIC_HASHTAGS).to_string());
        }
        let sponsored = rng.chance(0.11);
        let mut mentions = Vec::new();
        let brand = rng.pick(&vocab::BRANDS).to_string();
        if sponsored || rng.chance(0.15) {
            mentions.push(brand.clone());
        }
        let disclosure = sponsored.then(|| *rng.pick(vocab::disclosures(lang)));
        let mut caption = format!("{} {}", rng.pick(vocab::caption_hooks(account.niche, lang)), rng.pick(vocab::caption_bodies(lang)));
        if let Some(text) = disclosure {
            if text.starts_with('#') {
                hashtags.push(text.trim_start_matches('#').to_owned());
            } else {
                caption.push_str(&format!(" ({text} @{brand})"));
            }
        }
        for m in &mentions {
            if !caption.contains(&format!("@{m}")) {
                caption.push_str(&format!(" @{m}"));
            }
        }
        caption = format!("{} {}", caption.trim(), hashtags.iter().map(|h| format!("#{h}")).collect::<Vec<_>>().join(" "));

        // Viral: a feed post (a story's counters are not public) with 4–10× the account's usual
        // engagement, never below its typical post (so public counters show it as viral).
        let viral = rng.chance(0.015) && media_type != MediaType::Story;
        let spread = rng.lognormal(1.0, 0.45);
        let quality = if viral { spread.max(1.0) * rng.range_f64(4.0, 10.0) } else { spread };
        let kind_factor = match media_type {
            MediaType::Carousel => 1.15,
            MediaType::Video => 1.08,
            _ => 1.0,
        };
        let sponsor_factor = if sponsored { 0.8 } else { 1.0 };
        let metrics = if media_type == MediaType::Story {
            let reach = (followers * reach_rate * 0.35 * rng.lognormal(1.0, 0.3)).round() as i64;
            Metrics { reach, impressions: (reach as f64 * 1.2).round() as i64, views: (reach as f64 * 1.2).round() as i64, ..Metrics::default() }
        } else {
            let engagements = followers * account.engagement_rate * quality * kind_factor * sponsor_factor;
            let comments = (engagements * comment_ratio).round();
            let likes = (engagements - comments).max(0.0).round();
            let share_rate = match account.platform {
                Platform::Tiktok => 0.12,
                Platform::Facebook => 0.10,
                Platform::Instagram => 0.04,
            };
            let reach = followers * reach_rate * quality.sqrt() * if viral { 3.0 } else { 1.0 };
            let views = match (account.platform, media_type) {
                (Platform::Tiktok, _) => followers * rng.lognormal(2.5, 0.8) * quality * 0.25_f64.max(reach_rate * 2.0),
                (_, MediaType::Video) => reach * rng.range_f64(1.2, 2.5),
                _ => 0.0,
            };
            Metrics {
                likes: likes as i64,
                comments: comments as i64,
                shares: (likes * share_rate * rng.range_f64(0.5, 1.5)).round() as i64,
                saves: (likes * rng.range_f64(0.02, 0.12)).round() as i64,
                views: views.round() as i64,
                reach: reach.round() as i64,
                impressions: (reach * rng.range_f64(1.15, 1.6)).round() as i64,
            }
        };
        let id = match account.platform {
            Platform::Instagram => format!("179{:014}", account.index as u64 * 100_000 + ordinal as u64),
            Platform::Facebook => format!("{}_{}", account.id, 10_000_000 + ordinal),
            Platform::Tiktok => format!("73{:017}", account.index as u64 * 100_000 + ordinal as u64),
        };
        Post {
            id,
            account_index: account.index,
            published_at,
            media_type,
            caption,
            hashtags,
            mentions,
            disclosure,
            pinned: false,
            viral,
            followers_at_publish: followers.round() as i64,
            metrics,
            duration_secs: if media_type == MediaType::Video { rng.range(7, 90) as u32 } else { 0 },
        }
    }

    /// The comments on a post that are stored by the world (a capped, representative sample
    /// of `comments_count`), oldest first.
    pub fn comments(&self, account: &Account, post: &Post) -> Vec<Comment> {
        let mut rng = self.rng("comments", fnv(&post.id));
        let count = post.metrics.comments.min(12) as usize;
        let mut out: Vec<Comment> = Vec::with_capacity(count);
        for n in 0..count {
            let lang = match account.lang {
                Lang::Pt => [Lang::Pt, Lang::En, Lang::Es][rng.weighted(&[0.86, 0.12, 0.02])],
                Lang::En => [Lang::En, Lang::Pt, Lang::Es][rng.weighted(&[0.9, 0.06, 0.04])],
                Lang::Es => [Lang::Es, Lang::En, Lang::Pt][rng.weighted(&[0.7, 0.2, 0.1])],
            };
            let from_pod = account.fraud.comment_pod && rng.chance(0.55);
            let (text, sentiment) = if from_pod {
                (rng.pick(&vocab::POD_COMMENTS).to_string(), Sentiment::Positive)
            } else {
                compose_comment(&mut rng, lang, post.disclosure.is_some())
            };
            let commenter = if from_pod { rng.range(1, 40) } else { rng.range(1_000, 900_000_000) };
            let commenter_id = format!("{}{:012}", if from_pod { "9900" } else { "1788" }, commenter + account.index as u64 * (from_pod as u64));
            let username = format!("{}{}", ascii_fold(*rng.pick(vocab::first_names(lang))), commenter % 10_000);
            let minutes = (rng.f64().powi(3) * 4.0 * 24.0 * 60.0) as i64 + 1;
            // Replies answer a top-level comment, after it: threads are one level deep, as on
            // Instagram.
            let parent = (n > 0 && rng.chance(0.1)).then(|| out[rng.range(0, n as u64 - 1) as usize].clone());
            let parent = parent.map(|c| match &c.parent_id {
                Some(top) => out.iter().find(|o| &o.id == top).cloned().unwrap_or(c),
                None => c,
            });
            out.push(Comment {
                id: format!("18{:015}", fnv(&post.id) % 1_000_000_000_000 * 100 + n as u64),
                post_id: post.id.clone(),
                commenter_id,
                username,
                text,
                lang,
                sentiment,
                published_at: (post.published_at + Duration::minutes(minutes)).max(parent.as_ref().map_or(post.published_at, |p| p.published_at + Duration::minutes(1 + minutes % 90))),
                like_count: rng.poisson(1.5) as i64,
                parent_id: parent.map(|p| p.id),
                from_pod,
            });
        }
        out.sort_by_key(|c| c.published_at);
        out
    }
}

/// The comments count the APIs serve at `now`: the counter, or the comments written by then
/// when they are more (a small post's sample can outnumber its counter).
pub fn comments_served(counted: i64, written: &[Comment], now: DateTime<Utc>) -> i64 {
    counted.max(written.iter().filter(|c| c.published_at < now).count() as i64)
}

impl Post {
    /// The counters the fake APIs serve for the post at `now` (its age in whole minutes, as
    /// the servers measure it).
    pub fn served_at(&self, now: DateTime<Utc>, platform: Platform) -> Metrics {
        self.metrics.at_age((now - self.published_at).num_minutes() as f64 / 60.0, platform)
    }

    fn platform_allows_pin(&self, platform: Platform) -> bool {
        platform != Platform::Facebook
    }
}

/// Composes a comment from fragments and says what it means.
fn compose_comment(rng: &mut Rng, lang: Lang, sponsored: bool) -> (String, Sentiment) {
    let roll = rng.f64();
    let negative_share = if sponsored { 0.2 } else { 0.11 };
    let (core, sentiment, ending) = if roll < 0.08 {
        return (rng.pick(&vocab::EMOJI_ONLY).to_string(), Sentiment::Positive);
    } else if roll < 0.08 + negative_share {
        if rng.chance(0.25) {
            (rng.pick(vocab::ironic_cores(lang)), Sentiment::Negative, *rng.pick(&["🙄", "🙃", "👏", "😒", ""]))
        } else {
            (rng.pick(vocab::negative_cores(lang)), Sentiment::Negative, *rng.pick(vocab::negative_endings(lang)))
        }
    } else if roll < 0.08 + negative_share + 0.27 {
        (rng.pick(vocab::neutral_cores(lang)), Sentiment::Neutral, if rng.chance(0.6) { "?" } else { "" })
    } else {
        (rng.pick(vocab::positive_cores(lang)), Sentiment::Positive, *rng.pick(vocab::positive_endings(lang)))
    };
    let opener = if sentiment == Sentiment::Neutral { "" } else { *rng.pick(vocab::openers(lang)) };
    let mut text = match (opener.is_empty(), ending.is_empty()) {
        (true, true) => core.to_string(),
        (true, false) => format!("{core} {ending}"),
        (false, true) => format!("{opener} {core}"),
        (false, false) => format!("{opener} {core} {ending}"),
    };
    if rng.chance(0.12) {
        text = typo(rng, &text);
    }
    if rng.chance(0.3) {
        text = capitalise(&text);
    }
    (text.replace(" ?", "?"), sentiment)
}

/// One keyboard slip: a doubled vowel, a swapped pair, or a dropped letter.
fn typo(rng: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let letters: Vec<usize> = chars.iter().enumerate().filter(|(_, c)| c.is_alphabetic()).map(|(i, _)| i).collect();
    if letters.len() < 4 {
        return text.to_owned();
    }
    let at = letters[rng.range(1, letters.len() as u64 - 2) as usize];
    let mut out = chars.clone();
    match rng.range(0, 2) {
        0 => {
            let c = out[at];
            for _ in 0..rng.range(1, 3) {
                out.insert(at, c);
            }
        }
        1 if at + 1 < out.len() && out[at + 1].is_alphabetic() => out.swap(at, at + 1),
        _ => {
            out.remove(at);
        }
    }
    out.into_iter().collect()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Bought followers come in bundles: 1k, 2k, 5k, 10k, 20k, 50k, …
fn round_bundle(wanted: f64) -> i64 {
    let mut best = 1_000i64;
    let mut base = 1_000i64;
    while base <= 10_000_000 {
        for step in [1, 2, 5] {
            let candidate = base * step;
            if (candidate as f64 - wanted).abs() < (best as f64 - wanted).abs() {
                best = candidate;
            }
        }
        base *= 10;
    }
    best
}

/// Handles are plain ASCII, lower case.
fn ascii_fold(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let folded = match c {
                'á' | 'à' | 'â' | 'ã' | 'ä' | 'Á' | 'Ã' => 'a',
                'é' | 'ê' | 'É' => 'e',
                'í' | 'Í' => 'i',
                'ó' | 'ô' | 'õ' | 'Ó' => 'o',
                'ú' | 'ü' | 'Ú' => 'u',
                'ç' | 'Ç' => 'c',
                'ñ' => 'n',
                c if c.is_ascii_alphanumeric() || c == '.' || c == '_' => c,
                _ => return None,
            };
            Some(folded.to_ascii_lowercase())
        })
        .collect()
}

/// Recovers the account index from a platform id (ids encode it, so lookups need no index).
pub(crate) fn account_index_from_id(platform: Platform, id: &str) -> Option<u32> {
    let (offset, step, digits) = match platform {
        Platform::Instagram => (10_000_000_000u64 + 3, 7, id.strip_prefix("178414")?),
        Platform::Facebook => (40_000_000_000_000 + 5, 13, id.strip_prefix('1')?),
        Platform::Tiktok => (100_000_000_000_000_000 + 11, 31, id.strip_prefix('7')?),
    };
    let value: u64 = digits.parse().ok()?;
    let delta = value.checked_sub(offset)?;
    (delta % step == 0).then(|| u32::try_from(delta / step).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_back_to_accounts() {
        let world = WorldSpec::new(42, 300, 30);
        for account in world.accounts() {
            let found = world.find_account(account.platform, &account.id).expect("found");
            assert_eq!(found.index, account.index);
        }
        assert!(world.find_account(Platform::Instagram, "17841499999999999").is_none());
        assert!(world.find_account(Platform::Tiktok, "not-a-number").is_none());
    }

    #[test]
    fn timelines_are_deterministic() {
        let world = WorldSpec::new(7, 50, 60);
        let a = world.timeline(world.account(13));
        let b = world.timeline(world.account(13));
        assert_eq!(a.days, b.days);
        assert_eq!(a.posts.len(), b.posts.len());
        assert_eq!(a.posts.iter().map(|p| &p.caption).collect::<Vec<_>>(), b.posts.iter().map(|p| &p.caption).collect::<Vec<_>>());
    }

    #[test]
    fn bundles_are_round() {
        assert_eq!(round_bundle(4_300.0), 5_000);
        assert_eq!(round_bundle(1_400.0), 1_000);
        assert_eq!(round_bundle(180_000.0), 200_000);
    }

    #[test]
    fn typos_and_folding() {
        assert_eq!(ascii_fold("João.Moda_1"), "joao.moda_1");
        let mut rng = Rng::for_entity(1, "typo", 1);
        let changed = (0..20).filter(|_| typo(&mut rng, "que lindo demais") != "que lindo demais").count();
        assert!(changed > 10);
    }
}
