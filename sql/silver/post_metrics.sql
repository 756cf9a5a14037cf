-- silver.post_metrics: one snapshot of a post's counters per UTC day. Public counts (what anyone
-- sees in the media lists) and first-party insights of connected accounts (reach, saves, views
-- …) of the same day are folded into one row; source says whether insights took part. The
-- newest answer of the day wins; values missing from this run's answers are kept from the
-- existing silver row.
WITH public AS (
    SELECT platform, account_id, CAST(fetched_at AS DATE) AS snapshot_date, fetched_at,
           COALESCE(json_get_str(item, 'id'), json_get_str(item, 'item_id')) AS post_id,
           COALESCE(json_get_int(item, 'like_count'), json_get_int(item, 'likes'), json_get_int(item, 'reactions', 'summary', 'total_count')) AS likes,
           COALESCE(json_get_int(item, 'comments_count'), json_get_int(item, 'comment_count'),
                    CASE WHEN shape = 'ttb' THEN json_get_int(item, 'comments') END,
                    json_get_int(item, 'comments', 'summary', 'total_count')) AS comments,
           COALESCE(json_get_int(item, 'share_count'), CASE WHEN shape = 'ttb' THEN json_get_int(item, 'shares') END,
                    json_get_int(item, 'shares', 'count')) AS shares,
           COALESCE(json_get_int(item, 'view_count'), json_get_int(item, 'video_views')) AS views,
           -- The API for Business is the creator's own connected account: its reach is first-party.
           json_get_int(item, 'reach') AS reach,
           shape = 'ttb' AS first_party,
           ROW_NUMBER() OVER (PARTITION BY platform, COALESCE(json_get_str(item, 'id'), json_get_str(item, 'item_id')), CAST(fetched_at AS DATE)
                              ORDER BY fetched_at DESC, request_fingerprint DESC) AS pick
    FROM bronze.post_items
),
insight_rows AS (
    SELECT 'instagram' AS platform, account_ref AS account_id, fetched_at, request_fingerprint,
           regexp_match(request_path, '/([0-9A-Za-z_]+)/insights')[1] AS post_id,
           unnest(json_get_array(body, 'data')) AS metric
    FROM bronze.instagram_raw
    WHERE http_status = 200 AND endpoint = 'media_insights'
    UNION ALL
    SELECT 'facebook', account_ref, fetched_at, request_fingerprint,
           regexp_match(request_path, '/([0-9A-Za-z_]+)/insights')[1],
           unnest(json_get_array(body, 'data'))
    FROM bronze.facebook_raw
    WHERE http_status = 200 AND endpoint = 'post_insights'
),
insight_values AS (
    SELECT platform, account_id, post_id, CAST(fetched_at AS DATE) AS snapshot_date, fetched_at,
           json_get_str(metric, 'name') AS name,
           -- Object-valued metrics (reactions by type) are null here; silver.insights keeps
           -- them broken down.
           json_get_int(metric, 'values', 0, 'value') AS value,
           ROW_NUMBER() OVER (PARTITION BY platform, post_id, CAST(fetched_at AS DATE), json_get_str(metric, 'name')
                              ORDER BY fetched_at DESC, request_fingerprint DESC) AS pick
    FROM insight_rows
),
insights AS (
    SELECT platform, post_id, snapshot_date, MAX(account_id) AS account_id, MAX(fetched_at) AS fetched_at,
           MAX(CASE WHEN name = 'likes' THEN value END) AS likes,
           MAX(CASE WHEN name IN ('shares') THEN value END) AS shares,
           MAX(CASE WHEN name = 'saved' THEN value END) AS saves,
           MAX(CASE WHEN name IN ('views', 'post_media_view') THEN value END) AS views,
           MAX(CASE WHEN name IN ('reach', 'post_total_media_view_unique') THEN value END) AS reach,
           MAX(CASE WHEN name = 'impressions' THEN value END) AS impressions
    FROM insight_values
    WHERE pick = 1 AND post_id IS NOT NULL
    GROUP BY platform, post_id, snapshot_date
),
merged AS (
    SELECT COALESCE(p.platform, i.platform) AS platform,
           COALESCE(p.post_id, i.post_id) AS post_id,
           COALESCE(p.account_id, i.account_id) AS account_id,
           COALESCE(p.snapshot_date, i.snapshot_date) AS snapshot_date,
           COALESCE(p.likes, i.likes) AS likes,
           p.comments AS comments,
           COALESCE(i.shares, p.shares) AS shares,
           i.saves AS saves,
           COALESCE(i.views, p.views) AS views,
           COALESCE(i.reach, p.reach) AS reach,
           i.impressions AS impressions,
           i.post_id IS NOT NULL OR COALESCE(p.first_party, false) AS first_party,
           GREATEST(COALESCE(p.fetched_at, i.fetched_at), COALESCE(i.fetched_at, p.fetched_at)) AS captured_at
    FROM (SELECT * FROM public WHERE pick = 1 AND post_id IS NOT NULL) p
    FULL OUTER JOIN insights i ON i.platform = p.platform AND i.post_id = p.post_id AND i.snapshot_date = p.snapshot_date
)
SELECT m.platform, m.post_id, m.account_id, m.snapshot_date,
       COALESCE(m.likes, e.likes) AS likes,
       COALESCE(m.comments, e.comments) AS comments,
       COALESCE(m.shares, e.shares) AS shares,
       COALESCE(m.saves, e.saves) AS saves,
       COALESCE(m.views, e.views) AS views,
       COALESCE(m.reach, e.reach) AS reach,
       COALESCE(m.impressions, e.impressions) AS impressions,
       CASE WHEN m.first_party OR e.source = 'insights' THEN 'insights' ELSE 'public' END AS source,
       GREATEST(m.captured_at, COALESCE(e.captured_at, m.captured_at)) AS captured_at
FROM merged m
LEFT JOIN silver.post_metrics e
       ON e.platform = m.platform AND e.post_id = m.post_id AND e.snapshot_date = m.snapshot_date
