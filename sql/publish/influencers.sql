-- serving.influencers: each influencer on ${as_of_date} with its profile, every metric and every
-- score formula's result. The engagement rate shown is the one the score uses: er_views for
-- video-first accounts, else er_followers_median.
SELECT m.platform, m.account_id,
       COALESCE(a.handle, m.account_id) AS handle, a.display_name, m.niche, m.country, m.language,
       m.followers, m.tier,
       CASE WHEN m.platform = 'tiktok' OR m.er_views_posts * 2 > m.er_followers_posts THEN m.er_views ELSE m.er_followers_median END AS engagement_rate,
       CASE WHEN m.platform = 'tiktok' OR m.er_views_posts * 2 > m.er_followers_posts THEN 'er_views' ELSE 'er_followers_median' END AS engagement_metric,
       m.growth_pct_30d,
       s.score, s.confidence, ${default_score} AS score_formula,
       m.as_of_date
FROM gold.influencer_metrics m
LEFT JOIN silver.accounts a ON a.platform = m.platform AND a.account_id = m.account_id
LEFT JOIN gold.social_score s
       ON s.platform = m.platform AND s.account_id = m.account_id AND s.as_of_date = m.as_of_date
      AND s.formula_version = ${default_score}
WHERE m.as_of_date = ${as_of_date}
