#!/usr/bin/env bash
# B6: ten analyst queries through /v1/sql and Flight SQL beside DuckDB on the same Parquet.
# Usage: bench/sql_latency.sh [runs per query, default 7]
# It prepares the demo world like bench/api_latency.sh (BENCH_REUSE=1 keeps the last one),
# serves it with a release build and runs bench/sql_latency.py with the test venv plus DuckDB.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
source bench/lib.sh
RUNS=${1:-7}
ensure_postgres
ensure_redis
ensure_python
"$ANALISA_CACHE/venv/bin/pip" install -q --disable-pip-version-check duckdb==2.0.1

bench_world
"$BIN" serve --listen 127.0.0.1:18082 --flight-sql-listen 127.0.0.1:18083 > "$WORK/serve-sql.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS -o /dev/null http://127.0.0.1:18082/health 2>/dev/null && break; sleep 0.2; done
TOKEN=$(bench_token http://127.0.0.1:18082)
log "B6 on $(nproc) cores, $RUNS runs per query and engine"
"$ANALISA_PYTHON" bench/sql_latency.py http://127.0.0.1:18082 grpc://127.0.0.1:18083 "$TOKEN" "$WORK/demo/lake" "$RUNS"
