-- gold.latest_benchmarks: the cohort percentiles of the newest pipeline run.
SELECT b.*
FROM gold.benchmarks b
WHERE b.run_date = (SELECT MAX(run_date) FROM gold.benchmarks)
