#!/usr/bin/env bash
# predict on inputs larger than memory should need (issue 24): 1,000,000 SST-2 lines for a
# classifier and 200,000 CoNLL-2003 sentences for a tagger, made from the test splits (repeated,
# shuffled) in a temporary folder. For each: peak RSS (/usr/bin/time -v), the time to the first
# output line, the whole run's throughput, and beside it `evaluate` on the same texts (the same
# 256-text batches run in-process, with no streaming and no output).
# Usage: scripts/predict-scale.sh CLASSIFIER_ARTIFACTS TAGGER_ARTIFACTS [LINES] [SENTENCES]
set -euo pipefail
cd "$(dirname "$0")/.."
classifier="$1"; tagger="$2"; lines="${3:-1000000}"; sentences="${4:-200000}"
D="${SEQLAB_DATA:-../shared/data}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/seqlab/target}"
cargo build --release -q --bin predict --bin evaluate
bin="$CARGO_TARGET_DIR/release"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python3 - "$D" "$work" "$lines" "$sentences" <<'PY'
import random, sys
data, work, lines, sentences = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(1)
def repeat(items, n):
    out = []
    while len(out) < n:
        random.shuffle(items); out.extend(items)
    return out[:n]
rows = [l for l in open(f"{data}/sst2/test.tsv").read().splitlines()[1:] if l.strip()]
rows = repeat(rows, lines)
open(f"{work}/sst2.tsv", "w").write("sentence\tlabel\n" + "\n".join(rows) + "\n")
open(f"{work}/sst2.txt", "w").write("\n".join(r.split("\t")[0] for r in rows) + "\n")
text = open(f"{data}/conll2003/test.txt").read()
sents = repeat([s for s in text.split("\n\n") if s.strip() and not s.startswith("-DOCSTART-")], sentences)
open(f"{work}/conll.txt", "w").write("\n\n".join(sents) + "\n")
PY
first_line() { # seconds from start to the first output line, and to the end
  python3 - "$@" <<'PY'
import subprocess, sys, time
start = time.time()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
p.stdout.readline(); first = time.time() - start
for _ in p.stdout: pass
p.wait(); print(f"first output after {first:.3f} s, done after {time.time() - start:.1f} s")
PY
}
measure() { # NAME TEXTS ARGS...
  local name="$1" n="$2"; shift 2
  /usr/bin/time -v "$@" > /dev/null 2> "$work/time.txt"
  local rss wall
  rss=$(awk '/Maximum resident/ { print $6 }' "$work/time.txt")
  wall=$(awk '/Elapsed \(wall/ { print $8 }' "$work/time.txt")
  awk -v name="$name" -v n="$n" -v rss="$rss" -v wall="$wall" 'BEGIN {
    split(wall, p, ":"); s = (length(p) == 3) ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2];
    printf "%-36s %9d texts %8.1f s %9.0f texts/s  peak RSS %7.1f MiB\n", name, n, s, n / s, rss / 1024 }'
}
echo "## classifier ($classifier), $lines lines"
measure "predict --input (streaming)" "$lines" "$bin/predict" --artifacts "$classifier" --input "$work/sst2.txt"
measure "evaluate (in-process batches)" "$lines" "$bin/evaluate" --artifacts "$classifier" --test "$work/sst2.tsv"
first_line "$bin/predict" --artifacts "$classifier" --input "$work/sst2.txt"
echo "## tagger ($tagger), $sentences sentences"
measure "predict --format conll (streaming)" "$sentences" "$bin/predict" --artifacts "$tagger" --format conll --input "$work/conll.txt"
measure "evaluate (in-process batches)" "$sentences" "$bin/evaluate" --artifacts "$tagger" --test "$work/conll.txt"
first_line "$bin/predict" --artifacts "$tagger" --format conll --input "$work/conll.txt"
