-- silver.post_engagement (a view the gold steps share): every post published on or before
-- ${as_of_date} with its newest counters on or before that day and its per-post ratios.
-- Stories are left out: they have no public counters and vanish after 24 hours.
-- The newest snapshot day of each post is a hash aggregate joined back on the natural key
-- (platform, post_id, snapshot_date), not a window: a window sorts every snapshot of every post,
-- and at the B1 size that sort ran the gold build out of its memory pool.
WITH newest AS (
    SELECT platform, post_id, MAX(snapshot_date) AS snapshot_date
    FROM silver.post_metrics
    WHERE snapshot_date <= ${as_of_date}
    GROUP BY platform, post_id
)
SELECT p.platform, p.account_id, p.post_id, p.media_type, p.published_at,
       CAST(p.published_at AS DATE) AS published_date,
       -- Day numbers make windows plain integer arithmetic.
       CAST(CAST(p.published_at AS DATE) AS INT) AS published_day,
       p.is_pinned, p.is_sponsored, p.followers_at_publish, p.hashtags,
       m.likes, m.comments, m.shares, m.saves, m.views, m.reach, m.impressions,
       CAST(COALESCE(m.likes, 0) + COALESCE(m.comments, 0) AS DOUBLE) AS engagements,
       CASE WHEN p.followers_at_publish > 0 AND m.likes IS NOT NULL AND m.comments IS NOT NULL
            THEN CAST(m.likes + m.comments AS DOUBLE) / p.followers_at_publish END AS er_followers,
       CASE WHEN p.followers_at_publish > 0 AND m.likes IS NOT NULL AND m.comments IS NOT NULL AND m.shares IS NOT NULL AND m.saves IS NOT NULL
            THEN CAST(m.likes + m.comments + m.shares + m.saves AS DOUBLE) / p.followers_at_publish END AS er_full,
       CASE WHEN m.views > 0 AND m.likes IS NOT NULL AND m.comments IS NOT NULL
            THEN CAST(m.likes + m.comments + COALESCE(m.shares, 0) AS DOUBLE) / m.views END AS er_views,
       CASE WHEN m.reach > 0 AND m.likes IS NOT NULL AND m.comments IS NOT NULL
            THEN CAST(m.likes + m.comments + COALESCE(m.shares, 0) + COALESCE(m.saves, 0) AS DOUBLE) / m.reach END AS er_reach
FROM silver.posts p
JOIN newest n ON n.platform = p.platform AND n.post_id = p.post_id
JOIN silver.post_metrics m ON m.platform = n.platform AND m.post_id = n.post_id AND m.snapshot_date = n.snapshot_date
WHERE p.media_type <> 'story' AND CAST(p.published_at AS DATE) <= ${as_of_date}
