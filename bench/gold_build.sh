#!/usr/bin/env bash
# B1: the gold build over a simulated world's silver tables, beside the same computation in
# DuckDB (the SQL Analisa runs, printed by `analisa jobs sql`), polars (lazy) and pandas, all
# reading the same silver Parquet files; wall time (median of the runs) and peak RSS of each.
# Usage: bench/gold_build.sh [influencers, default 20000] [days, default 365] [runs, default 3]
# Silver is built straight from `analisa sim export` (bench/gold_build.py silver) and loaded
# with `analisa lake import`; BENCH_REUSE=1 keeps the last world of the same size.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
INFLUENCERS=${1:-20000}
DAYS=${2:-365}
RUNS=${3:-3}
ensure_postgres
ensure_python
[ -x /usr/bin/time ] || apt_install time
"$ANALISA_PYTHON" -m pip install -q --disable-pip-version-check duckdb==2.0.1
cargo build --release --locked --bin analisa
BIN="$CARGO_TARGET_DIR/release/analisa"
WORK="$ANALISA_CACHE/bench-gold/${INFLUENCERS}x${DAYS}"
LAKE="$WORK/lake"
export ANALISA__LAKE__ROOT="file://$LAKE" ANALISA__DATABASE__URL=postgres://postgres@127.0.0.1:5432/analisa_bench_gold
export ANALISA__PIPELINE__PSEUDONYM_KEY=bench-gold-build RUST_LOG=warn
psql -q postgres://postgres@127.0.0.1:5432/postgres -c "DROP DATABASE IF EXISTS analisa_bench_gold WITH (FORCE)" -c "CREATE DATABASE analisa_bench_gold"
"$BIN" migrate > /dev/null

if [ "${BENCH_REUSE:-}" != 1 ] || [ ! -s "$WORK/as_of" ]; then
  rm -rf "$WORK" && mkdir -p "$WORK"
  log "simulating $INFLUENCERS influencers over $DAYS days and loading silver"
  "$BIN" sim export --seed 42 --influencers "$INFLUENCERS" --days "$DAYS" --out "$WORK/export" >&2
  "$ANALISA_PYTHON" bench/gold_build.py silver "$WORK/export" "$WORK/silver" > "$WORK/as_of"
  for table in accounts account_daily posts post_metrics; do
    "$BIN" lake import --append --table "silver.$table" "$WORK/silver/$table.parquet"
  done
  rm -rf "$WORK/export" "$WORK/silver"
fi
AS_OF=$(cat "$WORK/as_of")
mkdir -p "$WORK/sql"
for step in influencer_metrics benchmarks; do "$BIN" jobs sql "$step" --as-of "$AS_OF" > "$WORK/sql/$step.sql"; done

# Wall time and peak RSS of one command: "seconds rss_mib".
measure() {
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out" >&2; return 1; }
  awk '{printf "%s %d\n", $1, $2 / 1024}' "$WORK/time"
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -A SECONDS_OF RSS_OF
log "B1 on $(nproc) cores: $RUNS runs per engine, as of $AS_OF"
for run in $(seq 1 "$RUNS"); do
  # Analisa: the two steps as `jobs run` runs them (--full: recompute although nothing changed).
  read -r wall rss < <(measure sh -c "'$BIN' jobs run --full --step influencer_metrics --as-of $AS_OF && '$BIN' jobs run --full --step benchmarks --as-of $AS_OF")
  steps=$(awk -F'┆' '/gold\./ {gsub(/[ │]/, "", $7); s += $7} END {print s}' "$WORK/out")
  SECONDS_OF[analisa]+="$steps "; RSS_OF[analisa]+="$rss "
  for engine in duckdb polars pandas; do
    read -r wall rss < <(measure "$ANALISA_PYTHON" bench/gold_build.py run "$engine" "$LAKE" "$WORK/sql" "$WORK/result/$engine" "$AS_OF")
    seconds=$(python3 -c 'import json, sys; print(round(json.loads(sys.stdin.read().strip().splitlines()[-1])["seconds"], 2))' < "$WORK/out")
    SECONDS_OF[$engine]+="$seconds "; RSS_OF[$engine]+="$rss "
  done
done
"$ANALISA_PYTHON" bench/gold_build.py check "$LAKE" "$WORK/result/duckdb" "$WORK/result/polars" "$WORK/result/pandas"

rows=$("$BIN" lake info --json | python3 -c 'import json, sys; t = {r["table"]: r["rows"] for r in map(json.loads, sys.stdin)}; print(t["silver.posts"], t["silver.account_daily"], t["gold.influencer_metrics"])')
read -r posts days metrics <<< "$rows"
analisa=$(echo "${SECONDS_OF[analisa]}" | tr ' ' '\n' | grep . | median)
printf '\n%s influencers, %s posts, %s account-days; gold.influencer_metrics + gold.benchmarks as of %s\n\n' "$INFLUENCERS" "$posts" "$days" "$AS_OF"
printf '| engine | median (s) | runs (s) | peak RSS (MiB) | Analisa ÷ engine |\n|---|---:|---|---:|---:|\n'
for engine in analisa duckdb polars pandas; do
  times=${SECONDS_OF[$engine]}
  med=$(echo "$times" | tr ' ' '\n' | grep . | median)
  rss=$(echo "${RSS_OF[$engine]}" | tr ' ' '\n' | grep . | sort -n | tail -1)
  printf '| %s | %.2f | %s | %s | %.2f |\n' "$engine" "$med" "${times% }" "$rss" "$(python3 -c "print($analisa / $med)")"
done
