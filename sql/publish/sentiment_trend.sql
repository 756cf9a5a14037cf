-- Weekly net sentiment of each influencer's comments over the 90 days up to ${as_of_date}, as
-- scored by ${sentiment_model}: the trend line of the profile (weeks with no comments are absent).
SELECT s.platform, s.account_id,
       CAST(date_trunc('week', c.published_at) AS DATE) AS week,
       COUNT(*) AS total,
       CAST(COUNT(*) FILTER (WHERE s.label = 'positive') - COUNT(*) FILTER (WHERE s.label = 'negative') AS DOUBLE) / COUNT(*) AS net_sentiment
FROM gold.comment_sentiment s
JOIN silver.comments c ON c.platform = s.platform AND c.comment_id = s.comment_id
WHERE s.model_version = ${sentiment_model} AND s.source = 'comment'
  AND CAST(c.published_at AS DATE) <= ${as_of_date}
  AND CAST(CAST(c.published_at AS DATE) AS INT) > CAST(${as_of_date} AS INT) - 90
GROUP BY s.platform, s.account_id, CAST(date_trunc('week', c.published_at) AS DATE)
ORDER BY s.platform, s.account_id, week
