-- gold.influencer_daily: the day-by-day history charts draw, up to ${as_of_date}: followers and
-- follows of each snapshot, the change since the previous snapshot, and the posts published
-- that day with their newest counters and mean ER ((likes + comments) ÷ followers_at_publish).
-- Means and sums of fractions are taken over DECIMAL(38, 18): a float sum depends on the order
-- rows arrive in, a decimal one does not, so a rerun gives bit-identical results.
WITH days AS (
    SELECT platform, account_id, snapshot_date AS date, followers, follows,
           followers - LAG(followers) OVER (PARTITION BY platform, account_id ORDER BY snapshot_date) AS follower_delta
    FROM silver.account_daily
    WHERE snapshot_date <= ${as_of_date}
),
posted AS (
    SELECT platform, account_id, published_date AS date, COUNT(*) AS posts,
           SUM(likes) AS likes, SUM(comments) AS comments, SUM(views) AS views, CAST(AVG(CAST(er_followers AS DECIMAL(38, 18))) AS DOUBLE) AS er_daily
    FROM silver.post_engagement
    GROUP BY platform, account_id, published_date
)
SELECT d.platform, d.account_id, d.date, d.followers, d.follows, d.follower_delta,
       COALESCE(p.posts, 0) AS posts, p.likes, p.comments, p.views, p.er_daily,
       ${run_id} AS run_id
FROM days d
LEFT JOIN posted p ON p.platform = d.platform AND p.account_id = d.account_id AND p.date = d.date
