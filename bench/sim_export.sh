#!/usr/bin/env bash
# Times `analisa sim export` (release build) and reports wall time, peak RSS and rows.
# Usage: bench/sim_export.sh [influencers] [days] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/analisa-target}
influencers=${1:-20000}
days=${2:-365}
seed=${3:-42}
cargo build --release --locked --bin analisa >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
log=$(mktemp)
/usr/bin/time -v "$CARGO_TARGET_DIR/release/analisa" sim export --seed "$seed" --influencers "$influencers" --days "$days" --out "$out" >"$log" 2>"$log.time"
summary=$(grep '^wrote' "$log")
wall=$(grep 'Elapsed (wall clock)' "$log.time" | awk '{print $NF}')
rss_kb=$(grep 'Maximum resident set size' "$log.time" | awk '{print $NF}')
size=$(du -sh "$out" | cut -f1)
printf '| influencers | days | wall time | peak RSS | on disk | rows |\n|---|---|---|---|---|---|\n'
printf '| %s | %s | %s | %s MiB | %s | %s |\n' "$influencers" "$days" "$wall" "$((rss_kb / 1024))" "$size" "${summary#wrote }"
rm -f "$log" "$log.time"
