-- gold.cohort_members (a view the benchmark and score steps share): for every cohort in use on
-- ${as_of_date}, its members. A cohort is platform × niche × tier; one with fewer than
-- ${metrics.cohort_min_members} members is widened: first the niche is dropped
-- (platform/*/tier), then the tier is merged with its neighbours (platform/*/nano+micro+mid).
-- `own` marks the row of each influencer's own (possibly widened) cohort.
WITH m AS (
    SELECT im.platform, im.account_id, COALESCE(im.niche, 'unknown') AS niche, im.tier, t.ordinal
    FROM gold.influencer_metrics im
    JOIN registry.tiers t ON t.tier = im.tier
    WHERE im.as_of_date = ${as_of_date}
),
by_niche AS (
    SELECT platform, niche, tier, ordinal, COUNT(*) AS n0 FROM m GROUP BY platform, niche, tier, ordinal
),
by_tier AS (
    SELECT platform, ordinal, COUNT(*) AS n1 FROM m GROUP BY platform, ordinal
),
merged AS (
    -- Tier ordinal o merged with o-1 and o+1: members and the label naming the tiers.
    SELECT c.platform, c.ordinal, SUM(n.n1) AS n2
    FROM by_tier c JOIN by_tier n ON n.platform = c.platform AND n.ordinal BETWEEN c.ordinal - 1 AND c.ordinal + 1
    GROUP BY c.platform, c.ordinal
),
labels AS (
    SELECT c.ordinal, string_agg(n.tier, '+' ORDER BY n.ordinal) AS label
    FROM registry.tiers c JOIN registry.tiers n ON n.ordinal BETWEEN c.ordinal - 1 AND c.ordinal + 1
    GROUP BY c.ordinal
),
chosen AS (
    SELECT b.platform, b.niche, b.tier, b.ordinal,
           CASE WHEN b.n0 >= ${metrics.cohort_min_members} THEN 0
                WHEN t.n1 >= ${metrics.cohort_min_members} THEN 1
                ELSE 2 END AS level,
           b.n0, t.n1, g.n2, l.label
    FROM by_niche b
    JOIN by_tier t ON t.platform = b.platform AND t.ordinal = b.ordinal
    JOIN merged g ON g.platform = b.platform AND g.ordinal = b.ordinal
    JOIN labels l ON l.ordinal = b.ordinal
),
cohorts AS (
    SELECT DISTINCT platform,
           CASE WHEN level = 0 THEN niche ELSE '*' END AS cohort_niche,
           CASE WHEN level = 2 THEN label ELSE tier END AS cohort_tier,
           level, ordinal,
           CASE WHEN level = 0 THEN niche END AS only_niche
    FROM chosen
)
SELECT c.platform AS cohort_platform, c.cohort_niche, c.cohort_tier,
       c.platform || '/' || c.cohort_niche || '/' || c.cohort_tier AS cohort,
       c.level > 0 AS widened,
       COUNT(*) OVER (PARTITION BY c.platform, c.cohort_niche, c.cohort_tier) AS cohort_size,
       m.platform, m.account_id, m.niche, m.tier,
       ch.level = c.level AND (c.level = 2 AND ch.ordinal = c.ordinal OR c.level < 2) AS own
FROM cohorts c
JOIN m ON m.platform = c.platform
      AND (c.only_niche IS NULL OR m.niche = c.only_niche)
      AND (CASE WHEN c.level = 2 THEN m.ordinal BETWEEN c.ordinal - 1 AND c.ordinal + 1 ELSE m.ordinal = c.ordinal END)
JOIN chosen ch ON ch.platform = m.platform AND ch.niche = m.niche AND ch.tier = m.tier
