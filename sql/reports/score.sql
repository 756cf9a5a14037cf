-- The Social Score of every creator in scope as of the period's last day, one row per
-- component: its input metric and value, percentile in the cohort, weight and contribution.
WITH newest AS (
    SELECT sc.*, row_number() OVER (PARTITION BY sc.platform, sc.account_id ORDER BY sc.as_of_date DESC) AS rank
    FROM gold.social_score sc
    JOIN report.scope s ON s.platform = sc.platform AND s.account_id = sc.account_id
    WHERE sc.as_of_date <= ${to} AND sc.formula_version = ${formula}
),
components AS (
    SELECT platform, account_id, as_of_date, formula_version, score, confidence, cohort, cohort_widened_to, unnest(components) AS c
    FROM newest
    WHERE rank = 1
)
SELECT c.platform, c.account_id, a.handle, c.as_of_date, c.formula_version, c.score, c.confidence, c.cohort, c.cohort_widened_to,
       c.c['name'] AS component, c.c['input_metric'] AS input_metric, c.c['value'] AS value, c.c['percentile'] AS percentile,
       c.c['weight'] AS weight, c.c['contribution'] AS contribution
FROM components c
JOIN silver.accounts a ON a.platform = c.platform AND a.account_id = c.account_id
ORDER BY c.score DESC, c.platform, c.account_id, c.c['weight'] DESC, c.c['name']
