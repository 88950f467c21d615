#!/usr/bin/env bash
# Whole-epoch timing of seqlab's default recipes against their PyTorch twins
# (scripts/torch_twin.py), alternated on the same machine, one epoch per run:
#
#   scripts/epoch-compare.sh [tagger|classifier|both] [RUNS]      (default: both 3)
#
# Needs SEQLAB_DATA (the shared corpora), the release binaries (BIN, default
# $CARGO_TARGET_DIR/release or target/release), and python3 with torch and pytorch-crf
# (PYTHON, default python3; TWIN_ARGS adds options to the twin, e.g. --device cuda). For each run it prints one line per implementation: the epoch
# (training + validation: seqlab's log.csv `seconds`, the twin's own timer), the whole
# process (reading the data, the epoch, scoring valid and test), the dev and test score and
# the peak RSS; then the medians and the ratios (PyTorch time / seqlab time: above 1 seqlab
# is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
task=${1:-both}
runs=${2:-3}
data=${SEQLAB_DATA:?set SEQLAB_DATA to the shared data folder}
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release}
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `measure NAME CMD...`: runs CMD under /usr/bin/time; leaves wall seconds and peak RSS (MiB)
# in $work/NAME.time and the output in $work/NAME.out.
measure() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" > "$work/$name.out" 2>&1
}

one_task() {
  local task=$1
  local seqlab_cmd twin_cmd score
  if [ "$task" = tagger ]; then
    seqlab_cmd=("$bin/train-tagger" --train "$data/conll2003/train.txt" --valid "$data/conll2003/dev.txt"
      --test "$data/conll2003/test.txt" --epochs 1 --artifacts "$work/seqlab" --overwrite --no-tui)
    score=valid_entity_f1
  else
    seqlab_cmd=("$bin/train-classifier" --train "$data/sst2/train.tsv" --valid "$data/sst2/dev.tsv"
      --test "$data/sst2/test.tsv" --epochs 1 --artifacts "$work/seqlab" --overwrite --no-tui)
    score=valid_accuracy
  fi
  # TWIN_ARGS: more options for the twin (e.g. --device cuda, --threads 16).
  # shellcheck disable=SC2206
  twin_cmd=("$python" scripts/torch_twin.py "$task" --data "$data" --epochs 1 --json ${TWIN_ARGS:-})
  : > "$work/$task.rows"
  for r in $(seq 1 "$runs"); do
    measure seqlab "${seqlab_cmd[@]}"
    measure twin "${twin_cmd[@]}"
    read -r s_wall s_rss < "$work/seqlab.time"
    read -r t_wall t_rss < "$work/twin.time"
    "$python" - "$work" "$task" "$r" "$s_wall" "$s_rss" "$t_wall" "$t_rss" "$score" >> "$work/$task.rows" <<'EOF'
import csv, json, sys
work, task, run, s_wall, s_rss, t_wall, t_rss, score = sys.argv[1:]
row = list(csv.DictReader(open(f"{work}/seqlab/log.csv")))[-1]
metrics = json.load(open(f"{work}/seqlab/metrics.json"))
test_key = "f1" if task == "tagger" else "accuracy"
twin = json.loads([l for l in open(f"{work}/twin.out") if l.startswith("{")][-1])
t_epoch = twin["epochs"][-1]
t_score = t_epoch.get("valid_entity_F1", t_epoch.get("valid_accuracy"))
t_test = twin.get("test_entity_F1", twin.get("test_accuracy"))
print(json.dumps({"run": int(run),
    "seqlab": {"epoch_s": float(row["seconds"]), "process_s": float(s_wall), "dev": float(row[score]),
               "test": metrics["test"][test_key], "peak_rss_mib": int(s_rss) / 1024},
    "pytorch": {"epoch_s": t_epoch["seconds"], "process_s": float(t_wall), "dev": t_score, "test": t_test,
                "peak_rss_mib": int(t_rss) / 1024}}))
EOF
    tail -1 "$work/$task.rows" | "$python" -c '
import json, sys
r = json.loads(sys.stdin.read())
for k in ("seqlab", "pytorch"):
    v = r[k]
    print("run %d %-7s epoch %6.1f s  process %6.1f s  dev %.4f  test %.4f  peak RSS %.0f MiB"
          % (r["run"], k, v["epoch_s"], v["process_s"], v["dev"], v["test"], v["peak_rss_mib"]))'
  done
  "$python" - "$work/$task.rows" "$task" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda who, k: statistics.median(r[who][k] for r in rows)
print(f"{sys.argv[2]}: medians of {len(rows)} alternated runs")
for k in ("epoch_s", "process_s"):
    s, t = med("seqlab", k), med("pytorch", k)
    print(f"  {k:<10} seqlab {s:6.1f}  pytorch {t:6.1f}  speed-up {t / s:.2f}x")
EOF
}

case "$task" in
  both) one_task tagger; one_task classifier ;;
  tagger|classifier) one_task "$task" ;;
  *) echo "usage: $0 [tagger|classifier|both] [RUNS]" >&2; exit 2 ;;
esac
