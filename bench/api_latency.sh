#!/usr/bin/env bash
# B5: the API's latency and throughput with wrk on loopback, beside a bare axum "hello" on the
# same machine (the ceiling). Usage: bench/api_latency.sh [seconds per run, default 15]
# It prepares the demo world (analisa demo --no-serve into its own database; BENCH_REUSE=1 keeps
# the last one), serves it with a release build, and runs: the bare ceiling; a profile and a
# filtered search answered from the cache (the process's near cache, kept current through Redis),
# plain and to a client that accepts gzip;
# the same two from a second instance whose Redis is unreachable and whose near cache is off, so
# every answer is read from PostgreSQL (the uncached path; that instance also checks sessions in
# PostgreSQL and enforces no rate limit).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
source bench/lib.sh
SECONDS_PER_RUN=${1:-15}
ensure_postgres
ensure_redis
command -v wrk >/dev/null || apt_install wrk

bench_world

"$BIN" serve --listen 127.0.0.1:18080 --flight-sql-listen 127.0.0.1:0 > "$WORK/serve.log" 2>&1 &
SERVE=$!
ANALISA__REDIS__URL=redis://127.0.0.1:1/0 ANALISA__API__NEAR_CACHE_BYTES=0 "$BIN" serve --listen 127.0.0.1:18081 --flight-sql-listen 127.0.0.1:0 > "$WORK/serve-no-redis.log" 2>&1 &
NOCACHE=$!
"$BIN" bench hello --listen 127.0.0.1:18099 2> /dev/null &
BAREPID=$!
trap 'kill $SERVE $NOCACHE $BAREPID 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18080/health >/dev/null && curl -sf http://127.0.0.1:18081/health >/dev/null && curl -sf http://127.0.0.1:18099/ >/dev/null && break; sleep 0.2; done

TOKEN=$(bench_token http://127.0.0.1:18080)
ID=$(curl -sf "http://127.0.0.1:18080/v1/influencers?limit=1" -H "authorization: Bearer $TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
PROFILE="http://127.0.0.1:18080/v1/influencers/$ID"
SEARCH="http://127.0.0.1:18080/v1/influencers?platform=instagram,tiktok&country=BR&score_min=40&er_min=0.01&sort=-score&limit=25"
run() { # name, url, extra wrk args...
  local name=$1 url=$2; shift 2
  curl -sf -o /dev/null -H "authorization: Bearer $TOKEN" "$url"   # prime the cache (and check the URL answers)
  local out
  out=$(wrk -t2 -c16 -d"${SECONDS_PER_RUN}s" --latency -H "authorization: Bearer $TOKEN" "$@" "$url")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '| %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}"
}

echo "| run | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|"
run "bare axum hello (ceiling)" "http://127.0.0.1:18099/"
run "profile, cached" "$PROFILE"
run "search with filters, cached" "$SEARCH"
# What a browser or an HTTP library sends: the answers kept gzipped go out as they are.
run "profile, cached, gzip" "$PROFILE" -H "accept-encoding: gzip"
run "search with filters, cached, gzip" "$SEARCH" -H "accept-encoding: gzip"
run "profile, uncached (PostgreSQL)" "${PROFILE/18080/18081}"
run "search with filters, uncached (PostgreSQL)" "${SEARCH/18080/18081}"
