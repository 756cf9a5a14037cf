-- silver.insights: first-party values of connected accounts, one per metric, period, day and
-- breakdown: Instagram account, audience and media insights, Facebook Page and post insights,
-- the daily metrics of the TikTok API for Business, and GA4 traffic by day, source and medium.
-- Metric names stay as the API version named them (api_version says which).
WITH graph_metrics AS (
    SELECT 'instagram' AS platform, account_ref AS account_id, fetched_at, request_fingerprint, api_version, endpoint,
           regexp_match(request_path, '/([0-9A-Za-z_]+)/insights')[1] AS object_id,
           unnest(json_get_array(body, 'data')) AS metric
    FROM bronze.instagram_raw
    WHERE http_status = 200 AND endpoint IN ('account_insights', 'audience_insights', 'media_insights')
    UNION ALL
    SELECT 'facebook', account_ref, fetched_at, request_fingerprint, api_version, endpoint,
           regexp_match(request_path, '/([0-9A-Za-z_]+)/insights')[1],
           unnest(json_get_array(body, 'data'))
    FROM bronze.facebook_raw
    WHERE http_status = 200 AND endpoint IN ('page_insights', 'post_insights')
),
graph_values AS (
    -- Daily (and lifetime) values: `values[]` with `end_time`, the end of the day they cover.
    SELECT platform, account_id, fetched_at, request_fingerprint, api_version, object_id,
           CASE WHEN endpoint IN ('media_insights', 'post_insights') THEN 'post' ELSE 'account' END AS object_type,
           json_get_str(metric, 'name') AS name, json_get_str(metric, 'period') AS period, v
    FROM (SELECT *, unnest(json_get_array(metric, 'values')) AS v FROM graph_metrics) daily
),
graph_rows AS (
    SELECT platform, account_id, object_id, object_type, name AS metric, period,
           -- end_time is midnight after the day (Pacific time on Meta's side); the day before it.
           COALESCE(CAST(to_timestamp(json_get_str(v, 'end_time'), '%Y-%m-%dT%H:%M:%S%z') - INTERVAL '1 day' AS DATE),
                    CAST(fetched_at AS DATE)) AS end_date,
           '' AS breakdown, '' AS breakdown_value,
           json_get_float(v, 'value') AS value,
           api_version, fetched_at, request_fingerprint
    FROM graph_values
    WHERE json_get_float(v, 'value') IS NOT NULL
    UNION ALL
    -- Object values (Page follows by country, reactions by type): one row per key.
    SELECT platform, account_id, object_id, object_type, name, period,
           COALESCE(CAST(to_timestamp(json_get_str(v, 'end_time'), '%Y-%m-%dT%H:%M:%S%z') - INTERVAL '1 day' AS DATE),
                    CAST(fetched_at AS DATE)),
           CASE WHEN name LIKE '%country' THEN 'country' WHEN name LIKE '%city' THEN 'city' ELSE 'type' END,
           k, json_get_float(json_get_json(v, 'value'), k), api_version, fetched_at, request_fingerprint
    FROM (SELECT *, unnest(json_object_keys(json_get_json(v, 'value'))) AS k FROM graph_values
          WHERE json_get_float(v, 'value') IS NULL AND json_get_json(v, 'value') LIKE '{%') objects
    UNION ALL
    -- total_value answers (audience demographics, metric_type=total_value): one row per bucket.
    SELECT platform, account_id, object_id, 'account', json_get_str(metric, 'name'), json_get_str(metric, 'period'),
           CAST(fetched_at AS DATE),
           json_get_str(breakdown, 'dimension_keys', 0),
           json_get_str(result, 'dimension_values', 0),
           json_get_float(result, 'value'), api_version, fetched_at, request_fingerprint
    FROM (
        SELECT *, unnest(json_get_array(breakdown, 'results')) AS result
        FROM (SELECT *, unnest(json_get_array(metric, 'total_value', 'breakdowns')) AS breakdown FROM graph_metrics) b
    ) buckets
    UNION ALL
    SELECT platform, account_id, object_id, 'account', json_get_str(metric, 'name'), json_get_str(metric, 'period'),
           CAST(fetched_at AS DATE), '', '', json_get_float(metric, 'total_value', 'value'),
           api_version, fetched_at, request_fingerprint
    FROM graph_metrics
    WHERE json_get_float(metric, 'total_value', 'value') IS NOT NULL
),
tiktok_days AS (
    SELECT account_ref, api_version, fetched_at, request_fingerprint, unnest(json_get_array(body, 'data', 'metrics')) AS day
    FROM bronze.tiktok_business_raw
    WHERE http_status = 200 AND endpoint = 'business_get' AND json_get_int(body, 'code') = 0
),
tiktok_metrics AS (
    -- The daily metrics the API for Business reports, one column each.
    SELECT account_ref, api_version, fetched_at, request_fingerprint, CAST(json_get_str(day, 'date') AS DATE) AS end_date,
           unnest(make_array(
               named_struct('metric', 'followers_count', 'value', json_get_float(day, 'followers_count')),
               named_struct('metric', 'profile_views', 'value', json_get_float(day, 'profile_views')),
               named_struct('metric', 'video_views', 'value', json_get_float(day, 'video_views')),
               named_struct('metric', 'likes', 'value', json_get_float(day, 'likes')),
               named_struct('metric', 'comments', 'value', json_get_float(day, 'comments')),
               named_struct('metric', 'shares', 'value', json_get_float(day, 'shares'))
           )) AS pair
    FROM tiktok_days
),
tiktok_rows AS (
    SELECT 'tiktok' AS platform, account_ref AS account_id, account_ref AS object_id, 'account' AS object_type,
           pair['metric'] AS metric, 'day' AS period, end_date, '' AS breakdown, '' AS breakdown_value, pair['value'] AS value,
           api_version, fetched_at, request_fingerprint
    FROM tiktok_metrics
),
ga4_report_rows AS (
    SELECT account_ref, api_version, fetched_at, request_fingerprint,
           json_get_str(body, 'metricHeaders', 0, 'name') AS metric0,
           json_get_str(body, 'metricHeaders', 1, 'name') AS metric1,
           unnest(json_get_array(body, 'rows')) AS r
    FROM bronze.ga4_raw
    WHERE http_status = 200 AND endpoint = 'run_report'
),
ga4_values AS (
    -- Dimensions asked: date, sessionSource, sessionMedium; metrics: sessions, activeUsers.
    SELECT account_ref, api_version, fetched_at, request_fingerprint,
           to_date(json_get_str(r, 'dimensionValues', 0, 'value'), '%Y%m%d') AS end_date,
           json_get_str(r, 'dimensionValues', 1, 'value') || ' / ' || json_get_str(r, 'dimensionValues', 2, 'value') AS source_medium,
           unnest(make_array(
               named_struct('metric', metric0, 'value', CAST(json_get_str(r, 'metricValues', 0, 'value') AS DOUBLE)),
               named_struct('metric', metric1, 'value', CAST(json_get_str(r, 'metricValues', 1, 'value') AS DOUBLE))
           )) AS pair
    FROM ga4_report_rows
),
ga4_rows AS (
    SELECT 'ga4' AS platform, account_ref AS account_id, account_ref AS object_id, 'property' AS object_type,
           pair['metric'] AS metric, 'day' AS period, end_date, 'sessionSourceMedium' AS breakdown, source_medium AS breakdown_value,
           pair['value'] AS value, api_version, fetched_at, request_fingerprint
    FROM ga4_values
),
everything AS (
    SELECT * FROM graph_rows
    UNION ALL SELECT * FROM tiktok_rows
    UNION ALL SELECT * FROM ga4_rows
),
newest AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY platform, object_id, metric, period, end_date, breakdown, breakdown_value
                                 ORDER BY fetched_at DESC, request_fingerprint DESC) AS pick
    FROM everything
    WHERE object_id IS NOT NULL AND metric IS NOT NULL AND value IS NOT NULL AND end_date IS NOT NULL
)
SELECT n.platform,
       -- Insights are private to the organisation that connected the account ('' until one has).
       COALESCE(a.org_id, '') AS org_id,
       n.account_id, n.object_id, n.object_type, n.metric, COALESCE(n.period, 'day') AS period, n.end_date,
       n.breakdown, n.breakdown_value, n.value, n.api_version, n.fetched_at AS captured_at
FROM newest n
LEFT JOIN silver.accounts a ON a.platform = n.platform AND a.account_id = n.account_id
WHERE n.pick = 1
