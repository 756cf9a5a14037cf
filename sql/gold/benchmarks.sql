-- gold.benchmarks: for every cohort in use on ${as_of_date} (widened as gold.cohort_members
-- says) and every benchmarked metric: members with a value, p10, p25, p50, p75, p90 (linear
-- interpolation between order statistics) and the mean. Kept per run date, so comparisons
-- "as of" a past day read that day's rows.
-- Means and sums of fractions are taken over DECIMAL(38, 18): a float sum depends on the order
-- rows arrive in, a decimal one does not, so a rerun gives bit-identical results.
WITH members AS (
    SELECT DISTINCT cohort_platform, cohort_niche, cohort_tier, widened, cohort, platform, account_id
    FROM gold.cohort_members
),
pairs AS (
    SELECT c.cohort_platform, c.cohort_niche, c.cohort_tier, c.widened, c.cohort, unnest(make_array(
        named_struct('metric', 'er_followers_mean', 'value', m.er_followers_mean),
        named_struct('metric', 'er_followers_median', 'value', m.er_followers_median),
        named_struct('metric', 'er_followers_full', 'value', m.er_followers_full),
        named_struct('metric', 'er_views', 'value', m.er_views),
        named_struct('metric', 'er_reach', 'value', m.er_reach),
        named_struct('metric', 'followers', 'value', CAST(m.followers AS DOUBLE)),
        named_struct('metric', 'growth_pct_30d', 'value', m.growth_pct_30d),
        named_struct('metric', 'growth_pct_90d', 'value', m.growth_pct_90d),
        named_struct('metric', 'est_reach_per_post', 'value', m.est_reach_per_post),
        named_struct('metric', 'posts_per_week', 'value', m.posts_per_week),
        named_struct('metric', 'avg_likes', 'value', m.avg_likes),
        named_struct('metric', 'emv_usd', 'value', m.emv_usd),
        named_struct('metric', 'sponsored_share', 'value', m.sponsored_share)
    )) AS pair
    FROM members c
    JOIN gold.influencer_metrics m
      ON m.platform = c.platform AND m.account_id = c.account_id AND m.as_of_date = ${as_of_date}
),
values_long AS (
    SELECT cohort_platform, cohort_niche, cohort_tier, widened, cohort, pair['metric'] AS metric, pair['value'] AS value
    FROM pairs
)
SELECT ${as_of_date} AS run_date,
       cohort_platform AS platform, cohort_niche AS niche, cohort_tier AS tier,
       CASE WHEN widened THEN cohort END AS widened_to,
       metric,
       COUNT(value) AS members,
       percentile_cont(0.10) WITHIN GROUP (ORDER BY value) AS p10,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY value) AS p25,
       percentile_cont(0.50) WITHIN GROUP (ORDER BY value) AS p50,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY value) AS p75,
       percentile_cont(0.90) WITHIN GROUP (ORDER BY value) AS p90,
       CAST(AVG(CAST(value AS DECIMAL(38, 18))) AS DOUBLE) AS mean,
       ${metrics.version} AS formula_version,
       ${run_id} AS run_id
FROM values_long
GROUP BY cohort_platform, cohort_niche, cohort_tier, widened, cohort, metric
