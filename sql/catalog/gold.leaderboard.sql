-- gold.leaderboard: every influencer's latest Social Score (the default formula, social_score)
-- ranked inside its cohort, with the handle and the headline metrics of the same day.
-- The handle comes from silver.accounts: the view shows only that column of it, so viewers,
-- who cannot read silver, still see whom a row is about.
WITH latest AS (
    SELECT platform, account_id, MAX(as_of_date) AS as_of_date
    FROM gold.social_score
    WHERE formula_id = 'social_score'
    GROUP BY platform, account_id
)
SELECT s.cohort,
       RANK() OVER (PARTITION BY s.cohort ORDER BY s.score DESC) AS rank_in_cohort,
       s.platform, s.account_id, a.handle,
       s.score, s.confidence, s.cohort_size, s.cohort_widened_to,
       m.followers, m.tier, m.niche, m.country, m.language,
       m.er_followers_median, m.growth_pct_30d,
       s.as_of_date, s.formula_version
FROM gold.social_score s
JOIN latest l ON l.platform = s.platform AND l.account_id = s.account_id AND l.as_of_date = s.as_of_date
LEFT JOIN gold.influencer_metrics m ON m.platform = s.platform AND m.account_id = s.account_id AND m.as_of_date = s.as_of_date
LEFT JOIN silver.accounts a ON a.platform = s.platform AND a.account_id = s.account_id
WHERE s.formula_id = 'social_score'
