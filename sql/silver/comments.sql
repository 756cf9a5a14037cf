-- silver.comments: comments on collected posts. Commenters appear only as keyed hashes:
-- pseudonymise() is HMAC-SHA-256 with the lake's pseudonymisation key (a Rust function,
-- because the key is a secret that must never appear in SQL text or plans). Instagram replies
-- arrive nested in their top-level comment (`replies{…}`) and are flattened here. The post id
-- of Graph API comment pages is in the request path (`/{media-id}/comments`). A post's first
-- comments come expanded inside the media or Page post page that lists it (`comments{…}`),
-- the rest from the comment edge's pages.
WITH posts_with_comments AS (
    SELECT 'instagram' AS platform, account_ref, fetched_at, request_fingerprint, unnest(json_get_array(body, 'data')) AS post
    FROM bronze.instagram_raw
    WHERE http_status = 200 AND endpoint = 'media'
    UNION ALL
    SELECT 'facebook', account_ref, fetched_at, request_fingerprint, unnest(json_get_array(body, 'data'))
    FROM bronze.facebook_raw
    WHERE http_status = 200 AND endpoint = 'page_posts'
),
pages AS (
    SELECT 'instagram' AS platform, account_ref AS account_id, fetched_at, request_fingerprint,
           regexp_match(request_path, '/([0-9A-Za-z_]+)/comments')[1] AS post_id,
           unnest(json_get_array(body, 'data')) AS item
    FROM bronze.instagram_raw
    WHERE http_status = 200 AND endpoint = 'comments'
    UNION ALL
    SELECT 'facebook', account_ref, fetched_at, request_fingerprint,
           regexp_match(request_path, '/([0-9A-Za-z_]+)/comments')[1],
           unnest(json_get_array(body, 'data'))
    FROM bronze.facebook_raw
    WHERE http_status = 200 AND endpoint = 'page_post_comments'
    UNION ALL
    SELECT platform, account_ref, fetched_at, request_fingerprint, json_get_str(post, 'id'),
           unnest(json_get_array(post, 'comments', 'data'))
    FROM posts_with_comments
    WHERE json_get_array(post, 'comments', 'data') IS NOT NULL
),
graph AS (
    SELECT platform, account_id, fetched_at, request_fingerprint, post_id, item, CAST(NULL AS VARCHAR) AS parent
    FROM pages
    UNION ALL
    SELECT platform, account_id, fetched_at, request_fingerprint, post_id, reply, parent
    FROM (
        SELECT platform, account_id, fetched_at, request_fingerprint, post_id,
               json_get_str(item, 'id') AS parent,
               unnest(json_get_array(item, 'replies', 'data')) AS reply
        FROM pages
        WHERE json_get_array(item, 'replies', 'data') IS NOT NULL
    ) replies
),
all_comments AS (
    SELECT platform, account_id, fetched_at, request_fingerprint, post_id,
           json_get_str(item, 'id') AS comment_id,
           json_get_str(item, 'from', 'id') AS commenter,
           COALESCE(json_get_str(item, 'text'), json_get_str(item, 'message')) AS text,
           to_timestamp(COALESCE(json_get_str(item, 'timestamp'), json_get_str(item, 'created_time')), '%Y-%m-%dT%H:%M:%S%z') AS published_at,
           json_get_int(item, 'like_count') AS like_count,
           COALESCE(json_get_str(item, 'parent_id'), parent) AS parent_comment_id
    FROM graph
    UNION ALL
    SELECT 'tiktok', account_ref, fetched_at, request_fingerprint,
           json_get_str(item, 'video_id'),
           json_get_str(item, 'comment_id'),
           json_get_str(item, 'user_id'),
           json_get_str(item, 'text'),
           to_timestamp_seconds(json_get_int(item, 'create_time')),
           json_get_int(item, 'likes'),
           -- Top-level comments name the video as their parent.
           NULLIF(json_get_str(item, 'parent_comment_id'), json_get_str(item, 'video_id'))
    FROM (
        SELECT account_ref, fetched_at, request_fingerprint, unnest(json_get_array(body, 'data', 'comments')) AS item
        FROM bronze.tiktok_business_raw
        WHERE http_status = 200 AND endpoint = 'comment_list' AND json_get_int(body, 'code') = 0
    ) tiktok
),
newest AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY platform, comment_id ORDER BY fetched_at DESC, request_fingerprint DESC) AS pick
    FROM all_comments
    WHERE comment_id IS NOT NULL AND post_id IS NOT NULL AND text IS NOT NULL AND published_at IS NOT NULL
)
SELECT platform, comment_id, post_id, account_id,
       pseudonymise(platform || ':' || COALESCE(commenter, 'unknown')) AS commenter_hash,
       text, published_at, like_count, parent_comment_id,
       fetched_at AS updated_at
FROM newest
WHERE pick = 1
