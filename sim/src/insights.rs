//! First-party numbers of connected accounts, derived from the timeline: daily account
//! insights, audience demographics and GA4 site traffic that follows posting.

use chrono::{Datelike, NaiveDate};

use crate::rng::{Rng, fnv};
use crate::world::{Account, MediaType, Timeline};

/// Account activity of one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayStats {
    pub reach: i64,
    pub views: i64,
    pub accounts_engaged: i64,
    pub total_interactions: i64,
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub saves: i64,
    pub new_followers: i64,
    pub unfollows: i64,
    pub profile_links_taps: i64,
    pub profile_views: i64,
    pub video_views: i64,
}

fn day_rng(account: &Account, date: NaiveDate, what: &str) -> Rng {
    Rng::for_entity(fnv(&account.id), what, date.num_days_from_ce() as u64)
}

/// Insights of `date` (posts published that day carry their engagement into it).
pub fn day_stats(timeline: &Timeline, date: NaiveDate) -> DayStats {
    let account = &timeline.account;
    let Some(index) = timeline.days.iter().position(|d| d.date == date) else {
        return DayStats::default();
    };
    let day = timeline.days[index];
    let previous = if index > 0 { timeline.days[index - 1].followers } else { day.followers };
    let mut rng = day_rng(account, date, "day_stats");
    let mut stats = DayStats::default();
    for post in timeline.posts.iter().filter(|p| p.published_at.date_naive() == date) {
        let m = post.metrics;
        stats.reach += (m.reach as f64 * 0.7) as i64;
        stats.views += m.impressions.max(m.views);
        stats.likes += m.likes;
        stats.comments += m.comments;
        stats.shares += m.shares;
        stats.saves += m.saves;
        if post.media_type == MediaType::Video {
            stats.video_views += m.views;
        }
    }
    let baseline = (day.followers as f64 * rng.range_f64(0.02, 0.06)) as i64;
    stats.reach += baseline;
    stats.views += (baseline as f64 * 1.4) as i64;
    stats.total_interactions = stats.likes + stats.comments + stats.shares + stats.saves;
    stats.accounts_engaged = (stats.total_interactions as f64 * rng.range_f64(0.6, 0.85)) as i64;
    let delta = day.followers - previous;
    stats.unfollows = (day.followers as f64 * rng.range_f64(0.0005, 0.002)) as i64;
    stats.new_followers = (delta + stats.unfollows).max(0);
    stats.profile_views = (stats.reach as f64 * rng.range_f64(0.02, 0.08)) as i64;
    stats.profile_links_taps = (stats.profile_views as f64 * rng.range_f64(0.05, 0.2)) as i64;
    stats
}

/// Audience of an account by one dimension (`age`, `gender`, `country`, `city`), as counts;
/// buckets under 100 people are suppressed, as the platforms do for privacy.
pub fn demographics(account: &Account, followers: i64, dimension: &str) -> Option<Vec<(String, i64)>> {
    let mut rng = Rng::for_entity(fnv(&account.id), "demographics", fnv(dimension));
    let buckets: Vec<(String, f64)> = match dimension {
        "age" => ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
            .iter()
            .zip([0.05, 0.31, 0.34, 0.16, 0.08, 0.04, 0.02])
            .map(|(b, w)| (b.to_string(), w * rng.range_f64(0.7, 1.3)))
            .collect(),
        "gender" => {
            let female = rng.range_f64(0.3, 0.8);
            vec![("F".into(), female), ("M".into(), 1.0 - female - 0.02), ("U".into(), 0.02)]
        }
        "country" => {
            let home = rng.range_f64(0.55, 0.85);
            let others = ["BR", "US", "PT", "MX", "AR", "ES", "GB", "CO", "IT", "FR"];
            let mut out = vec![(account.country.to_string(), home)];
            for c in others.iter().filter(|c| **c != account.country) {
                out.push((c.to_string(), (1.0 - home) * rng.range_f64(0.02, 0.25)));
            }
            out
        }
        "city" => {
            let cities: &[&str] = match account.country {
                "BR" => &["São Paulo, São Paulo", "Rio de Janeiro, Rio de Janeiro", "Belo Horizonte, Minas Gerais", "Salvador, Bahia", "Brasília, Distrito Federal", "Curitiba, Paraná", "Recife, Pernambuco", "Porto Alegre, Rio Grande do Sul", "Fortaleza, Ceará"],
                "PT" => &["Lisboa, Lisboa", "Porto, Porto", "Braga, Braga", "Coimbra, Coimbra"],
                "MX" => &["Ciudad de México, Ciudad de México", "Guadalajara, Jalisco", "Monterrey, Nuevo León"],
                "AR" => &["Buenos Aires, Buenos Aires", "Córdoba, Córdoba", "Rosario, Santa Fe"],
                _ => &["New York, New York", "Los Angeles, California", "London, England", "Toronto, Ontario", "Chicago, Illinois"],
            };
            cities.iter().map(|c| (c.to_string(), rng.range_f64(0.02, 0.25))).collect()
        }
        _ => return None,
    };
    let total: f64 = buckets.iter().map(|b| b.1).sum();
    let scale = if dimension == "city" { 0.6 } else { 1.0 };
    let mut out: Vec<(String, i64)> = buckets
        .into_iter()
        .map(|(b, w)| (b, (followers as f64 * scale * w / total) as i64))
        .filter(|(_, n)| *n >= 100)
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(45);
    Some(out)
}

/// GA4 sessions of the creator's site on `date` by (source, medium): a steady base plus
/// visits that follow the engagement of that day's and the previous day's posts.
pub fn site_sessions(timeline: &Timeline, date: NaiveDate) -> Vec<(&'static str, &'static str, i64, i64)> {
    let account = &timeline.account;
    let mut rng = day_rng(account, date, "ga4");
    let engagement: i64 = timeline
        .posts
        .iter()
        .filter(|p| {
            let d = p.published_at.date_naive();
            d == date || d.succ_opt() == Some(date)
        })
        .map(|p| p.metrics.engagements())
        .sum();
    let social = (engagement as f64 * rng.range_f64(0.004, 0.012)) as i64;
    let base = ((account.start_followers.sqrt()) * rng.range_f64(0.8, 1.5)) as i64 + 5;
    let platform_source = match account.platform {
        crate::world::Platform::Instagram => "instagram.com",
        crate::world::Platform::Facebook => "facebook.com",
        crate::world::Platform::Tiktok => "tiktok.com",
    };
    let rows = [
        (platform_source, "referral", social + base / 4),
        ("l.instagram.com", "referral", (social as f64 * 0.3) as i64),
        ("google", "organic", base),
        ("(direct)", "(none)", base / 2 + rng.range(0, 10) as i64),
    ];
    rows.into_iter()
        .filter(|r| r.2 > 0)
        .map(|(source, medium, sessions)| (source, medium, sessions, (sessions as f64 * rng.range_f64(0.75, 0.92)) as i64))
        .collect()
}
