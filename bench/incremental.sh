#!/usr/bin/env bash
# B2: an incremental pipeline run after one new day of data, against a full rebuild of the same
# lake. A simulated world is collected with the real connectors (daily tracking, then
# everything), run once, then each new day is tracked and both runs are timed.
# Usage: bench/incremental.sh [influencers, default 200] [days of history, default 180]
#        [tracked days before the first run, default 30] [new days, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
ensure_postgres
ensure_redis
cargo build --release --locked --bin analisa
log "B2 on $(nproc) cores"
RUST_LOG=warn,deltalake_core=error "$CARGO_TARGET_DIR/release/analisa" bench incremental --influencers "${1:-200}" --days "${2:-180}" \
  --tracked-days "${3:-30}" --runs "${4:-3}" --dir "$ANALISA_CACHE/bench-incremental"
