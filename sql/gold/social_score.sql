-- gold.social_score: every score formula of the registry (registry.score_weights; Social Score
-- v1 is metrics.md's) for each influencer on ${as_of_date}. Each component is the influencer's
-- percentile (0–100) in its cohort — 100 × (members below + half the members equal) ÷ members
-- with a value — except authenticity, which is 100 minus the penalties of its open flags.
-- score = Σ weight × percentile ÷ Σ weight over the components with data; the others are left
-- out and named in missing_components.
WITH metrics AS (
    SELECT m.*,
           (m.platform = 'tiktok' OR m.er_views_posts * 2 > m.er_followers_posts) AS video_first
    FROM gold.influencer_metrics m
    WHERE m.as_of_date = ${as_of_date}
),
spike_gains AS (
    -- Unexplained spikes of the last 30 days are taken out of growth.
    SELECT platform, account_id, SUM(CAST(json_get_int(evidence, 'gain') AS DOUBLE)) AS gained
    FROM gold.anomaly_flags
    WHERE flag_type = 'follower_spike' AND CAST(day AS INT) > CAST(${as_of_date} AS INT) - 30 AND day <= ${as_of_date}
    GROUP BY platform, account_id
),
sentiment AS (
    SELECT platform, account_id, net_sentiment,
           ROW_NUMBER() OVER (PARTITION BY platform, account_id ORDER BY model_version DESC) AS pick
    FROM gold.sentiment
    WHERE level = 'influencer' AND as_of_date = ${as_of_date} AND net_sentiment IS NOT NULL
),
inputs AS (
    -- One row per influencer and input metric.
    SELECT platform, account_id, 'er_views' AS metric, er_views AS value FROM metrics WHERE er_views IS NOT NULL
    UNION ALL
    SELECT platform, account_id, 'er_followers_median', er_followers_median FROM metrics WHERE er_followers_median IS NOT NULL
    UNION ALL
    SELECT m.platform, m.account_id, 'growth_pct_30d_without_spikes',
           m.growth_pct_30d - COALESCE(s.gained, 0) * (1 + m.growth_pct_30d) / m.followers
    FROM metrics m LEFT JOIN spike_gains s ON s.platform = m.platform AND s.account_id = m.account_id
    WHERE m.growth_pct_30d IS NOT NULL AND m.followers > 0
    UNION ALL
    SELECT platform, account_id, 'net_sentiment', net_sentiment FROM sentiment WHERE pick = 1
),
ranked AS (
    -- Percentile of every member in every cohort it belongs to.
    SELECT c.cohort, c.own, c.platform, c.account_id, i.metric, i.value,
           100.0 * ((RANK() OVER (PARTITION BY c.cohort, i.metric ORDER BY i.value) - 1)
                    + 0.5 * COUNT(*) OVER (PARTITION BY c.cohort, i.metric, i.value))
                 / COUNT(*) OVER (PARTITION BY c.cohort, i.metric) AS percentile
    FROM gold.cohort_members c
    JOIN inputs i ON i.platform = c.platform AND i.account_id = c.account_id
),
reach_ranked AS (
    -- Reach is compared within platform × niche (all tiers), on a log scale; a niche with too
    -- few members is compared with the whole platform instead.
    SELECT platform, account_id, niche, ln(est_reach_per_post) AS log_reach,
           COUNT(*) OVER (PARTITION BY platform, niche) AS niche_members,
           100.0 * ((RANK() OVER (PARTITION BY platform, niche ORDER BY ln(est_reach_per_post)) - 1)
                    + 0.5 * COUNT(*) OVER (PARTITION BY platform, niche, ln(est_reach_per_post)))
                 / COUNT(*) OVER (PARTITION BY platform, niche) AS in_niche,
           100.0 * ((RANK() OVER (PARTITION BY platform ORDER BY ln(est_reach_per_post)) - 1)
                    + 0.5 * COUNT(*) OVER (PARTITION BY platform, ln(est_reach_per_post)))
                 / COUNT(*) OVER (PARTITION BY platform) AS in_platform
    FROM (SELECT platform, account_id, COALESCE(niche, 'unknown') AS niche, est_reach_per_post FROM metrics WHERE est_reach_per_post > 0) r
),
reach AS (
    SELECT platform, account_id, log_reach,
           CASE WHEN niche_members >= ${metrics.cohort_min_members} THEN niche || ' ' ELSE '' END || 'creators on ' ||
               CASE platform WHEN 'tiktok' THEN 'TikTok' WHEN 'instagram' THEN 'Instagram' WHEN 'facebook' THEN 'Facebook' ELSE platform END AS words,
           CASE WHEN niche_members >= ${metrics.cohort_min_members} THEN in_niche ELSE in_platform END AS percentile
    FROM reach_ranked
),
penalties AS (
    SELECT f.platform, f.account_id, SUM(p.penalty) AS penalty, COUNT(*) AS open_flags
    FROM gold.anomaly_flags f
    JOIN registry.flag_penalties p ON p.flag_type = f.flag_type
    WHERE f.penalised AND f.day <= ${as_of_date}
    GROUP BY f.platform, f.account_id
),
own AS (
    SELECT DISTINCT platform, account_id, cohort, widened, cohort_size, cohort_platform, cohort_niche, cohort_tier,
           -- "micro fitness creators on Instagram", for the plain-language strengths.
           cohort_tier || CASE WHEN cohort_niche = '*' THEN '' ELSE ' ' || cohort_niche END || ' creators on ' ||
               CASE cohort_platform WHEN 'tiktok' THEN 'TikTok' WHEN 'instagram' THEN 'Instagram' WHEN 'facebook' THEN 'Facebook' ELSE cohort_platform END AS words
    FROM gold.cohort_members
    WHERE own
),
components AS (
    SELECT m.platform, m.account_id, 'engagement' AS component, r.metric AS input_metric, r.value, r.percentile, o.words
    FROM metrics m
    JOIN own o ON o.platform = m.platform AND o.account_id = m.account_id
    JOIN ranked r ON r.platform = m.platform AND r.account_id = m.account_id AND r.cohort = o.cohort
                 AND r.metric = CASE WHEN m.video_first THEN 'er_views' ELSE 'er_followers_median' END
    UNION ALL
    SELECT platform, account_id, 'reach', 'est_reach_per_post', exp(log_reach), percentile, words FROM reach
    UNION ALL
    SELECT m.platform, m.account_id, 'growth', r.metric, r.value, r.percentile, o.words
    FROM metrics m
    JOIN own o ON o.platform = m.platform AND o.account_id = m.account_id
    JOIN ranked r ON r.platform = m.platform AND r.account_id = m.account_id AND r.cohort = o.cohort AND r.metric = 'growth_pct_30d_without_spikes'
    UNION ALL
    SELECT m.platform, m.account_id, 'sentiment', r.metric, r.value, r.percentile, o.words
    FROM metrics m
    JOIN own o ON o.platform = m.platform AND o.account_id = m.account_id
    JOIN ranked r ON r.platform = m.platform AND r.account_id = m.account_id AND r.cohort = o.cohort AND r.metric = 'net_sentiment'
    UNION ALL
    SELECT m.platform, m.account_id, 'authenticity', 'open_flag_penalties', COALESCE(p.penalty, 0),
           GREATEST(0.0, 100.0 - COALESCE(p.penalty, 0)), ''
    FROM metrics m
    LEFT JOIN penalties p ON p.platform = m.platform AND p.account_id = m.account_id
),
weighted AS (
    SELECT w.formula_id, w.formula_version, w.component, w.weight, c.platform, c.account_id, c.input_metric, c.value, c.percentile, c.words
    FROM registry.score_weights w
    JOIN components c ON c.component = w.component
),
totals AS (
    -- Exact sums (DECIMAL), so the score does not depend on the order components arrive in.
    SELECT formula_id, formula_version, platform, account_id,
           CAST(SUM(CAST(weight AS DECIMAL(38, 15))) AS DOUBLE) AS weight_with_data,
           CAST(SUM(CAST(weight AS DECIMAL(38, 15)) * CAST(percentile AS DECIMAL(38, 15))) AS DOUBLE)
               / CAST(SUM(CAST(weight AS DECIMAL(38, 15))) AS DOUBLE) AS score, COUNT(*) AS present
    FROM weighted
    GROUP BY formula_id, formula_version, platform, account_id
),
described AS (
    SELECT w.*, t.score, w.weight * w.percentile / t.weight_with_data AS contribution
    FROM weighted w
    JOIN totals t ON t.formula_id = w.formula_id AND t.formula_version = w.formula_version AND t.platform = w.platform AND t.account_id = w.account_id
),
missing AS (
    SELECT w.formula_id, w.formula_version, m.platform, m.account_id,
           array_agg(w.component ORDER BY w.weight DESC, w.component) AS missing_components
    FROM registry.score_weights w
    CROSS JOIN metrics m
    LEFT JOIN components c ON c.platform = m.platform AND c.account_id = m.account_id AND c.component = w.component
    WHERE c.component IS NULL
    GROUP BY w.formula_id, w.formula_version, m.platform, m.account_id
),
scored AS (
    SELECT d.formula_id, d.formula_version, d.platform, d.account_id, MAX(d.score) AS score,
           array_agg(named_struct('name', d.component, 'input_metric', d.input_metric, 'value', d.value, 'percentile', d.percentile,
                                  'weight', d.weight, 'contribution', d.contribution) ORDER BY d.weight DESC, d.component) AS components,
           array_slice(array_agg(
               CASE WHEN d.component = 'authenticity' THEN 'no open authenticity flags'
                    ELSE d.component || ' in the top ' || CAST(GREATEST(1, CAST(round(100 - d.percentile) AS BIGINT)) AS VARCHAR) || '% of ' || d.words END
               ORDER BY d.percentile DESC, d.component)
               FILTER (WHERE (d.component = 'authenticity' AND d.percentile >= 100) OR (d.component <> 'authenticity' AND d.percentile >= 75)), 1, 3) AS strengths,
           array_slice(array_agg(
               CASE WHEN d.component = 'authenticity' THEN 'authenticity lowered to ' || CAST(CAST(round(d.percentile) AS BIGINT) AS VARCHAR) || ' of 100 by open flags'
                    ELSE d.component || ' in the bottom ' || CAST(GREATEST(1, CAST(round(d.percentile) AS BIGINT)) AS VARCHAR) || '% of ' || d.words END
               ORDER BY d.percentile, d.component)
               FILTER (WHERE (d.component = 'authenticity' AND d.percentile < 75) OR (d.component <> 'authenticity' AND d.percentile <= 25)), 1, 3) AS weaknesses
    FROM described d
    GROUP BY d.formula_id, d.formula_version, d.platform, d.account_id
)
SELECT s.platform, s.account_id, ${as_of_date} AS as_of_date, s.formula_id, s.formula_version,
       s.score,
       CASE WHEN m.tier = 'emerging' THEN 'low'
            WHEN cardinality(COALESCE(x.missing_components, string_to_array('', ' '))) = 0 AND NOT o.widened THEN 'high'
            WHEN cardinality(COALESCE(x.missing_components, string_to_array('', ' '))) + CASE WHEN o.widened THEN 1 ELSE 0 END = 1 THEN 'medium'
            ELSE 'low' END AS confidence,
       m.platform || '/' || COALESCE(m.niche, 'unknown') || '/' || m.tier AS cohort,
       CASE WHEN o.widened THEN o.cohort END AS cohort_widened_to,
       o.cohort_size,
       s.components,
       COALESCE(x.missing_components, string_to_array('', ' ')) AS missing_components,
       COALESCE(s.strengths, string_to_array('', ' ')) AS strengths,
       COALESCE(s.weaknesses, string_to_array('', ' ')) AS weaknesses,
       ${input_versions} AS input_versions,
       ${run_id} AS run_id
FROM scored s
JOIN metrics m ON m.platform = s.platform AND m.account_id = s.account_id
JOIN own o ON o.platform = s.platform AND o.account_id = s.account_id
LEFT JOIN missing x ON x.formula_id = s.formula_id AND x.formula_version = s.formula_version AND x.platform = s.platform AND x.account_id = s.account_id
