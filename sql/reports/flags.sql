-- Anomaly flags of the creators in scope raised for days of the period, with their evidence.
SELECT f.platform, f.account_id, a.handle, f.day, f.flag_type, f.penalised, f.reason, f.evidence, f.flag_id
FROM gold.anomaly_flags f
JOIN report.scope s ON s.platform = f.platform AND s.account_id = f.account_id
JOIN silver.accounts a ON a.platform = f.platform AND a.account_id = f.account_id
WHERE f.day BETWEEN ${from} AND ${to}
ORDER BY f.platform, f.account_id, f.day, f.flag_id
