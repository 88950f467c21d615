#!/usr/bin/env bash
# The load and fault run of `serve` (issue 24), on loopback only, bounded in requests and time.
# It exports both models, starts `serve` and its Python twin (scripts/serve_pytorch_twin.py:
# FastAPI + uvicorn over the same weights, 1 torch thread: its best setting on 2 cores), then runs:
# - load-test at concurrency 1, 16 and 128 against both, for the tagger and the classifier;
# - streaming `predict` on the same sentences, for the ceiling the model allows;
# - the queue limit: a second serve with --queue 16 at concurrency 128 (only 503s expected);
# - the faults, against serve, with its RSS before and after.
# Needs: python3 -m pip install torch safetensors pytorch-crf==0.7.2 fastapi uvicorn
# Usage: scripts/load-run.sh NER_ARTIFACTS SST_ARTIFACTS [REQUESTS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ner="$(cd "$1" && pwd)"; sst="$(cd "$2" && pwd)"
requests="${3:-4000}"; seconds="${4:-15}"
D="${SEQLAB_DATA:-../shared/data}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/seqlab/target}"
cargo build --release -q --bin serve --bin load-test --bin export --bin predict
bin="$CARGO_TARGET_DIR/release"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
wait_up() { for _ in $(seq 300); do curl -sf "$1/healthz" >/dev/null && return 0; sleep 0.1; done; echo "$1 did not start" >&2; exit 1; }

"$bin/export" --artifacts "$ner" --out "$work/ner.safetensors" >/dev/null
"$bin/export" --artifacts "$sst" --out "$work/sst.safetensors" >/dev/null
tail -n +2 "$D/sst2/test.tsv" | cut -f1 > "$work/sst2-test.txt"
awk 'NF == 0 { if (s != "") print s; s = ""; next } $1 != "-DOCSTART-" { s = (s == "" ? $1 : s " " $1) } END { if (s != "") print s }' \
  "$D/conll2003/test.txt" > "$work/conll-test.txt"

"$bin/serve" --model ner="$ner" --model sst="$sst" --addr 127.0.0.1:18080 2>"$work/serve.log" & pids+=($!); serve_pid=$!
python3 scripts/serve_pytorch_twin.py --model ner="$work/ner.safetensors:$ner" --model sst="$work/sst.safetensors:$sst" \
  --port 18081 --threads 1 & pids+=($!)
wait_up http://127.0.0.1:18080; wait_up http://127.0.0.1:18081
targets=(--target seqlab=http://127.0.0.1:18080 --target pytorch=http://127.0.0.1:18081)

echo "## Load: CoNLL-2003 test sentences, one a request ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
"$bin/load-test" "${targets[@]}" --model ner --texts "$work/conll-test.txt" --requests "$requests" --seconds "$seconds"
echo "## Load: SST-2 test sentences, one a request"
"$bin/load-test" "${targets[@]}" --model sst --texts "$work/sst2-test.txt" --requests "$requests" --seconds "$seconds"

echo "## Streaming predict on the same sentences (the model's own rate)"
for m in ner:conll-test sst:sst2-test; do
  dir="$ner"; [ "${m%%:*}" = sst ] && dir="$sst"
  for _ in 1 2 3 4 5; do cat "$work/${m#*:}.txt"; done > "$work/${m#*:}-5x.txt"
  n=$(wc -l < "$work/${m#*:}-5x.txt")
  start=$(date +%s.%N)
  "$bin/predict" --artifacts "$dir" --json --input "$work/${m#*:}-5x.txt" > /dev/null
  end=$(date +%s.%N)
  awk -v m="${m%%:*}" -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%s: %d texts in %.2f s = %.0f texts/s\n", m, n, e - s, n / (e - s) }'
done

echo; echo "## Above the queue limit (serve --queue 16, 128 clients)"
"$bin/serve" --model ner="$ner" --addr 127.0.0.1:18082 --queue 16 2>/dev/null & pids+=($!)
wait_up http://127.0.0.1:18082
"$bin/load-test" --target seqlab-queue16=http://127.0.0.1:18082 --model ner --texts "$work/conll-test.txt" \
  --concurrency 128 --requests "$requests" --seconds "$seconds"

echo "## Faults against serve (while a well-formed client keeps asking)"
"$bin/load-test" --target seqlab=http://127.0.0.1:18080 --model ner --texts "$work/conll-test.txt" \
  --concurrency 16 --requests 2000 --seconds 10 --faults --pid "$serve_pid"
kill -TERM "$serve_pid"; wait "$serve_pid" && echo "serve exited 0 on SIGTERM"
