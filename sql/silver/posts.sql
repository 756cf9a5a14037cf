-- silver.posts: one row per post, Instagram media, Facebook Page posts and TikTok videos in one
-- shape. The newest answer about a post wins. Hashtags and mentions are parsed from the
-- caption; a disclosure (#publi, #ad, "parceria paga com", "paid partnership with", …) marks
-- the post as sponsored and names the signal found. followers_at_publish is the author's
-- followers on the silver.account_daily snapshot nearest to the publication day.
WITH normalised AS (
    SELECT platform, account_id, fetched_at, request_fingerprint,
           COALESCE(json_get_str(item, 'id'), json_get_str(item, 'item_id')) AS post_id,
           CASE
               WHEN shape IN ('tt', 'ttb') THEN 'video'
               WHEN shape = 'fb' THEN CASE WHEN json_get_str(item, 'status_type') = 'added_video' THEN 'video' ELSE 'image' END
               WHEN json_get_str(item, 'media_product_type') = 'STORY' THEN 'story'
               WHEN json_get_str(item, 'media_type') = 'CAROUSEL_ALBUM' THEN 'carousel'
               WHEN json_get_str(item, 'media_type') = 'VIDEO' OR json_get_str(item, 'media_product_type') = 'REELS' THEN 'video'
               ELSE 'image'
           END AS media_type,
           CASE
               WHEN shape IN ('tt', 'ttb') THEN to_timestamp_seconds(json_get_int(item, 'create_time'))
               -- Graph API times look like 2026-11-28T14:03:00+0000.
               ELSE to_timestamp(COALESCE(json_get_str(item, 'timestamp'), json_get_str(item, 'created_time')), '%Y-%m-%dT%H:%M:%S%z')
           END AS published_at,
           COALESCE(json_get_str(item, 'caption'), json_get_str(item, 'message'), json_get_str(item, 'video_description')) AS caption,
           COALESCE(json_get_str(item, 'permalink'), json_get_str(item, 'permalink_url'), json_get_str(item, 'share_url')) AS permalink,
           COALESCE(json_get_bool(item, 'is_pinned'), false) AS is_pinned
    FROM bronze.post_items
),
newest AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY platform, post_id ORDER BY fetched_at DESC, request_fingerprint DESC) AS pick
    FROM normalised
    WHERE post_id IS NOT NULL AND published_at IS NOT NULL
),
parsed AS (
    SELECT platform, post_id, account_id, media_type, published_at, caption, permalink, is_pinned, fetched_at,
           -- Words of the caption, split on anything that cannot be part of a tag.
           string_to_array(regexp_replace(lower(COALESCE(caption, '')), '[^\w#@.]+', ' ', 'g'), ' ') AS words,
           regexp_match(lower(COALESCE(caption, '')),
               '(#publi\b|#publicidade\b|#publipost\b|#publicidad\b|#ad\b|#ads\b|#sponsored\b|#patrocinado\b|#parceria\b|#partner\b|#gifted\b|#recebido\b|parceria paga|paid partnership|colaboraci[oó]n pagada)') AS disclosure
    FROM newest
    WHERE pick = 1
),
tags AS (
    SELECT platform, post_id,
           array_sort(array_distinct(array_agg(trim(substr(w, 2), '.')) FILTER (WHERE w LIKE '#_%'))) AS hashtags,
           array_sort(array_distinct(array_agg(trim(substr(w, 2), '.')) FILTER (WHERE w LIKE '@_%'))) AS mentions
    FROM (SELECT platform, post_id, unnest(words) AS w FROM parsed) words
    GROUP BY platform, post_id
),
nearest_snapshot AS (
    SELECT p.platform, p.post_id, d.followers,
           ROW_NUMBER() OVER (PARTITION BY p.platform, p.post_id
                              ORDER BY abs(CAST(d.snapshot_date AS INT) - CAST(CAST(p.published_at AS DATE) AS INT)), d.snapshot_date) AS pick
    FROM parsed p
    JOIN silver.account_daily d ON d.platform = p.platform AND d.account_id = p.account_id
)
SELECT p.platform, p.post_id, p.account_id, p.media_type,
       p.published_at,
       p.caption,
       CAST(character_length(COALESCE(p.caption, '')) AS INT) AS caption_length,
       -- string_to_array('', ' ') is the empty list: a post without tags has [] and not null.
       COALESCE(t.hashtags, string_to_array('', ' ')) AS hashtags,
       COALESCE(t.mentions, string_to_array('', ' ')) AS mentions,
       p.permalink,
       p.is_pinned,
       p.disclosure IS NOT NULL AS is_sponsored,
       p.disclosure[1] AS sponsored_signal,
       n.followers AS followers_at_publish,
       p.fetched_at AS updated_at
FROM parsed p
LEFT JOIN tags t ON t.platform = p.platform AND t.post_id = p.post_id
LEFT JOIN nearest_snapshot n ON n.platform = p.platform AND n.post_id = p.post_id AND n.pick = 1
