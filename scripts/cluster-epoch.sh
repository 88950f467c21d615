#!/usr/bin/env bash
# Data-parallel scaling on one machine: one epoch of the default tagger on CoNLL-2003 (or of the
# default classifier on SST-2) in 1 process × 1 thread at batch 32, against an MPI job of 2
# ranks × 1 thread (mpirun, shared memory) at batch 32 each (twice the examples per step, as
# data-parallel scaling is reported) and at batch 16 each (the same effective batch and steps).
# Each run's examples/s is log.csv's (the whole training split over the epoch's time,
# validation included); rounds alternate, and the table gives each run's median and the
# speed-up over the single process with its spread. Also prints the ranks' all-reduce traffic.
# Needs binaries built with --features mpi and Open MPI's mpirun.
# Usage: SEQLAB_DATA=../shared/data scripts/cluster-epoch.sh [tagger|classifier] [ROUNDS] [BIN_DIR]
set -euo pipefail
task="${1:-tagger}"
rounds="${2:-2}"
B="$(cd "${3:-${CARGO_TARGET_DIR:-target}/release}" && pwd)"
D="${SEQLAB_DATA:?set SEQLAB_DATA to the shared data folder}"
W="$(mktemp -d)"
as_root=(); [ "$(id -u)" = 0 ] && as_root=(--allow-run-as-root)
case "$task" in
  tagger) cmd=(train-tagger --train "$D/conll2003/train.txt" --valid "$D/conll2003/dev.txt") ;;
  classifier) cmd=(train-classifier --train "$D/sst2/train.tsv" --valid "$D/sst2/dev.tsv") ;;
  *) echo "task: tagger or classifier, not $task" >&2; exit 2 ;;
esac
common=(--no-tui --epochs 1 --seed 42)
speed() { python3 -c "import csv; print(list(csv.DictReader(open('$1/log.csv')))[-1]['examples_per_second'])"; }

one() { # NAME BATCH
  RAYON_NUM_THREADS=1 "$B/${cmd[0]}" "${cmd[@]:1}" "${common[@]}" --batch-size "$2" --artifacts "$W/$1" \
    > "$W/$1.log" 2>&1 || { cat "$W/$1.log"; exit 1; }
}
two() { # NAME BATCH
  mpirun "${as_root[@]}" -np 2 --bind-to core --mca btl self,vader env RAYON_NUM_THREADS=1 \
    "$B/${cmd[0]}" "${cmd[@]:1}" "${common[@]}" --batch-size "$2" --artifacts "$W/$1" \
    > "$W/$1.log" 2>&1 || { cat "$W/$1.log"; exit 1; }
}

for round in $(seq 1 "$rounds"); do
  one "one-32-$round" 32; echo "round $round: 1 x 32 $(speed "$W/one-32-$round") ex/s"
  two "two-32-$round" 32; echo "round $round: 2 x 32 $(speed "$W/two-32-$round") ex/s"
  two "two-16-$round" 16; echo "round $round: 2 x 16 $(speed "$W/two-16-$round") ex/s"
done
grep -h "all-reduces of" "$W"/two-32-1.log "$W"/two-16-1.log
python3 - "$W" "$rounds" "$task" <<'EOF'
import csv, statistics, sys
w, rounds, task = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def speed(name): return float(list(csv.DictReader(open(f"{w}/{name}/log.csv")))[-1]["examples_per_second"])
one = [speed(f"one-32-{r}") for r in range(1, rounds + 1)]
print(f"\n| {task}, one epoch | examples/s (median, min–max) | speed-up over 1 × 1 thread (median, min–max of rounds) |")
print("| --- | --- | --- |")
print(f"| 1 process × 1 thread, batch 32 | {statistics.median(one):,.0f} ({min(one):,.0f}–{max(one):,.0f}) | 1 |")
for name, label in [("two-32", "2 ranks × 1 thread, batch 32 each"), ("two-16", "2 ranks × 1 thread, batch 16 each (same effective batch)")]:
    s = [speed(f"{name}-{r}") for r in range(1, rounds + 1)]
    ratios = [a / b for a, b in zip(s, one)]
    print(f"| {label} | {statistics.median(s):,.0f} ({min(s):,.0f}–{max(s):,.0f}) | "
          f"**{statistics.median(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f}) |")
EOF
echo "(work folder $W)"
