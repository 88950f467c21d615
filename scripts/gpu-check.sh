#!/usr/bin/env bash
# seqlab on a real GPU, in one command: the whole integration suite on wgpu, then `bench` on
# wgpu (seqlab's layers against Burn's built-in RNNs in the same process) beside PyTorch on the
# same machine (CUDA when it has it, and CPU).
#
#   scripts/gpu-check.sh                 # builds here (cargo, release, --features wgpu), runs
#   PREBUILT=DIR scripts/gpu-check.sh    # runs DIR/bench, DIR/integration, DIR/train-tagger and
#                                        # DIR/train-classifier, built elsewhere (cargo build
#                                        # --release --features wgpu --bin bench --bin train-tagger
#                                        # --bin train-classifier; cargo test --release --features
#                                        # wgpu --no-run)
#
# Output in ${OUT:-gpu-out}/: gpu.txt (the card), wgpu-tests.log, bench.md (the table),
# torch-cuda.jsonl, and with SEQLAB_DATA set epochs.txt (one epoch of each default recipe on
# wgpu beside its PyTorch twin on CUDA, scripts/epoch-compare.sh). Needs a Vulkan loader (libvulkan1) and the GPU's Vulkan driver; PyTorch is
# optional (its rows are skipped without it). The integration tests read their fixtures from
# the checkout they were built in; with PREBUILT, run from a checkout at that path (or link it).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
mkdir -p "$out"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || echo "nvidia-smi: none"; nproc; } > "$out/gpu.txt"
if [ -n "${PREBUILT:-}" ]; then
  bench=$PREBUILT/bench
  tests=$PREBUILT/integration
else
  cargo build --release --features wgpu --bin bench --bin train-tagger --bin train-classifier || exit 1
  PREBUILT=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release
  bench=$PREBUILT/bench
  tests=$(cargo test --release --features wgpu --test integration --no-run 2>&1 | sed -n 's/.*(\(.*integration-[0-9a-f]*\)).*/\1/p' | tail -1)
fi
echo "== wgpu integration tests ($tests)"
timeout "${TEST_TIMEOUT:-300}" "$tests" --test-threads "${TEST_THREADS:-4}" 2>&1 | tee "$out/wgpu-tests.log" | grep -E "^test result|FAILED|panicked" 
echo "== bench on wgpu"
# --recorded: the one-node BPTT against every step recorded on the tape (does the node pay here?)
timeout "${BENCH_TIMEOUT:-300}" "$bench" --threads "$(nproc)" --recorded ${BENCH_ARGS:-} 2>&1 | tee "$out/bench.md"
echo "== PyTorch on CUDA"
timeout 120 python3 scripts/torch_gpu_reference.py --steps 15 --warmup 2 2>&1 | tee "$out/torch-cuda.jsonl"
if [ -n "${SEQLAB_DATA:-}" ]; then
  echo "== one epoch of each default recipe: seqlab on wgpu, the PyTorch twin on CUDA"
  BIN=$PREBUILT TWIN_ARGS="--device cuda ${TWIN_ARGS:-}" timeout "${EPOCH_TIMEOUT:-600}" \
    scripts/epoch-compare.sh both "${EPOCH_RUNS:-1}" 2>&1 | tee "$out/epochs.txt"
else
  echo "== epochs skipped: set SEQLAB_DATA to the shared corpora"
fi
