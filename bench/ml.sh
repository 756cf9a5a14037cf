#!/usr/bin/env bash
# B7 and B8: sentiment scoring throughput (comments per second through `analisa ml sentiment`,
# on the comments of a simulated world: real-looking text in pt, en and es) and training wall
# time of both models from scratch (`analisa ml train`). Usage: bench/ml.sh [influencers] [runs]
# PROFILE=dev measures the debug build instead of the release one (no release build needed).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/env.sh
influencers=${1:-200}
runs=${2:-3}
profile=${PROFILE:-release}
ensure_python
ensure_ml_data
cargo build --locked --profile "$profile" --bin analisa >&2
bin="$CARGO_TARGET_DIR/$([ "$profile" = dev ] && echo debug || echo "$profile")/analisa"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" sim export --seed 42 --influencers "$influencers" --days 120 --out "$work/world" >/dev/null
"$ANALISA_PYTHON" - "$work/world/comments.parquet" "$work/comments.txt" <<'PY'
import sys, pyarrow.parquet as pq
texts = pq.read_table(sys.argv[1], columns=["text"]).column("text").to_pylist()
open(sys.argv[2], "w").write("".join(t.replace("\n", " ") + "\n" for t in texts))
PY
lines=$(wc -l < "$work/comments.txt")
echo "B7: $lines comments, $runs runs, profile $profile, $(nproc) cores"
for run in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  "$bin" ml sentiment --input "$work/comments.txt" > "$work/scores.jsonl"
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'  run {sys.argv[4]}: {s:.2f} s, {int(sys.argv[3])/s:,.0f} comments/s')" "$start" "$end" "$lines" "$run"
done

echo "B8: training from scratch (seed 7), profile $profile"
for model in sentiment forecast; do
  start=$(date +%s.%N)
  "$bin" ml train "$model" --no-register --data-dir "$ANALISA_ML_DATA" > /dev/null 2> "$work/train-$model.log"
  end=$(date +%s.%N)
  python3 -c "import sys; print(f'  {sys.argv[3]}: {float(sys.argv[2])-float(sys.argv[1]):.1f} s')" "$start" "$end" "$model"
done
