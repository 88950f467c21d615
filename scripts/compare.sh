#!/usr/bin/env bash
# Side-by-side comparison of encoders on SST-2 and CoNLL-2003 (docs/results.md).
# Usage: SEQLAB_DATA=../shared/data scripts/compare.sh [EPOCHS] [OUT]
# Trains every variant with the default recipe except the encoder, EPOCHS epochs each (default 3),
# one after another, and writes OUT/<task>-<variant>/ artifacts plus OUT/summary.md.
set -euo pipefail
epochs=${1:-3}
out=${2:-artifacts/compare}
data=${SEQLAB_DATA:?set SEQLAB_DATA to the shared data folder}
bin=${BIN:-target/release}
mkdir -p "$out"
run() { # name, command...
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" --epochs "$epochs" --no-tui --artifacts "$out/$name" > "$out/$name.log" 2>&1
  end=$(date +%s.%N)
  echo "$name $(awk "BEGIN{print $end - $start}")" >> "$out/times.txt"
  tail -n 3 "$out/$name.log"
}
sst=(--train "$data/sst2/train.tsv" --valid "$data/sst2/dev.tsv" --test "$data/sst2/test.tsv")
conll=(--train "$data/conll2003/train.txt" --valid "$data/conll2003/dev.txt" --test "$data/conll2003/test.txt")
: > "$out/times.txt"
run sst2-ffn "$bin/train-classifier" "${sst[@]}" --model ffn --pooling mean --ffn-hidden 64
for m in rnn lstm gru; do
  run "sst2-$m" "$bin/train-classifier" "${sst[@]}" --model $m
  run "sst2-bi$m" "$bin/train-classifier" "${sst[@]}" --model $m --bidirectional
done
for m in rnn lstm gru; do
  run "conll-$m" "$bin/train-tagger" "${conll[@]}" --model $m --bidirectional false
  run "conll-bi$m" "$bin/train-tagger" "${conll[@]}" --model $m
done
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
times = dict(l.split() for l in open(os.path.join(out, "times.txt")))
rows = ["| task | encoder | valid | test | best epoch | wall time (s) |", "| --- | --- | --- | --- | --- | --- |"]
for name, secs in times.items():
    m = json.load(open(os.path.join(out, name, "metrics.json")))
    if name.startswith("sst2"):
        v, t = m["valid"]["accuracy"], m["test"]["accuracy"]
        metric = "accuracy"
    else:
        v, t = m["valid"]["f1"], m["test"]["f1"]
        metric = "entity F1"
    task, enc = name.split("-", 1)
    rows.append(f"| {task} ({metric}) | {enc} | {v:.3f} | {t:.3f} | {m.get('best_epoch')} | {float(secs):.0f} |")
open(os.path.join(out, "summary.md"), "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
