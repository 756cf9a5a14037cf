-- silver.account_daily: one snapshot per account and UTC day. A profile answer is a snapshot
-- of the day it was fetched; the API for Business also reports past days' followers
-- (`metrics[].followers_count`), which fill days without a snapshot of their own. A profile
-- snapshot beats a reported day, and the newest answer of the day wins.
WITH snapshots AS (
    SELECT 'instagram' AS platform, account_ref AS account_id, fetched_at, request_fingerprint, 1 AS rank_source,
           CASE WHEN endpoint = 'business_discovery' THEN json_get_json(body, 'business_discovery') ELSE body END AS doc
    FROM bronze.instagram_raw
    WHERE http_status = 200 AND endpoint IN ('ig_user', 'business_discovery')
    UNION ALL
    SELECT 'facebook', account_ref, fetched_at, request_fingerprint, 1, body
    FROM bronze.facebook_raw
    WHERE http_status = 200 AND endpoint = 'page'
    UNION ALL
    SELECT 'tiktok', account_ref, fetched_at, request_fingerprint, 1, json_get_json(body, 'data', 'user')
    FROM bronze.tiktok_raw
    WHERE http_status = 200 AND endpoint = 'user_info'
    UNION ALL
    SELECT 'tiktok', account_ref, fetched_at, request_fingerprint, 1, json_get_json(body, 'data')
    FROM bronze.tiktok_business_raw
    WHERE http_status = 200 AND endpoint = 'business_get' AND json_get_int(body, 'code') = 0
),
counters AS (
    SELECT platform, account_id, CAST(fetched_at AS DATE) AS snapshot_date, fetched_at, request_fingerprint, rank_source,
           COALESCE(json_get_int(doc, 'followers_count'), json_get_int(doc, 'follower_count'), json_get_int(doc, 'fan_count')) AS followers,
           COALESCE(json_get_int(doc, 'follows_count'), json_get_int(doc, 'following_count')) AS follows,
           COALESCE(json_get_int(doc, 'media_count'), json_get_int(doc, 'video_count'), json_get_int(doc, 'videos_count')) AS media_count,
           COALESCE(json_get_int(doc, 'likes_count'), json_get_int(doc, 'total_likes')) AS likes_total
    FROM snapshots
    UNION ALL
    SELECT 'tiktok', account_ref, CAST(json_get_str(day, 'date') AS DATE), fetched_at, request_fingerprint, 2,
           json_get_int(day, 'followers_count'), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)
    FROM (
        SELECT account_ref, fetched_at, request_fingerprint, unnest(json_get_array(body, 'data', 'metrics')) AS day
        FROM bronze.tiktok_business_raw
        WHERE http_status = 200 AND endpoint = 'business_get' AND json_get_int(body, 'code') = 0
    ) reported
),
ranked AS (
    -- counters holds extracted numbers only, so this sort handles small rows.
    SELECT *, ROW_NUMBER() OVER (PARTITION BY platform, account_id, snapshot_date
                                 ORDER BY rank_source, fetched_at DESC, request_fingerprint DESC) AS pick
    FROM counters
    WHERE followers IS NOT NULL
)
SELECT n.platform, n.account_id, n.snapshot_date, n.followers,
       COALESCE(n.follows, e.follows) AS follows,
       COALESCE(n.media_count, e.media_count) AS media_count,
       COALESCE(n.likes_total, e.likes_total) AS likes_total,
       n.fetched_at AS captured_at
FROM ranked n
LEFT JOIN silver.account_daily e
       ON e.platform = n.platform AND e.account_id = n.account_id AND e.snapshot_date = n.snapshot_date
WHERE n.pick = 1
  -- A reported day never replaces a profile snapshot already in silver.
  AND NOT (n.rank_source = 2 AND e.follows IS NOT NULL)
