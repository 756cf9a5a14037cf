-- gold.sentiment: comment sentiment (captions are not comments) per post and per influencer over the 90 days up to
-- ${as_of_date}, as scored by ${sentiment_model}: counts per label and net sentiment =
-- (positive − negative) ÷ total, which is null (insufficient_comments) under 30 comments.
WITH scored AS (
    SELECT s.platform, s.account_id, s.post_id, s.label
    FROM gold.comment_sentiment s
    JOIN silver.comments c ON c.platform = s.platform AND c.comment_id = s.comment_id
    WHERE s.model_version = ${sentiment_model} AND s.source = 'comment'
      AND CAST(c.published_at AS DATE) <= ${as_of_date}
      AND CAST(CAST(c.published_at AS DATE) AS INT) > CAST(${as_of_date} AS INT) - 90
),
counted AS (
    SELECT 'post' AS level, platform, account_id, post_id,
           COUNT(*) FILTER (WHERE label = 'positive') AS positive,
           COUNT(*) FILTER (WHERE label = 'neutral') AS neutral,
           COUNT(*) FILTER (WHERE label = 'negative') AS negative,
           COUNT(*) AS total
    FROM scored
    GROUP BY platform, account_id, post_id
    UNION ALL
    SELECT 'influencer', platform, account_id, '',
           COUNT(*) FILTER (WHERE label = 'positive'),
           COUNT(*) FILTER (WHERE label = 'neutral'),
           COUNT(*) FILTER (WHERE label = 'negative'),
           COUNT(*)
    FROM scored
    GROUP BY platform, account_id
)
SELECT level, platform, account_id, post_id, ${as_of_date} AS as_of_date,
       positive, neutral, negative, total,
       CASE WHEN total >= 30 THEN CAST(positive - negative AS DOUBLE) / total END AS net_sentiment,
       CASE WHEN total < 30 THEN 'insufficient_comments' END AS null_reason,
       ${sentiment_model} AS model_version, ${run_id} AS run_id
FROM counted
