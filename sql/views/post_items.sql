-- bronze.post_items (a view the silver post steps share): every post item of every media page
-- in bronze, one row each, with the answer it came from. `shape` says which API's fields it
-- has: ig (Graph API media), fb (Page posts), tt (Display API videos), ttb (API for Business).
SELECT 'instagram' AS platform, account_ref AS account_id, fetched_at, request_fingerprint,
       unnest(json_get_array(body, 'data')) AS item, 'ig' AS shape
FROM bronze.instagram_raw
WHERE http_status = 200 AND endpoint IN ('media', 'stories')
UNION ALL
SELECT 'instagram', account_ref, fetched_at, request_fingerprint,
       unnest(json_get_array(body, 'business_discovery', 'media', 'data')), 'ig'
FROM bronze.instagram_raw
WHERE http_status = 200 AND endpoint = 'business_discovery'
UNION ALL
SELECT 'facebook', account_ref, fetched_at, request_fingerprint, unnest(json_get_array(body, 'data')), 'fb'
FROM bronze.facebook_raw
WHERE http_status = 200 AND endpoint = 'page_posts'
UNION ALL
SELECT 'tiktok', account_ref, fetched_at, request_fingerprint, unnest(json_get_array(body, 'data', 'videos')), 'tt'
FROM bronze.tiktok_raw
WHERE http_status = 200 AND endpoint = 'video_list'
UNION ALL
SELECT 'tiktok', account_ref, fetched_at, request_fingerprint, unnest(json_get_array(body, 'data', 'videos')), 'ttb'
FROM bronze.tiktok_business_raw
WHERE http_status = 200 AND endpoint = 'video_list' AND json_get_int(body, 'code') = 0
