#!/usr/bin/env bash
# Trains one recipe once per seed and appends a row per run to OUT/runs.tsv: the recipe's name,
# the seed, the kept epoch's validation and test score (CoNLL entity F1, SST-2 accuracy), the
# kept epoch and the wall time in seconds. scripts/seed_table.py turns the rows into mean ± sd.
# Usage: SEQLAB_DATA=../shared/data scripts/seeds.sh BIN_DIR tagger|classifier NAME OUT "SEEDS" [OPTIONS...]
#   e.g. scripts/seeds.sh target/release tagger default runs "42 1 2"
#        scripts/seeds.sh target/release tagger glove runs "42 1 2" --embeddings ~/.cache/seqlab/glove.6B.50d.txt
# Each run uses RAYON_NUM_THREADS (default 1), so that two scripts can share a 2-core machine.
set -euo pipefail
B="$(cd "$1" && pwd)"; task=$2; name=$3; out=$4; seeds=$5; shift 5
D="${SEQLAB_DATA:?set SEQLAB_DATA to the shared data folder}"
case "$task" in
  tagger) bin=train-tagger; data=(--train "$D/conll2003/train.txt" --valid "$D/conll2003/dev.txt" --test "$D/conll2003/test.txt") ;;
  classifier) bin=train-classifier; data=(--train "$D/sst2/train.tsv" --valid "$D/sst2/dev.tsv" --test "$D/sst2/test.tsv") ;;
  *) echo "error: the task is tagger or classifier, not $task" >&2; exit 2 ;;
esac
mkdir -p "$out"
for seed in $seeds; do
  dir="$out/$name-$seed"
  start=$(date +%s.%N)
  RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1} "$B/$bin" "${data[@]}" --seed "$seed" --no-tui --overwrite \
    --artifacts "$dir" "$@" > "$dir.log" 2>&1
  secs=$(python3 -c "import time; print(round(time.time() - $start))")
  python3 - "$dir/metrics.json" "$name" "$seed" "$secs" "$*" >> "$out/runs.tsv" <<'PY'
import json, sys
path, name, seed, secs, options = sys.argv[1:]
m = json.load(open(path))
key = "f1" if "f1" in m["valid"] and "accuracy" not in m["valid"] else "accuracy"
print("\t".join([name, seed, f"{m['valid'][key]:.4f}", f"{m['test'][key]:.4f}", str(m["best_epoch"]), secs, options]))
PY
  tail -n 1 "$out/runs.tsv"
done
