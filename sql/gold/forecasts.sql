-- gold.forecasts: the next 90 days of followers of every influencer observed on ${as_of_date},
-- from its whole daily history, by the forecaster ${forecast_model} (drift, labelled, under 60
-- days of history), with 80% and 95% intervals and the model's MASE on the account's own last
-- 30 days.
WITH series AS (
    SELECT platform, account_id, MAX(date) AS origin_date,
           array_agg(date ORDER BY date) AS dates,
           array_agg(CAST(followers AS DOUBLE) ORDER BY date) AS followers
    FROM gold.influencer_daily
    WHERE date <= ${as_of_date} AND followers IS NOT NULL
    GROUP BY platform, account_id
    HAVING MAX(date) = ${as_of_date}
),
forecast AS (
    SELECT platform, account_id, origin_date, unnest(forecast_followers(dates, followers)) AS f
    FROM series
)
SELECT platform, account_id, origin_date,
       f['target_date'] AS target_date, f['horizon_days'] AS horizon_days, f['followers'] AS followers,
       f['lo80'] AS lo80, f['hi80'] AS hi80, f['lo95'] AS lo95, f['hi95'] AS hi95,
       f['model'] AS model, ${forecast_model} AS model_version, f['backtest_mase'] AS backtest_mase,
       ${run_id} AS run_id
FROM forecast
