#!/usr/bin/env bash
# The training dashboard stopped three ways in a real terminal (tmux): `q` then `s`, Ctrl-C, and
# SIGTERM. Each must exit with the run's completed epochs kept, the reason in metrics.json or
# progress.json, no lock left, and the terminal given back (echo and canonical mode on, the
# alternate screen left). Prints one line per case; exits non-zero if any check fails.
# Usage: scripts/dashboard-check.sh [BIN_DIR]   (default: $CARGO_TARGET_DIR/release or target/release)
set -u
B="$(cd "${1:-${CARGO_TARGET_DIR:-target}/release}" && pwd)"
command -v tmux > /dev/null || { echo "skipped: tmux is not installed"; exit 0; }
W="$(mktemp -d)"; cd "$W" || exit 1
failed=0
S="seqlab-dash-$$"

# Starts a run in a fresh 120x40 tmux pane; the pane's shell records the exit code and the
# terminal's settings after it.
start() { # start NAME
  tmux kill-session -t "$S" 2> /dev/null
  tmux new-session -d -s "$S" -x 120 -y 40 \
    "$B/train-classifier --epochs 500 --artifacts $1; echo \"exit=\$?\" > $1.rc; stty -a > $1.stty; sleep 30"
  # The first epoch writes progress.json; stop after it.
  for _ in $(seq 1 120); do [ -e "$1/progress.json" ] && break; sleep 0.5; done
}

# Waits for the run to end and checks what it left.
check() { # check NAME HOW
  for _ in $(seq 1 60); do [ -e "$1.rc" ] && break; sleep 0.5; done
  local screen stopped rc
  screen="$(tmux capture-pane -p -t "$S")"
  rc="$(cat "$1.rc" 2> /dev/null)"
  stopped="$(python3 -c "import json,sys; print(json.load(open('$1/progress.json')).get('stopped'))" 2> /dev/null)"
  local ok=yes
  [ -n "$rc" ] || ok=no
  [ "$stopped" != "None" ] && [ -n "$stopped" ] || ok=no
  flock -n "$1/.lock" true 2> /dev/null || ok=no   # the lock file may stay; it must be free
  grep -q -- " echo " "$1.stty" && grep -q -- " icanon " "$1.stty" || ok=no
  grep -q "are kept\|is kept\|stopped" <<< "$screen" || ok=no
  [ "$ok" = yes ] || failed=1
  printf '%-12s %-10s stopped=%-40s terminal=%s ok=%s\n' "$2" "$rc" "$stopped" \
    "$(grep -o -- ' echo \| icanon ' "$1.stty" 2> /dev/null | tr -d ' ' | tr '\n' ,)" "$ok"
}

start q; tmux send-keys -t "$S" q; sleep 1; tmux send-keys -t "$S" s; check q "q, s"
start c; tmux send-keys -t "$S" C-c; check c "Ctrl-C"
start t; pkill -TERM -f -- "--artifacts t$" ; check t "SIGTERM"
tmux kill-session -t "$S" 2> /dev/null
echo "work folder $W"
exit "$failed"
