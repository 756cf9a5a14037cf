-- silver.post_engagement (a view the gold steps share): every post published on or before
-- ${as_of_date} with its newest counters on or before that day and its per-post ratios.
-- Stories are left out: they have no public counters and vanish after 24 hours.
-- Each post's newest counters are ordered aggregates over its snapshots, not a window (which
-- sorts every snapshot) nor a newest day joined back to the snapshots (a second join as large
-- as the posts, whose hash table cannot spill): an aggregate spills when memory runs short.
WITH newest AS (
    SELECT platform, post_id,
           last_value(likes ORDER BY snapshot_date) AS likes,
           last_value(comments ORDER BY snapshot_date) AS comments,
           last_value(shares ORDER BY snapshot_date) AS shares,
           last_value(saves ORDER BY snapshot_date) AS saves,
           last_value(views ORDER BY snapshot_date) AS views,
           last_value(reach ORDER BY snapshot_date) AS reach,
           last_value(impressions ORDER BY snapshot_date) AS impressions
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
FROM newest m
JOIN silver.posts p ON p.platform = m.platform AND p.post_id = m.post_id
WHERE p.media_type <> 'story' AND CAST(p.published_at AS DATE) <= ${as_of_date}
