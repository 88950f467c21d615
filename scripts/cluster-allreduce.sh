#!/usr/bin/env bash
# The all-reduce every training step of a job makes, timed by cluster-bench under mpirun: the
# default CoNLL-2003 tagger's gradient (2,690,693 f32, 10.8 MB) between 2 and 3 ranks on this
# machine, through shared memory and through TCP on loopback. Prints a Markdown table.
# Needs binaries built with --features mpi and Open MPI's mpirun.
# Usage: scripts/cluster-allreduce.sh [BIN_DIR] [ROUNDS]
set -euo pipefail
B="$(cd "${1:-${CARGO_TARGET_DIR:-target}/release}" && pwd)"
rounds="${2:-100}"
as_root=(); [ "$(id -u)" = 0 ] && as_root=(--allow-run-as-root)
echo "| ranks | transport | median | fastest | slowest | bus bandwidth |"
echo "| --- | --- | --- | --- | --- | --- |"
for ranks in 2 3; do
  for transport in "shared memory:self,vader" "TCP loopback:self,tcp"; do
    row="$(mpirun "${as_root[@]}" --oversubscribe --bind-to none -np "$ranks" --mca btl "${transport#*:}" \
      --mca btl_tcp_if_include lo "$B/cluster-bench" --json --rounds "$rounds")"
    python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(f\"| {r['ranks']} | ${transport%%:*} | **{r['median_ms']:.2f} ms** | {r['min_ms']:.2f} ms | {r['max_ms']:.2f} ms | {r['bus_gb_s']:.2f} GB/s |\")" "$row"
  done
done
