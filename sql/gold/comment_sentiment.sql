-- gold.comment_sentiment: each comment and each post caption scored by the sentiment model
-- ${sentiment_model} (label, its probability, the three class probabilities and the detected
-- language). The step reads only the comments and posts silver gained since its last run,
-- unless the model changed. A caption's row carries the post id as its comment_id.
WITH texts AS (
    SELECT platform, 'comment' AS source, comment_id, post_id, account_id, text
    FROM silver.comments
    UNION ALL
    SELECT platform, 'caption', post_id AS comment_id, post_id, account_id, caption
    FROM silver.posts
    WHERE caption IS NOT NULL AND trim(caption) <> ''
),
scored AS (
    SELECT platform, source, comment_id, post_id, account_id, sentiment_score(text) AS s
    FROM texts
)
SELECT platform, source, comment_id, post_id, account_id,
       s['label'] AS label, s['probability'] AS probability,
       s['p_negative'] AS p_negative, s['p_neutral'] AS p_neutral, s['p_positive'] AS p_positive,
       s['language'] AS language,
       ${sentiment_model} AS model_version, ${run_id} AS run_id
FROM scored
