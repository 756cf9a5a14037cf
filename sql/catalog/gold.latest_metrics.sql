-- gold.latest_metrics: each influencer's newest row of gold.influencer_metrics, with the handle
-- (from silver.accounts, that column only): the table most questions start from.
WITH latest AS (
    SELECT platform, account_id, MAX(as_of_date) AS as_of_date
    FROM gold.influencer_metrics
    GROUP BY platform, account_id
)
SELECT a.handle, m.*
FROM gold.influencer_metrics m
JOIN latest l ON l.platform = m.platform AND l.account_id = m.account_id AND l.as_of_date = m.as_of_date
LEFT JOIN silver.accounts a ON a.platform = m.platform AND a.account_id = m.account_id
