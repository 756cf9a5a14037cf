#!/usr/bin/env bash
# B3: posts landed in bronze per second when ingesting from the simulator with zero latency.
# Usage: bench/ingest_throughput.sh [influencers] [days] [concurrency] [runs]
# Needs Redis on 127.0.0.1:6379 (the governor and queue live there; budgets are set high).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/analisa-target}
influencers=${1:-300}
days=${2:-120}
concurrency=${3:-16}
runs=${4:-3}
seed=7
cargo build --release --locked --bin analisa >&2
bin="$CARGO_TARGET_DIR/release/analisa"
work=$(mktemp -d)
trap 'kill "${sim_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
posts=$("$bin" sim export --seed $seed --influencers "$influencers" --days "$days" --out world | sed -E 's/.* ([0-9]+) posts.*/\1/')
"$bin" sim serve --seed $seed --influencers "$influencers" --days "$days" --write-config analisa.toml --accounts-file accounts.json \
  --budgets meta_app=100000000,meta_object=100000000,tiktok_business=1000000,tiktok_display=1000000,ga4=1000000 > ready.json &
sim_pid=$!
for _ in $(seq 1 100); do [ -s ready.json ] && break; sleep 0.1; done
cat >> analisa.toml <<TOML

[ingest]
redis_prefix = "analisa-bench-$$"

[ingest.budgets]
meta_app_per_hour = 100000000
meta_object_per_hour = 100000000
tiktok_business_per_second = 1000000
tiktok_display_per_minute = 1000000
ga4_per_hour = 1000000
TOML
printf '| run | accounts | posts | wall time (s) | posts/s |\n|---|---|---|---|---|\n'
for run in $(seq 1 "$runs"); do
  rm -rf data
  start=$(date +%s.%N)
  "$bin" ingest run --accounts-file accounts.json --concurrency "$concurrency" > /dev/null
  end=$(date +%s.%N)
  python3 -c "import sys; r, n, p, s, e = sys.argv[1:]; w = float(e) - float(s); print(f'| {r} | {n} | {p} | {w:.2f} | {int(p) / w:.0f} |')" "$run" "$influencers" "$posts" "$start" "$end"
done
