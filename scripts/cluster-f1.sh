#!/usr/bin/env bash
# The default tagger's whole recipe (15 epochs) on CoNLL-2003 as an MPI job of 2 ranks (mpirun,
# shared memory, --batch-size 16 each: the same effective batch of 32 and the same steps) against
# one process at batch 32 with the seeds given (the first is the 2-rank run's seed). Prints each
# run's best-epoch validation and test F1 and wall time. Needs binaries built with --features mpi.
# Usage: SEQLAB_DATA=../shared/data scripts/cluster-f1.sh [BIN_DIR] [SEEDS...]   (seeds: 42 1 2)
set -u
B="$(cd "${1:-${CARGO_TARGET_DIR:-target}/release}" && pwd)"
shift || true
seeds=("$@")
[ "$#" -eq 0 ] && seeds=(42 1 2)
D="${SEQLAB_DATA:?set SEQLAB_DATA to the shared data folder}"
W="$(mktemp -d)"
data=(--train "$D/conll2003/train.txt" --valid "$D/conll2003/dev.txt" --test "$D/conll2003/test.txt" --no-tui)
f1() { python3 -c "import json; m=json.load(open('$1/metrics.json')); print(f\"valid F1 {m['valid']['f1']:.4f}, test F1 {m['test']['f1']:.4f}, best epoch {m['best_epoch']}\")"; }
now() { python3 -c "import time; print(time.time())"; }
took() { python3 -c "import time; print(round(time.time() - $1))"; }

as_root=(); [ "$(id -u)" = 0 ] && as_root=(--allow-run-as-root)

start=$(now)
mpirun "${as_root[@]}" -np 2 --bind-to core --mca btl self,vader env RAYON_NUM_THREADS=1 \
  "$B/train-tagger" "${data[@]}" --seed "${seeds[0]}" --batch-size 16 --artifacts "$W/two" > "$W/two.log" 2>&1
echo "2 ranks x 1 thread, batch 2 x 16, seed ${seeds[0]}: $(took "$start") s; $(f1 "$W/two")"
grep -h "all-reduces of" "$W/two.log"
for seed in "${seeds[@]}"; do
  start=$(now)
  RAYON_NUM_THREADS=2 "$B/train-tagger" "${data[@]}" --seed "$seed" --artifacts "$W/one-$seed" > "$W/one-$seed.log" 2>&1
  echo "1 process x 2 threads, batch 32, seed $seed: $(took "$start") s; $(f1 "$W/one-$seed")"
done
echo "(work folder $W)"
