-- gold.anomaly_flags: authenticity flags (rules ${flags.version}, metrics.md) up to
-- ${as_of_date}, each with the day, the numbers behind it (evidence) and a plain-language
-- reason. Flags of later days (from a run for a later day) are carried over unchanged, and a
-- flag keeps the time it was first detected.
WITH steps AS (
    SELECT platform, account_id, CAST(date AS INT) AS day, date, followers, follows,
           followers - LAG(followers) OVER (PARTITION BY platform, account_id ORDER BY date) AS gain,
           CAST(date AS INT) - LAG(CAST(date AS INT)) OVER (PARTITION BY platform, account_id ORDER BY date) AS step
    FROM gold.influencer_daily
    WHERE date <= ${as_of_date}
),
-- Day-over-day gains (only between consecutive days).
daily AS (
    SELECT * FROM steps WHERE step = 1
),
-- A spike clears three bars; two of them need no history, so the 60-day statistics (the costly
-- part: every day against its 60 before) are taken only for the days that clear those two.
candidates AS (
    SELECT * FROM daily
    WHERE gain > GREATEST(0.02 * (followers - gain), ${flags.min_spike_gain})
),
baseline AS (
    SELECT d.platform, d.account_id, d.day, median(h.gain) AS median_gain, COUNT(h.gain) AS baseline_days
    FROM candidates d
    JOIN daily h ON h.platform = d.platform AND h.account_id = d.account_id AND h.day BETWEEN d.day - 60 AND d.day - 1
    GROUP BY d.platform, d.account_id, d.day
),
spread AS (
    -- Robust standard deviation: 1.4826 × the median absolute deviation of the 60 days before.
    SELECT b.platform, b.account_id, b.day, b.median_gain, b.baseline_days,
           1.4826 * median(abs(h.gain - b.median_gain)) AS robust_sd
    FROM baseline b
    JOIN daily h ON h.platform = b.platform AND h.account_id = b.account_id AND h.day BETWEEN b.day - 60 AND b.day - 1
    GROUP BY b.platform, b.account_id, b.day, b.median_gain, b.baseline_days
),
spikes AS (
    SELECT d.platform, d.account_id, d.day, d.date, d.gain, d.followers - d.gain AS followers_before,
           s.robust_sd, s.median_gain,
           GREATEST(5 * s.robust_sd, 0.02 * (d.followers - d.gain), ${flags.min_spike_gain}) AS threshold
    FROM candidates d
    JOIN spread s ON s.platform = d.platform AND s.account_id = d.account_id AND s.day = d.day
    -- Two weeks of daily gains before the day, at least, to know what usual looks like.
    WHERE s.baseline_days >= 14
      AND d.gain > GREATEST(5 * s.robust_sd, 0.02 * (d.followers - d.gain), ${flags.min_spike_gain})
),
-- A post with at least 3× the account's median engagement in the 2 days before explains a spike
-- of up to ${flags.viral_explains_up_to} of the followers; a bigger one stays unexplained.
usual AS (
    -- The account's usual engagement at the time: the median of its posts of the 30 days before
    -- the candidate posts (an all-time median would make a growing account's posts look viral).
    SELECT s.platform, s.account_id, s.day, median(p.engagements) AS median_engagements
    FROM spikes s
    JOIN silver.post_engagement p
      ON p.platform = s.platform AND p.account_id = s.account_id AND p.published_day BETWEEN s.day - 32 AND s.day - 3
    GROUP BY s.platform, s.account_id, s.day
),
viral AS (
    SELECT s.platform, s.account_id, s.day, p.post_id, p.engagements, a.median_engagements,
           ROW_NUMBER() OVER (PARTITION BY s.platform, s.account_id, s.day ORDER BY p.engagements DESC, p.post_id) AS pick
    FROM spikes s
    JOIN silver.post_engagement p ON p.platform = s.platform AND p.account_id = s.account_id AND p.published_day BETWEEN s.day - 2 AND s.day
    JOIN usual a ON a.platform = s.platform AND a.account_id = s.account_id AND a.day = s.day
    WHERE p.engagements >= 3 * a.median_engagements AND a.median_engagements > 0
      AND s.gain <= ${flags.viral_explains_up_to} * s.followers_before
),
classified AS (
    SELECT s.*, v.post_id AS viral_post, v.engagements AS viral_engagements, v.median_engagements
    FROM spikes s
    LEFT JOIN viral v ON v.platform = s.platform AND v.account_id = s.account_id AND v.day = s.day AND v.pick = 1
),
bundles AS (
    SELECT bundle FROM (VALUES (1000), (2000), (5000), (10000), (20000), (25000), (50000), (100000), (200000), (250000), (500000), (1000000)) AS b(bundle)
),
round_gains AS (
    SELECT c.*, b.bundle,
           ROW_NUMBER() OVER (PARTITION BY c.platform, c.account_id, c.day ORDER BY abs(c.gain - b.bundle)) AS pick
    FROM classified c
    JOIN bundles b ON abs(c.gain - b.bundle) <= 0.02 * b.bundle
    WHERE c.viral_post IS NULL
),
drops AS (
    -- Loss of at least half of an unexplained spike within 14 days: the first day it is reached.
    SELECT c.platform, c.account_id, c.date AS spike_date, c.gain AS spike_gain, c.followers_before + c.gain AS followers_after,
           d.date, d.followers,
           ROW_NUMBER() OVER (PARTITION BY c.platform, c.account_id, c.day ORDER BY d.day) AS pick
    FROM classified c
    JOIN steps d ON d.platform = c.platform AND d.account_id = c.account_id AND d.day BETWEEN c.day + 1 AND c.day + 14
    WHERE c.viral_post IS NULL AND c.followers_before + c.gain - d.followers >= 0.5 * c.gain
),
churn_window AS (
    SELECT platform, account_id, date, day, follows,
           MAX(follows) OVER (PARTITION BY platform, account_id ORDER BY day RANGE BETWEEN 6 PRECEDING AND CURRENT ROW) AS high,
           MIN(follows) OVER (PARTITION BY platform, account_id ORDER BY day RANGE BETWEEN 6 PRECEDING AND CURRENT ROW) AS low
    FROM steps
    WHERE follows IS NOT NULL
),
churn_days AS (
    SELECT *, (high - low) >= 0.2 * low AND low > 0 AS swinging
    FROM churn_window
),
churn AS (
    -- One flag per episode: the first day of a run of swinging days.
    SELECT * FROM (
        SELECT *, LAG(swinging) OVER (PARTITION BY platform, account_id ORDER BY day) AS was_swinging
        FROM churn_days
    ) e
    WHERE swinging AND NOT COALESCE(was_swinging, false)
),
tier_er AS (
    SELECT platform, tier, median(er_followers_median) AS median_er,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY CAST(followers AS DOUBLE)) AS p75_followers
    FROM gold.influencer_metrics
    WHERE as_of_date = ${as_of_date}
    GROUP BY platform, tier
),
tier_spread AS (
    SELECT m.platform, m.tier, 1.4826 * median(abs(m.er_followers_median - t.median_er)) AS robust_sd
    FROM gold.influencer_metrics m
    JOIN tier_er t ON t.platform = m.platform AND t.tier = m.tier
    WHERE m.as_of_date = ${as_of_date}
    GROUP BY m.platform, m.tier
),
outliers AS (
    SELECT m.platform, m.account_id, m.followers, m.tier, m.er_followers_median, t.median_er, s.robust_sd, t.p75_followers
    FROM gold.influencer_metrics m
    JOIN tier_er t ON t.platform = m.platform AND t.tier = m.tier
    JOIN tier_spread s ON s.platform = m.platform AND s.tier = m.tier
    WHERE m.as_of_date = ${as_of_date}
      AND m.er_followers_median < t.median_er - 3 * s.robust_sd
      AND m.followers >= t.p75_followers
),
recent_posts AS (
    SELECT platform, account_id, post_id,
           ROW_NUMBER() OVER (PARTITION BY platform, account_id ORDER BY published_at DESC, post_id DESC) AS n
    FROM silver.post_engagement
),
recent_comments AS (
    SELECT c.platform, c.account_id, c.commenter_hash,
           regexp_replace(lower(c.text), '[^\p{L}\p{N}]+', '', 'g') AS normalised
    FROM silver.comments c
    JOIN recent_posts p ON p.platform = c.platform AND p.post_id = c.post_id AND p.n <= 30
    WHERE CAST(c.published_at AS DATE) <= ${as_of_date}
),
comment_texts AS (
    SELECT platform, account_id, normalised,
           COUNT(*) AS comments, COUNT(DISTINCT commenter_hash) AS authors
    FROM recent_comments
    GROUP BY platform, account_id, normalised
),
duplication AS (
    SELECT platform, account_id,
           SUM(comments) AS comments,
           SUM(CASE WHEN normalised = '' THEN comments ELSE 0 END) AS emoji_only,
           SUM(CASE WHEN normalised <> '' AND authors >= 2 THEN comments ELSE 0 END) AS duplicates
    FROM comment_texts
    GROUP BY platform, account_id
),
flags AS (
    SELECT platform, account_id, 'follower_spike' AS flag_type, date AS day, true AS penalised,
           '{"gain":' || gain || ',"threshold":' || round(threshold, 1) || ',"robust_sd":' || round(robust_sd, 1) ||
           ',"followers_before":' || followers_before || '}' AS evidence,
           'Gained ' || gain || ' followers in one day, above the ' || CAST(round(threshold, 0) AS BIGINT) ||
           ' that its usual day-to-day variation and 2% of its audience allow, with no viral post to explain it.' AS reason
    FROM classified WHERE viral_post IS NULL
    UNION ALL
    SELECT platform, account_id, 'explained_viral', date, false,
           '{"gain":' || gain || ',"threshold":' || round(threshold, 1) || ',"post_id":"' || viral_post ||
           '","post_engagements":' || viral_engagements || ',"median_engagements":' || median_engagements || '}',
           'Gained ' || gain || ' followers in one day after a post with ' || CAST(round(viral_engagements / median_engagements, 1) AS VARCHAR) ||
           '× its usual engagement: organic growth from a viral post, not penalised.'
    FROM classified WHERE viral_post IS NOT NULL
    UNION ALL
    SELECT platform, account_id, 'round_number_gain', date, true,
           '{"gain":' || gain || ',"bundle":' || bundle || '}',
           'The spike of ' || gain || ' followers is within 2% of ' || bundle || ', a size follower packages are sold in.'
    FROM round_gains WHERE pick = 1
    UNION ALL
    SELECT platform, account_id, 'follower_drop_after_spike', date, true,
           '{"spike_date":"' || CAST(spike_date AS VARCHAR) || '","spike_gain":' || spike_gain || ',"followers_after_spike":' || followers_after ||
           ',"followers":' || followers || ',"lost":' || (followers_after - followers) || '}',
           'Lost ' || (followers_after - followers) || ' of the ' || spike_gain || ' followers gained on ' || CAST(spike_date AS VARCHAR) ||
           ' within ' || (CAST(date AS INT) - CAST(spike_date AS INT)) || ' days: a purge of bought followers looks like this.'
    FROM drops WHERE pick = 1
    UNION ALL
    SELECT platform, account_id, 'following_churn', date, true,
           '{"follows_low":' || low || ',"follows_high":' || high || ',"days":7}',
           'The number of accounts it follows swung from ' || low || ' to ' || high || ' within 7 days (follow/unfollow).'
    FROM churn
    UNION ALL
    SELECT platform, account_id, 'engagement_outlier', ${as_of_date}, true,
           '{"er_followers_median":' || round(er_followers_median, 5) || ',"tier_median":' || round(median_er, 5) ||
           ',"robust_sd":' || round(robust_sd, 5) || ',"followers":' || followers || ',"tier_p75_followers":' || round(p75_followers, 0) || '}',
           'Engagement of ' || CAST(round(er_followers_median * 100, 2) AS VARCHAR) || '% is more than 3 robust deviations below the ' ||
           CAST(round(median_er * 100, 2) AS VARCHAR) || '% median of ' || tier || ' accounts, with more followers than 75% of them.'
    FROM outliers
    UNION ALL
    SELECT platform, account_id, 'comment_duplication', ${as_of_date}, true,
           '{"comments":' || comments || ',"duplicates":' || duplicates || ',"emoji_only":' || emoji_only ||
           ',"share":' || round(CAST(duplicates + emoji_only AS DOUBLE) / comments, 3) || '}',
           CAST(round(100.0 * (duplicates + emoji_only) / comments, 0) AS BIGINT) || '% of the ' || comments ||
           ' comments on the last 30 posts repeat the same text from different accounts or are emoji only (engagement pods or bots).'
    FROM duplication
    WHERE comments >= 30 AND duplicates + emoji_only >= 0.4 * comments
)
SELECT encode(sha256(f.platform || '|' || f.account_id || '|' || f.flag_type || '|' || CAST(f.day AS VARCHAR)), 'hex') AS flag_id,
       f.platform, f.account_id, f.flag_type, f.day, f.penalised, f.evidence, f.reason,
       ${flags.version} AS formula_version,
       COALESCE(e.detected_at, now()) AS detected_at,
       ${run_id} AS run_id
FROM flags f
LEFT JOIN gold.anomaly_flags e
       ON e.flag_id = encode(sha256(f.platform || '|' || f.account_id || '|' || f.flag_type || '|' || CAST(f.day AS VARCHAR)), 'hex')
UNION ALL
SELECT flag_id, platform, account_id, flag_type, day, penalised, evidence, reason, formula_version, detected_at, run_id
FROM gold.anomaly_flags
WHERE day > ${as_of_date}
