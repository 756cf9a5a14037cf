-- gold.comment_sentiment: each comment scored by the sentiment model ${sentiment_model}
-- (label, its probability, the three class probabilities and the detected language). The step
-- reads only the comments silver gained since its last run, unless the model changed.
WITH scored AS (
    SELECT platform, comment_id, post_id, account_id, sentiment_score(text) AS s
    FROM silver.comments
)
SELECT platform, comment_id, post_id, account_id,
       s['label'] AS label, s['probability'] AS probability,
       s['p_negative'] AS p_negative, s['p_neutral'] AS p_neutral, s['p_positive'] AS p_positive,
       s['language'] AS language,
       ${sentiment_model} AS model_version, ${run_id} AS run_id
FROM scored
