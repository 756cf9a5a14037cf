-- silver.post_engagement (a view the gold steps share): every post published on or before
-- ${as_of_date} with its newest counters on or before that day and its per-post ratios.
-- Stories are left out: they have no public counters and vanish after 24 hours.
WITH newest AS (
    SELECT m.*, ROW_NUMBER() OVER (PARTITION BY platform, post_id ORDER BY snapshot_date DESC) AS pick
    FROM silver.post_metrics m
    WHERE snapshot_date <= ${as_of_date}
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
JOIN newest m ON m.platform = p.platform AND m.post_id = p.post_id AND m.pick = 1
WHERE p.media_type <> 'story' AND CAST(p.published_at AS DATE) <= ${as_of_date}
