-- silver.accounts: one row per platform account, from the newest profile answer in bronze.
-- Declared attributes (niche, country, language, account type) come from the tracking
-- registry (the accounts file / tracked lists), landed in bronze as endpoint 'registry'.
-- Only the bronze rows new since the last run are read; values not in them are kept from the
-- existing silver row, so an incremental run never blanks a column.
WITH answers AS (
    SELECT 'instagram' AS platform, account_ref AS account_id, endpoint, fetched_at, request_fingerprint,
           CASE WHEN endpoint = 'business_discovery' THEN json_get_json(body, 'business_discovery') ELSE body END AS doc
    FROM bronze.instagram_raw
    WHERE http_status = 200 AND endpoint IN ('ig_user', 'business_discovery', 'registry')
    UNION ALL
    SELECT 'facebook', account_ref, endpoint, fetched_at, request_fingerprint, body
    FROM bronze.facebook_raw
    WHERE http_status = 200 AND endpoint IN ('page', 'registry')
    UNION ALL
    SELECT 'tiktok', account_ref, endpoint, fetched_at, request_fingerprint,
           CASE WHEN endpoint = 'user_info' THEN json_get_json(body, 'data', 'user') ELSE body END
    FROM bronze.tiktok_raw
    WHERE http_status = 200 AND endpoint IN ('user_info', 'registry')
    UNION ALL
    -- The API for Business answers errors inside HTTP 200: only code 0 is data.
    SELECT 'tiktok', account_ref, endpoint, fetched_at, request_fingerprint,
           CASE WHEN endpoint = 'business_get' THEN json_get_json(body, 'data') ELSE body END
    FROM bronze.tiktok_business_raw
    WHERE http_status = 200 AND endpoint IN ('business_get', 'registry')
      AND (endpoint = 'registry' OR json_get_int(body, 'code') = 0)
),
fields AS (
    -- Fields first, so the ranking below sorts small rows, not whole answers.
    SELECT platform, account_id, endpoint, fetched_at, request_fingerprint,
           COALESCE(json_get_str(doc, 'username'), json_get_str(doc, 'name')) AS handle,
           COALESCE(json_get_str(doc, 'name'), json_get_str(doc, 'display_name')) AS display_name,
           COALESCE(json_get_str(doc, 'biography'), json_get_str(doc, 'about'), json_get_str(doc, 'bio_description')) AS biography,
           COALESCE(json_get_str(doc, 'website'), json_get_str(doc, 'link')) AS website,
           COALESCE(json_get_str(doc, 'profile_picture_url'), json_get_str(doc, 'avatar_url'),
                    json_get_str(doc, 'profile_image'), json_get_str(doc, 'picture', 'data', 'url')) AS profile_picture_url,
           COALESCE(json_get_bool(doc, 'is_verified'),
                    CASE json_get_str(doc, 'verification_status') WHEN 'not_verified' THEN false WHEN 'blue_verified' THEN true WHEN 'gray_verified' THEN true END) AS is_verified,
           json_get_str(doc, 'handle') AS declared_handle,
           json_get_str(doc, 'account_type') AS account_type,
           json_get_str(doc, 'niche') AS niche,
           upper(json_get_str(doc, 'country')) AS country,
           lower(json_get_str(doc, 'language')) AS language,
           json_get_str(doc, 'org_id') AS org_id
    FROM answers
),
profiles AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY platform, account_id ORDER BY fetched_at DESC, request_fingerprint DESC) AS newest
    FROM fields
    -- `/me?fields=id` (the operator's own id, asked before business_discovery) is no profile.
    WHERE endpoint <> 'registry' AND COALESCE(handle, display_name) IS NOT NULL
),
registry AS (
    SELECT platform, account_id, declared_handle AS handle, display_name, account_type, niche, country, language, org_id,
           ROW_NUMBER() OVER (PARTITION BY platform, account_id ORDER BY fetched_at DESC, request_fingerprint DESC) AS newest
    FROM fields
    WHERE endpoint = 'registry'
),
seen AS (
    SELECT platform, account_id, MIN(fetched_at) AS first_seen_at, MAX(fetched_at) AS updated_at
    FROM answers
    GROUP BY platform, account_id
)
SELECT s.platform,
       s.account_id,
       COALESCE(p.handle, r.handle, e.handle) AS handle,
       COALESCE(p.display_name, r.display_name, e.display_name) AS display_name,
       COALESCE(p.biography, e.biography) AS biography,
       lower(COALESCE(r.account_type, e.account_type)) AS account_type,
       COALESCE(r.niche, e.niche) AS niche,
       COALESCE(r.country, e.country) AS country,
       COALESCE(r.language, e.language) AS language,
       COALESCE(p.website, e.website) AS website,
       COALESCE(p.profile_picture_url, e.profile_picture_url) AS profile_picture_url,
       COALESCE(p.is_verified, e.is_verified) AS is_verified,
       COALESCE(r.org_id, e.org_id) AS org_id,
       LEAST(s.first_seen_at, COALESCE(e.first_seen_at, s.first_seen_at)) AS first_seen_at,
       GREATEST(s.updated_at, COALESCE(e.updated_at, s.updated_at)) AS updated_at
FROM seen s
LEFT JOIN profiles p ON p.platform = s.platform AND p.account_id = s.account_id AND p.newest = 1
LEFT JOIN registry r ON r.platform = s.platform AND r.account_id = s.account_id AND r.newest = 1
LEFT JOIN silver.accounts e ON e.platform = s.platform AND e.account_id = s.account_id
WHERE COALESCE(p.handle, r.handle, e.handle) IS NOT NULL
