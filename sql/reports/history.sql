-- Daily followers and engagement of every creator in scope over the period.
SELECT d.platform, d.account_id, a.handle, d.date, d.followers, d.follower_delta, d.posts, d.likes, d.comments, d.views, d.er_daily
FROM gold.influencer_daily d
JOIN report.scope s ON s.platform = d.platform AND s.account_id = d.account_id
JOIN silver.accounts a ON a.platform = d.platform AND a.account_id = d.account_id
WHERE d.date BETWEEN ${from} AND ${to}
ORDER BY d.platform, d.account_id, d.date
