#!/usr/bin/env bash
# Peak memory of reading, encoding and training on corpora larger than memory (BENCHMARKS.md,
# "Corpora larger than memory"). Each command runs under /usr/bin/time -v (peak RSS) while its
# RssAnon (/proc/PID/status) is sampled every 0.2 s; a training run is stopped with SIGINT after
# SECONDS of wall time, and its steps are the lines of burn-train's per-iteration loss log.
#
# Usage: scripts/corpus-memory.sh BIN_DIR BIG_DIR [SECONDS]
#   BIN_DIR: release binaries (e.g. ~/.cache/seqlab/target/release)
#   BIG_DIR: the corpora of scripts/make_scale_corpora.py; SEQLAB_DATA must be set.
#   ONLY=name,name runs only those rows.
set -uo pipefail
bin=$1
big=$2
seconds=${3:-150}
data=${SEQLAB_DATA:?set SEQLAB_DATA to the shared data folder}
out=$(mktemp -d)
printf '%-28s %9s %12s %12s %8s\n' run wall_s peak_rss_MB peak_anon_MB steps

# measure NAME LIMIT_S CMD...: runs CMD, prints its row.
measure() {
  local name=$1 limit=$2
  shift 2
  if [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$name,"* ]]; then return; fi
  /usr/bin/time -v -o "$out/$name.time" timeout -s INT "$limit" "$@" >"$out/$name.log" 2>&1 &
  local wrapper=$! peak=0 pid=""
  while kill -0 "$wrapper" 2>/dev/null; do
    [ -z "$pid" ] && pid=$(pgrep -P "$(pgrep -P "$wrapper" | head -1)" 2>/dev/null | head -1)
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
      local anon
      anon=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null)
      [ -n "$anon" ] && [ "$anon" -gt "$peak" ] && peak=$anon
    fi
    sleep 0.2
  done
  local rss wall steps="-"
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$out/$name.time")
  wall=$(awk -F': ' '/Elapsed/ {print $2}' "$out/$name.time")
  local loss
  loss=$(ls "$out/$name"/train/epoch-*/Loss.log 2>/dev/null | head -1)
  [ -n "$loss" ] && steps=$(wc -l <"$loss")
  printf '%-28s %9s %12.1f %12.1f %8s\n' "$name" "$wall" "$((rss))e-3" "$((peak))e-3" "$steps"
}

measure stats-sst2x30 600 "$bin/dataset-stats" "$big/sst2x30.tsv"
measure classifier-sst2 "$seconds" "$bin/train-classifier" --train "$data/sst2/train.tsv" --valid "$data/sst2/dev.tsv" \
  --epochs 1 --no-tui --artifacts "$out/classifier-sst2"
# Throughput over a whole epoch: SST-2 against SST-2 three times (examples/s from log.csv).
{ head -1 "$data/sst2/train.tsv"; for _ in 1 2 3; do tail -n +2 "$data/sst2/train.tsv"; done; } >"$out/sst2x3.tsv"
measure classifier-sst2x3 900 "$bin/train-classifier" --train "$out/sst2x3.tsv" --valid "$data/sst2/dev.tsv" \
  --epochs 1 --no-tui --artifacts "$out/classifier-sst2x3"
measure classifier-sst2x30 "$seconds" "$bin/train-classifier" --train "$big/sst2x30.tsv" --valid "$data/sst2/dev.tsv" \
  --epochs 1 --no-tui --artifacts "$out/classifier-sst2x30"
measure classifier-2g "$seconds" "$bin/train-classifier" --train "$big/sentiment-2g.tsv" --valid "$data/sst2/dev.tsv" \
  --tokenizer whitespace --lowercase true --epochs 1 --no-tui --artifacts "$out/classifier-2g"
measure tagger-1g "$((seconds * 2))" "$bin/train-tagger" --train "$big/conll-1g.txt" --valid "$data/conll2003/dev.txt" \
  --epochs 1 --no-tui --artifacts "$out/tagger-1g"
for f in "$big/sentiment-2g.tsv" "$big/conll-1g.txt"; do
  /usr/bin/time -f "wc -l $(basename "$f"): %e s" wc -l "$f" >/dev/null
done
grep -h "data: encoded" "$out"/*.log
for run in classifier-sst2 classifier-sst2x3; do
  [ -f "$out/$run/log.csv" ] || continue
  echo "$run epoch: $(tail -n1 "$out/$run/log.csv" | awk -F, '{print $(NF) " examples/s, " $(NF-1) " s"}')"
done
echo "logs in $out"
