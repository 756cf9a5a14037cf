-- One row per creator in the report's scope, as of the period's last day: who they are, their
-- Social Score (the definition's formula version) and the metrics it chose (${metrics} is a
-- column list built from a fixed set of gold.influencer_metrics columns, never user text).
WITH metrics AS (
    SELECT m.*, row_number() OVER (PARTITION BY m.platform, m.account_id ORDER BY m.as_of_date DESC) AS newest
    FROM gold.influencer_metrics m
    JOIN report.scope s ON s.platform = m.platform AND s.account_id = m.account_id
    WHERE m.as_of_date <= ${to}
),
score AS (
    SELECT sc.platform, sc.account_id, sc.score, sc.confidence,
           row_number() OVER (PARTITION BY sc.platform, sc.account_id ORDER BY sc.as_of_date DESC) AS newest
    FROM gold.social_score sc
    JOIN report.scope s ON s.platform = sc.platform AND s.account_id = sc.account_id
    WHERE sc.as_of_date <= ${to} AND sc.formula_version = ${formula}
)
SELECT m.platform, m.account_id, a.handle, a.display_name, m.niche, m.country, m.tier, m.as_of_date, m.followers,
       sc.score, sc.confidence${metrics}
FROM metrics m
JOIN silver.accounts a ON a.platform = m.platform AND a.account_id = m.account_id
LEFT JOIN score sc ON sc.platform = m.platform AND sc.account_id = m.account_id AND sc.newest = 1
WHERE m.newest = 1
ORDER BY sc.score DESC NULLS LAST, m.platform, m.account_id
