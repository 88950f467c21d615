#!/usr/bin/env bash
# Looks at serve's page as a person would: starts `serve` on a loopback port with the models
# given, drives the page in headless Chromium (scripts/page-check.mjs: type, Analyse, check the
# highlighted entities and the bars against the API), saves screenshots, then stops the server
# with SIGTERM and checks that it exits 0.
# Needs: apt-get install -y chromium; node and npm (playwright-core is installed on first use).
# Usage: scripts/page-check.sh OUT_DIR NAME=ARTIFACTS_DIR [NAME=ARTIFACTS_DIR ...]
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mkdir -p "$1" && cd "$1" && pwd)"; shift
node_dir="$HOME/.cache/seqlab/node"
[ -d "$node_dir/node_modules/playwright-core" ] || npm install --prefix "$node_dir" --no-save playwright-core >/dev/null
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/seqlab/target}"
cargo build --release --bin serve -q
port=$((20000 + RANDOM % 20000))
models=(); for m in "$@"; do models+=(--model "$m"); done
"$CARGO_TARGET_DIR/release/serve" "${models[@]}" --addr "127.0.0.1:$port" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
node scripts/page-check.mjs "http://127.0.0.1:$port" "$out"
kill -TERM $pid
wait $pid && echo "serve stopped cleanly on SIGTERM (exit 0)"
trap - EXIT
