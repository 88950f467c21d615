#!/usr/bin/env bash
# One CoNLL-2003 epoch of the default tagger: 1 process with 2 threads against 2 processes
# (--nodes 2, loopback) with 1 thread each, the second both at the same effective batch
# (2 × 16 = 32, the same steps) and at twice it (2 × 32). Prints each run's wall time, its
# validation F1 and test F1, and the nodes' all-reduce traffic (values per step, seconds in
# all-reduce).
# Usage: SEQLAB_DATA=../shared/data scripts/cluster-epoch.sh [BIN_DIR]
set -u
B="$(cd "${1:-${CARGO_TARGET_DIR:-target}/release}" && pwd)"
D="${SEQLAB_DATA:?set SEQLAB_DATA to the shared data folder}"
W="$(mktemp -d)"
data=(--train "$D/conll2003/train.txt" --valid "$D/conll2003/dev.txt" --test "$D/conll2003/test.txt")
common=(--no-tui --epochs 1 --seed 42)

f1() { python3 -c "import json,sys; m=json.load(open('$1/metrics.json')); print(f\"valid F1 {m['valid']['f1']:.4f}, test F1 {m['test']['f1']:.4f}\")"; }

start=$(date +%s.%N)
RAYON_NUM_THREADS=2 "$B/train-tagger" "${data[@]}" "${common[@]}" --batch-size 32 --artifacts "$W/one" > "$W/one.log" 2>&1
echo "1 process x 2 threads, batch 32: $(python3 -c "import time; print(round(time.time() - $start, 1))") s; $(f1 "$W/one")"

for batch in 16 32; do
  port=$((7700 + batch))
  start=$(date +%s.%N)
  for rank in 0 1; do
    RAYON_NUM_THREADS=1 "$B/train-tagger" "${data[@]}" "${common[@]}" --batch-size "$batch" \
      --nodes 2 --rank "$rank" --coordinator "127.0.0.1:$port" --node-address "127.0.0.1:$((port + 10 + rank))" \
      --artifacts "$W/two-$batch-$rank" > "$W/two-$batch-$rank.log" 2>&1 &
  done
  wait
  echo "2 processes x 1 thread, batch 2 x $batch: $(python3 -c "import time; print(round(time.time() - $start, 1))") s; $(f1 "$W/two-$batch-0")"
  grep -h "all-reduces of" "$W/two-$batch-0.log" "$W/two-$batch-1.log"
done
echo "(work folder $W)"
