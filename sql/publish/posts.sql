-- serving.posts: every post up to ${as_of_date} with its newest counters and per-post ER.
SELECT e.platform, e.post_id, e.account_id, e.media_type, e.published_at, p.caption, p.permalink, e.is_sponsored,
       e.likes, e.comments, e.shares, e.saves, e.views, e.er_followers, e.er_views
FROM silver.post_engagement e
JOIN silver.posts p ON p.platform = e.platform AND p.post_id = e.post_id
