"""A Flight SQL session through ADBC (the Go driver): what a data scientist's client does.

Usage: adbc_client.py <grpc://host:port> <credential> <organisation id or "">
Prints a JSON report; exits non-zero (with the driver's error on stderr) when refused.
"""
import json
import sys

import adbc_driver_flightsql.dbapi as flightsql
from adbc_driver_flightsql import DatabaseOptions

uri, credential, org = sys.argv[1:4]
options = {}
if credential:
    options[DatabaseOptions.AUTHORIZATION_HEADER.value] = f"Bearer {credential}"
if org:
    options[f"{DatabaseOptions.RPC_CALL_HEADER_PREFIX.value}x-analisa-org"] = org

report = {}
with flightsql.connect(uri, db_kwargs=options, autocommit=True) as conn, conn.cursor() as cur:
    cur.execute("SELECT account_id, score FROM gold.social_score ORDER BY account_id")
    report["scores"] = cur.fetch_arrow_table().to_pydict()

    query = "SELECT count(*) AS n FROM gold.social_score"
    cur.adbc_prepare(query)
    cur.execute(query)
    report["prepared"] = cur.fetch_arrow_table().column("n").to_pylist()

    cur.execute("SELECT platform, followers FROM gold.influencer_daily ORDER BY date")
    report["history"] = cur.fetch_arrow_table().to_pydict()

    cur.execute("SELECT count(*) AS n FROM gold.social_score VERSION AS OF 0")
    report["time_travel"] = cur.fetch_arrow_table().column("n").to_pylist()

    objects = conn.adbc_get_objects(depth="tables").read_all().to_pylist()
    report["schemas"] = sorted(s["db_schema_name"] for c in objects for s in c["catalog_db_schemas"])
    report["tables"] = sorted(t["table_name"] for c in objects for s in c["catalog_db_schemas"] for t in s["db_schema_tables"])
    schema = conn.adbc_get_table_schema("social_score", catalog_filter="analisa", db_schema_filter="gold")
    report["table_schema"] = schema.names[:4]

    for name, sql in [("refused_write", "DROP TABLE gold.social_score"), ("refused_silver", "SELECT * FROM silver.accounts")]:
        try:
            cur.execute(sql)
            cur.fetch_arrow_table()
            report[name] = "accepted"
        except Exception as error:  # the driver's error carries the server's message
            report[name] = str(error)

print(json.dumps(report))
