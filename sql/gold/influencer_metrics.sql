-- gold.influencer_metrics: every metric of metrics.md (formula version ${metrics.version}) for
-- each influencer on ${as_of_date}, with its sample size. A metric without enough data is null
-- and null_reasons says why; it is never 0.
--
-- Windows: the ER window is the posts of the last ${metrics.window_days} days (pinned posts and
-- stories excluded, at least ${metrics.min_posts}); er_views takes the last
-- ${metrics.video_window} videos with views.
-- Means and sums of fractions are taken over DECIMAL(38, 18): a float sum depends on the order
-- rows arrive in, a decimal one does not, so a rerun gives bit-identical results.
-- Newest snapshots (of each account, and on or before each growth window's start) are ordered
-- aggregates, not windows: a hash table of accounts instead of a sort of every account-day
-- (7.3M rows in the B1 world), which ran the step out of its memory pool.
WITH latest AS (
    SELECT platform, account_id, last_value(followers ORDER BY snapshot_date) AS followers
    FROM silver.account_daily
    WHERE snapshot_date <= ${as_of_date}
    GROUP BY platform, account_id
),
base AS (
    SELECT l.platform, l.account_id, l.followers, t.tier, t.reach_rate, a.niche, a.country, a.language
    FROM latest l
    JOIN registry.tiers t ON l.followers >= t.min_followers AND (t.max_followers IS NULL OR l.followers < t.max_followers)
    LEFT JOIN silver.accounts a ON a.platform = l.platform AND a.account_id = l.account_id
),
-- Followers d days before: the newest snapshot on that day or up to 3 days earlier.
past AS (
    SELECT h.platform, h.account_id, w.days, last_value(h.followers ORDER BY h.snapshot_date) AS followers
    FROM silver.account_daily h
    CROSS JOIN (VALUES (7), (30), (90)) AS w(days)
    WHERE CAST(h.snapshot_date AS INT) <= CAST(${as_of_date} AS INT) - w.days
      AND CAST(h.snapshot_date AS INT) >= CAST(${as_of_date} AS INT) - w.days - 3
    GROUP BY h.platform, h.account_id, w.days
),
growth AS (
    SELECT b.platform, b.account_id,
           MAX(CASE WHEN p.days = 7 THEN CAST(b.followers - p.followers AS DOUBLE) / CAST(p.followers AS DOUBLE) END) AS growth_pct_7d,
           MAX(CASE WHEN p.days = 30 THEN CAST(b.followers - p.followers AS DOUBLE) / CAST(p.followers AS DOUBLE) END) AS growth_pct_30d,
           MAX(CASE WHEN p.days = 90 THEN CAST(b.followers - p.followers AS DOUBLE) / CAST(p.followers AS DOUBLE) END) AS growth_pct_90d,
           MAX(CASE WHEN p.days = 30 THEN CAST(b.followers - p.followers AS DOUBLE) / 30 END) AS velocity_30d
    FROM base b
    JOIN past p ON p.platform = b.platform AND p.account_id = b.account_id AND p.followers > 0
    GROUP BY b.platform, b.account_id
),
-- Every post, read once: each reference to a view computes it anew, and post_engagement joins
-- every post with its newest counters. Each statistic below keeps to its own window.
engaged AS (
    SELECT *,
           NOT is_pinned AND published_day > CAST(${as_of_date} AS INT) - ${metrics.window_days} AS in_window,
           media_type = 'video' AND er_views IS NOT NULL AND NOT is_pinned AS scored_video
    FROM silver.post_engagement
    -- Older posts count only as videos for er_views: the rest are left out before the sort.
    WHERE published_day > CAST(${as_of_date} AS INT) - GREATEST(${metrics.window_days}, 180)
       OR (media_type = 'video' AND er_views IS NOT NULL AND NOT is_pinned)
),
post_stats AS (
    SELECT platform, account_id,
           COUNT(*) FILTER (WHERE in_window) AS posts,
           COUNT(er_followers) FILTER (WHERE in_window) AS er_followers_posts,
           CAST(AVG(CAST(er_followers AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS er_mean,
           median(er_followers) FILTER (WHERE in_window) AS er_median,
           COUNT(er_full) FILTER (WHERE in_window) AS full_posts,
           CAST(AVG(CAST(er_full AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS er_full,
           COUNT(er_reach) FILTER (WHERE in_window) AS reach_posts,
           CAST(AVG(CAST(er_reach AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS er_reach,
           CAST(AVG(CAST(CAST(likes AS DOUBLE) AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS avg_likes,
           median(CAST(likes AS DOUBLE)) FILTER (WHERE in_window) AS median_likes,
           CAST(AVG(CAST(CAST(comments AS DOUBLE) AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS avg_comments,
           median(CAST(comments AS DOUBLE)) FILTER (WHERE in_window) AS median_comments,
           COUNT(CASE WHEN media_type = 'video' AND views > 0 THEN 1 END) FILTER (WHERE in_window) AS videos,
           CAST(AVG(CAST(CASE WHEN media_type = 'video' AND views > 0 THEN CAST(views AS DOUBLE) END AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS avg_views,
           median(CASE WHEN media_type = 'video' AND views > 0 THEN CAST(views AS DOUBLE) END) FILTER (WHERE in_window) AS median_views,
           CAST(AVG(CAST(CAST(reach AS DOUBLE) AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS mean_reach,
           CAST(AVG(CAST(CAST(impressions AS DOUBLE) AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS mean_impressions,
           CAST(AVG(CAST(CASE WHEN is_sponsored THEN 1.0 ELSE 0.0 END AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS sponsored_share,
           CAST(AVG(CAST(CASE WHEN is_sponsored THEN er_followers END AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS er_sponsored,
           CAST(AVG(CAST(CASE WHEN NOT is_sponsored THEN er_followers END AS DECIMAL(38, 18))) FILTER (WHERE in_window) AS DOUBLE) AS er_organic,
           -- Sample standard deviation from exact sums (see above); gap_days is null outside the window.
           sqrt(CAST((SUM(CAST(gap_days AS DECIMAL(38, 9)) * CAST(gap_days AS DECIMAL(38, 9)))
                      - SUM(CAST(gap_days AS DECIMAL(38, 9))) * SUM(CAST(gap_days AS DECIMAL(38, 9))) / COUNT(gap_days))
                     / NULLIF(COUNT(gap_days) - 1, 0) AS DOUBLE)) AS gap_stddev,
           -- Mean engagements per post of days 1–90 and 91–180 before as_of_date.
           CAST(AVG(CAST(engagements AS DECIMAL(38, 18))) FILTER (WHERE NOT is_pinned AND published_day > CAST(${as_of_date} AS INT) - 90) AS DOUBLE) AS recent,
           CAST(AVG(CAST(engagements AS DECIMAL(38, 18))) FILTER (WHERE NOT is_pinned AND published_day <= CAST(${as_of_date} AS INT) - 90 AND published_day > CAST(${as_of_date} AS INT) - 180) AS DOUBLE) AS earlier,
           -- Weeks of the last 13 with at least one post (week 0 ends on as_of_date).
           COUNT(DISTINCT CASE WHEN published_day > CAST(${as_of_date} AS INT) - 91 THEN (CAST(${as_of_date} AS INT) - published_day) / 7 END) AS active_weeks,
           -- er_views: the last ${metrics.video_window} videos with views, whatever their age.
           COUNT(*) FILTER (WHERE scored_video AND video_rank <= ${metrics.video_window}) AS er_views_posts,
           CAST(AVG(CAST(er_views AS DECIMAL(38, 18))) FILTER (WHERE scored_video AND video_rank <= ${metrics.video_window}) AS DOUBLE) AS er_views
    FROM (
        -- Both windows order an account's posts newest first, so the posts are sorted once (two
        -- orders meant a second sort of everything the first window had put out).
        SELECT *,
               -- The gap from each post of the window to the next newer one (the newest has none):
               -- the same gaps as from each to the one before.
               CASE WHEN in_window
                    THEN CAST(to_unixtime(MIN(CASE WHEN in_window THEN published_at END) OVER (
                             PARTITION BY platform, account_id ORDER BY published_at DESC, post_id DESC
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) - to_unixtime(published_at) AS DOUBLE) / 86400
               END AS gap_days,
               -- Among videos with views, 1 is the newest.
               SUM(CASE WHEN scored_video THEN 1 ELSE 0 END) OVER (
                   PARTITION BY platform, account_id ORDER BY published_at DESC, post_id DESC ROWS UNBOUNDED PRECEDING) AS video_rank
        FROM engaged
    ) w
    GROUP BY platform, account_id
),
joined AS (
    SELECT b.*,
           COALESCE(s.posts, 0) AS posts,
           COALESCE(s.er_followers_posts, 0) AS er_followers_posts,
           COALESCE(s.full_posts, 0) AS full_posts,
           COALESCE(s.reach_posts, 0) AS reach_posts,
           COALESCE(s.er_views_posts, 0) AS er_views_posts,
           s.er_mean, s.er_median, s.er_full, s.er_reach, s.er_views,
           s.avg_likes, s.median_likes, s.avg_comments, s.median_comments, s.videos, s.avg_views, s.median_views,
           s.mean_reach, s.mean_impressions, s.sponsored_share, s.er_sponsored, s.er_organic, s.gap_stddev,
           g.growth_pct_7d, g.growth_pct_30d, g.growth_pct_90d, g.velocity_30d,
           s.recent, s.earlier, COALESCE(s.active_weeks, 0) AS active_weeks,
           -- Video-first: TikTok, or mostly videos with views in the window.
           (b.platform = 'tiktok' OR COALESCE(s.videos, 0) * 2 > COALESCE(s.posts, 0)) AS video_first
    FROM base b
    LEFT JOIN post_stats s ON s.platform = b.platform AND s.account_id = b.account_id
    LEFT JOIN growth g ON g.platform = b.platform AND g.account_id = b.account_id
),
measured AS (
    SELECT *,
           CASE WHEN er_followers_posts >= ${metrics.min_posts} THEN er_mean END AS er_followers_mean,
           CASE WHEN er_followers_posts >= ${metrics.min_posts} THEN er_median END AS er_followers_median,
           CASE WHEN full_posts >= ${metrics.min_posts} THEN er_full END AS er_followers_full,
           CASE WHEN er_views_posts >= ${metrics.min_posts} THEN er_views END AS er_views_value,
           CASE WHEN reach_posts >= ${metrics.min_posts} THEN er_reach END AS er_reach_value,
           -- Estimated reach per post: mean views for video-first accounts, else followers × the
           -- tier's reach rate.
           CASE WHEN video_first AND videos >= ${metrics.min_posts} THEN avg_views ELSE followers * reach_rate END AS est_reach
    FROM joined
)
SELECT platform, account_id, ${as_of_date} AS as_of_date, followers, tier, niche, country, language,
       er_followers_mean, er_followers_median, er_followers_full, er_followers_posts,
       er_views_value AS er_views, er_views_posts,
       er_reach_value AS er_reach, reach_posts AS er_reach_posts,
       CASE WHEN posts >= ${metrics.min_posts} THEN avg_likes END AS avg_likes,
       CASE WHEN posts >= ${metrics.min_posts} THEN median_likes END AS median_likes,
       CASE WHEN posts >= ${metrics.min_posts} THEN avg_comments END AS avg_comments,
       CASE WHEN posts >= ${metrics.min_posts} THEN median_comments END AS median_comments,
       CASE WHEN videos >= ${metrics.min_posts} THEN avg_views END AS avg_views,
       CASE WHEN videos >= ${metrics.min_posts} THEN median_views END AS median_views,
       CAST(posts AS DOUBLE) / (${metrics.window_days} / 7.0) AS posts_per_week,
       growth_pct_7d, growth_pct_30d, growth_pct_90d, velocity_30d,
       CASE WHEN recent IS NOT NULL AND earlier > 0 THEN recent / earlier - 1 END AS engagement_growth_90d,
       CASE WHEN reach_posts >= ${metrics.min_posts} AND followers > 0 THEN mean_reach / followers END AS reach_rate,
       est_reach AS est_reach_per_post,
       -- Impressions per post: first-party impressions where the platform still reports them,
       -- else one impression per account reached.
       COALESCE(CASE WHEN reach_posts >= ${metrics.min_posts} THEN mean_impressions END, est_reach) AS est_impressions,
       ${metrics.cpm_usd} * COALESCE(CASE WHEN reach_posts >= ${metrics.min_posts} THEN mean_impressions END, est_reach) / 1000 AS emv_usd,
       CAST(active_weeks AS DOUBLE) / 13 AS consistency_13w,
       gap_stddev AS post_gap_stddev_days,
       CASE WHEN posts > 0 THEN sponsored_share END AS sponsored_share,
       er_sponsored, er_organic,
       '{' || concat_ws(',',
           CASE WHEN er_followers_mean IS NULL THEN '"er_followers_mean":"insufficient_posts","er_followers_median":"insufficient_posts"' END,
           CASE WHEN er_followers_full IS NULL THEN '"er_followers_full":"' || CASE WHEN full_posts = 0 THEN 'no_shares_saves' ELSE 'insufficient_posts' END || '"' END,
           CASE WHEN er_views_value IS NULL THEN '"er_views":"' || CASE WHEN er_views_posts = 0 THEN 'no_videos' ELSE 'insufficient_posts' END || '"' END,
           CASE WHEN er_reach_value IS NULL THEN '"er_reach":"' || CASE WHEN reach_posts = 0 THEN 'no_insights' ELSE 'insufficient_posts' END || '"' END,
           CASE WHEN growth_pct_7d IS NULL THEN '"growth_pct_7d":"no_history"' END,
           CASE WHEN growth_pct_30d IS NULL THEN '"growth_pct_30d":"no_history","velocity_30d":"no_history"' END,
           CASE WHEN growth_pct_90d IS NULL THEN '"growth_pct_90d":"no_history"' END,
           CASE WHEN recent IS NULL OR NOT earlier > 0 THEN '"engagement_growth_90d":"insufficient_posts"' END,
           CASE WHEN posts = 0 THEN '"sponsored_share":"insufficient_posts"' END
       ) || '}' AS null_reasons,
       ${metrics.version} AS formula_version,
       ${input_versions} AS input_versions,
       ${run_id} AS run_id
FROM measured
