"""B6: ten analyst queries through /v1/sql and Flight SQL, beside DuckDB on the same Parquet.

Usage: sql_latency.py <http base> <grpc uri> <token> <lake root> [runs]
DuckDB reads the Parquet files of each table's current Delta version (hive partitions from the
paths) and gets the same views (sql/catalog/*.sql). Each query runs once to warm up, then `runs`
times per engine; the median wall time is reported (client side: request to last byte).
"""
import json
import os
import pathlib
import statistics
import sys
import time
import urllib.request

import adbc_driver_flightsql.dbapi as flightsql
import duckdb
import pyarrow as pa
from deltalake import DeltaTable

HTTP, GRPC, TOKEN, LAKE = sys.argv[1:5]
RUNS = int(sys.argv[5]) if len(sys.argv) > 5 else 7
LAKE = LAKE.removeprefix("file://")
ROOT = pathlib.Path(__file__).resolve().parent.parent

QUERIES = [
    ("leaderboard top 3 per cohort", "SELECT cohort, rank_in_cohort, handle, score FROM gold.leaderboard WHERE rank_in_cohort <= 3 ORDER BY cohort, rank_in_cohort"),
    ("median ER by platform and tier", "SELECT platform, tier, count(*) AS creators, median(er_followers_median) AS er FROM gold.latest_metrics GROUP BY platform, tier ORDER BY platform, tier"),
    ("fastest growers ≥ 10k", "SELECT handle, platform, followers, growth_pct_30d FROM gold.latest_metrics WHERE followers >= 10000 AND growth_pct_30d IS NOT NULL ORDER BY growth_pct_30d DESC LIMIT 20"),
    ("above the cohort p75", "SELECT l.handle, b.p75, l.er_followers_median FROM gold.leaderboard l JOIN gold.latest_benchmarks b ON b.platform || '/' || b.niche || '/' || b.tier = coalesce(l.cohort_widened_to, l.cohort) AND b.metric = 'er_followers_median' WHERE l.er_followers_median > b.p75 ORDER BY l.handle"),
    ("score components of everyone", "SELECT c['name'] AS component, avg(c['percentile']) AS percentile, avg(c['contribution']) AS contribution FROM (SELECT unnest(components) AS c FROM gold.social_score) GROUP BY 1 ORDER BY 1"),
    ("flags by type", "SELECT flag_type, count(*) AS flags, count(*) FILTER (WHERE penalised) AS penalised, count(DISTINCT account_id) AS creators FROM gold.anomaly_flags GROUP BY flag_type ORDER BY flags DESC"),
    ("daily followers of the top 10", "SELECT d.platform, d.account_id, d.date, d.followers FROM gold.influencer_daily d JOIN (SELECT platform, account_id FROM gold.leaderboard ORDER BY score DESC LIMIT 10) l ON l.platform = d.platform AND l.account_id = d.account_id ORDER BY d.account_id, d.date"),
    ("posts by platform and type", "SELECT platform, media_type, count(*) AS posts, avg(caption_length) AS caption, sum(CASE WHEN is_sponsored THEN 1 ELSE 0 END) AS sponsored FROM silver.posts GROUP BY platform, media_type ORDER BY platform, media_type"),
    ("sponsored vs organic by niche", "SELECT niche, count(*) AS creators, avg(er_sponsored) AS sponsored, avg(er_organic) AS organic FROM gold.latest_metrics WHERE er_sponsored IS NOT NULL AND er_organic IS NOT NULL GROUP BY niche ORDER BY niche"),
    ("ER by posting hour (silver)", "WITH last AS (SELECT platform, post_id, likes, comments, row_number() OVER (PARTITION BY platform, post_id ORDER BY snapshot_date DESC) AS pick FROM silver.post_metrics WHERE source = 'public') SELECT extract(hour FROM p.published_at) AS hour, count(*) AS posts, avg(CAST(l.likes + l.comments AS DOUBLE) / p.followers_at_publish) AS er FROM silver.posts p JOIN last l ON l.platform = p.platform AND l.post_id = p.post_id AND l.pick = 1 WHERE p.followers_at_publish > 0 GROUP BY 1 ORDER BY 1"),
]


def duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for layer in ("gold", "silver"):
        con.execute(f"CREATE SCHEMA {layer}")
        for table in sorted(pathlib.Path(LAKE, layer).iterdir()):
            if not (table / "_delta_log").exists():
                continue
            files = DeltaTable(str(table)).file_uris()
            if files:
                con.execute(f"CREATE VIEW {layer}.{table.name} AS SELECT * FROM read_parquet({files!r}, hive_partitioning = true)")
    for view in sorted((ROOT / "sql" / "catalog").glob("*.sql")):
        con.execute(f"CREATE VIEW {view.stem} AS {view.read_text()}")
    return con


def http(sql: str) -> int:
    body = json.dumps({"sql": sql, "format": "arrow"}).encode()
    request = urllib.request.Request(f"{HTTP}/v1/sql", data=body, headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return pa.ipc.open_stream(answer.read()).read_all().num_rows


def main() -> None:
    con = duck()
    flight = flightsql.connect(GRPC, db_kwargs={"adbc.flight.sql.authorization_header": f"Bearer {TOKEN}"}, autocommit=True)
    cursor = flight.cursor()

    def via_flight(sql: str) -> int:
        cursor.execute(sql)
        return cursor.fetch_arrow_table().num_rows

    engines = {"/v1/sql": http, "Flight SQL": via_flight, "DuckDB": lambda sql: con.sql(sql).to_arrow_table().num_rows}
    print("| query | rows | /v1/sql ms | Flight SQL ms | DuckDB ms | /v1/sql ÷ DuckDB | Flight ÷ DuckDB |")
    print("|---|---|---|---|---|---|---|")
    ratios = {"/v1/sql": [], "Flight SQL": []}
    for name, sql in QUERIES:
        medians, rows = {}, {}
        for engine, run in engines.items():
            rows[engine] = run(sql)
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                run(sql)
                times.append((time.perf_counter() - started) * 1000)
            medians[engine] = statistics.median(times)
        assert len(set(rows.values())) == 1, f"{name}: engines disagree on the row count {rows}"
        for engine in ratios:
            ratios[engine].append(medians[engine] / medians["DuckDB"])
        print(f"| {name} | {rows['DuckDB']} | {medians['/v1/sql']:.1f} | {medians['Flight SQL']:.1f} | {medians['DuckDB']:.1f} | "
              f"{medians['/v1/sql'] / medians['DuckDB']:.2f} | {medians['Flight SQL'] / medians['DuckDB']:.2f} |")
    print()
    for engine, values in ratios.items():
        print(f"median ratio {engine} ÷ DuckDB over the ten queries: {statistics.median(values):.2f}")


main()
sys.stdout.flush()
# deltalake's and pyarrow's threads can race at interpreter teardown and abort (delta-rs issue
# 2184); the figures are out, so leave without it.
os._exit(0)
