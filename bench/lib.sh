# What the benchmarks share: the release binary and a served demo world. Source it after
# scripts/lib/env.sh.

# Builds the release binary and prepares the demo world (200 creators) in its own database,
# or keeps the last one with BENCH_REUSE=1; exports BIN, DB, WORK, PASSWORD and the server's
# configuration (a plan limit the benchmark cannot hit, long-lived tokens).
bench_world() {
  cargo build --release --locked --bin analisa
  BIN="$CARGO_TARGET_DIR/release/analisa"
  DB=postgres://postgres@127.0.0.1:5432/analisa_bench
  WORK="$ANALISA_CACHE/bench-api"
  mkdir -p "$WORK"
  if [ "${BENCH_REUSE:-}" != 1 ] || [ ! -s "$WORK/demo.out" ]; then
    log "preparing the demo world (200 creators) in $DB"
    "$BIN" demo --no-serve --dir "$WORK/demo" --database-url "$DB" > "$WORK/demo.out"
  fi
  PASSWORD=$(awk '$1 == "password" {print $2}' "$WORK/demo.out")
  # The benchmark measures the API, not the plan: the demo organisation gets a limit it cannot hit.
  psql -q "$DB" -c "UPDATE organisations SET plan = 'enterprise'"
  export ANALISA__DATABASE__URL="$DB" ANALISA__LAKE__ROOT="file://$WORK/demo/lake"
  export ANALISA__API__JWT_SECRET="bench-secret-bench-secret-bench-secret-1234"
  export ANALISA__API__PLANS__ENTERPRISE__REQUESTS_PER_MINUTE=1000000000 ANALISA__API__PLANS__ENTERPRISE__TRACKED_INFLUENCERS=1000000
  export ANALISA__API__ACCESS_TTL=2h RUST_LOG=warn
}

# The demo user's access token from the server at $1 (http://host:port).
bench_token() {
  curl -sf -X POST "$1/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"demo@analisa.dev\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
