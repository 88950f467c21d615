#!/usr/bin/env bash
# Builds the Python package (bindings/python) into a wheel with maturin, installs it in a fresh
# virtual environment and runs its tests with pytest against the command line's `predict`:
# a tagger and a classifier trained here on the embedded corpora, and the artifacts-v0
# classifier; and `export --format onnx` checked by onnx and onnxruntime (tests/test_onnx.py).
# Needs python3 (with venv and pip) and the workspace's binaries built
# (`cargo build --workspace --bins`); maturin, pytest, numpy, onnx and onnxruntime come from
# PyPI.
# Usage: scripts/python-check.sh [BIN_DIR]   (default: $CARGO_TARGET_DIR/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/seqlab/target}"
bins="$(cd "${1:-$CARGO_TARGET_DIR/debug}" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.5,<2" pytest numpy onnx onnxruntime
(cd bindings/python && "$work/venv/bin/maturin" build --release --quiet -o "$work/wheels")
"$work/venv/bin/pip" install -q --disable-pip-version-check "$work"/wheels/seqlab-*.whl
"$bins/train-tagger" --epochs 3 --artifacts "$work/tagger" --no-tui > "$work/train.log"
"$bins/train-classifier" --epochs 1 --artifacts "$work/classifier" --no-tui >> "$work/train.log"
SEQLAB_BIN="$bins" SEQLAB_TAGGER="$work/tagger" SEQLAB_CLASSIFIER="$work/classifier" \
  "$work/venv/bin/python" -m pytest -q bindings/python/tests
