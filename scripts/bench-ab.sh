#!/usr/bin/env bash
# Two builds of the `bench` binary against each other (seqlab alone, no PyTorch): RUNS runs each,
# alternating, then a table of ms/step (median of runs) and after/before (median of the paired
# runs' ratios, with their range). A change that should not move speed is checked this way.
# Usage: scripts/bench-ab.sh BEFORE_BIN AFTER_BIN [RUNS] [WORKLOAD ...]
#   e.g. git worktree add /tmp/before REV && (cd /tmp/before && cargo build --release --bin bench)
set -euo pipefail
before="$1"; after="$2"; runs="${3:-6}"; shift $(( $# < 3 ? $# : 3 ))
workloads=("${@:-tagger tagger-crf classifier tagger-infer classifier-infer}")
out="$(mktemp)"
for _ in $(seq "$runs"); do
  for side in before after; do
    bin="$before"; [ "$side" = after ] && bin="$after"
    # shellcheck disable=SC2068
    "$bin" ${workloads[@]} --no-burn --rounds 5 --steps 5 --torch-script /nonexistent \
      --twin-script /nonexistent --torch-crf-script /nonexistent --json 2>/dev/null \
      | grep '"workload"' | sed "s/^/$side /" >> "$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    side, js = line.split(' ', 1)
    d = json.loads(js)
    rows.setdefault((d['workload'], d['implementation'], side), []).append(d['ms_per_step'])
print("| workload | implementation | before ms/step | after ms/step | after/before | range |")
print("| --- | --- | --- | --- | --- | --- |")
for w, i in sorted({(w, i) for (w, i, _) in rows}):
    b, a = rows[(w, i, 'before')], rows[(w, i, 'after')]
    r = [y / x for x, y in zip(b, a)]
    print(f"| {w} | {i} | {st.median(b):.2f} | {st.median(a):.2f} | {st.median(r):.3f} | {min(r):.3f}–{max(r):.3f} |")
PY
rm -f "$out"
