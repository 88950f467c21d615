#!/usr/bin/env bash
# The probes of issues 15, 27 and 40 against the release binaries: each line prints the case, the exit code,
# PANIC when the output holds "panicked", and the first line of the error.
# Usage: scripts/failure-probes.sh [BIN_DIR]   (default: $CARGO_TARGET_DIR/release or target/release)
set -u
B="${1:-${CARGO_TARGET_DIR:-target}/release}"
W="$(mktemp -d)"; cd "$W" || exit 1
panics=0; cases=0
probe() { # probe NAME COMMAND...
  local name="$1"; shift
  out="$("$@" 2>&1 < /dev/null)"; rc=$?
  cases=$((cases + 1))
  if grep -q "panicked" <<<"$out"; then panics=$((panics + 1)); flag="PANIC"; else flag="     "; fi
  printf '%-34s rc=%-3s %s %s\n' "$name" "$rc" "$flag" "$(grep -m1 -iE 'error|no text' <<<"$out" | cut -c1-150)"
}
tc() { "$B/train-classifier" --no-tui "$@"; }   # 5 epochs of a GRU on the embedded corpus unless told
tt() { "$B/train-tagger" --no-tui --epochs 1 "$@"; }
probe "hidden 0"                tc --hidden 0 --artifacts a1
probe "layers 0"                tc --layers 0 --artifacts a1
probe "ffn-hidden 0"            tc --ffn-hidden 0 --artifacts a1
probe "dropout 1.5"             tc --dropout 1.5 --artifacts a1
printf 'dropout = -0.1\n' > c.toml
probe "dropout -0.1 in config"  tc --config c.toml --artifacts a1
probe "dropout 1"               tc --dropout 1 --artifacts a1
probe "batch-size 0"            tc --batch-size 0 --artifacts a1
probe "epochs 0"                "$B/train-classifier" --epochs 0 --artifacts a1
probe "lr -1"                   tc --lr=-1 --artifacts a1
probe "lr nan"                  tc --lr nan --artifacts a1
probe "lr inf"                  tc --lr inf --artifacts a1
probe "gamma -1"                tc --gamma=-1 --artifacts a1
probe "momentum -1"             tc --momentum=-1 --artifacts a1
probe "weight-decay -1"         tc --weight-decay=-1 --artifacts a1
probe "clip-norm -1"            tc --clip-norm=-1 --artifacts a1
printf 'lr = -1\n' > lr.toml
probe "lr = -1 in config"       tc --config lr.toml --artifacts a1
probe "embedding-dim 0"         tt --embedding-dim 0 --artifacts t1
probe "word-dropout 1.5"        tt --word-dropout 1.5 --artifacts t1
probe "step-epochs 0"           tc --step-epochs 0 --artifacts a1
probe "file-scheme iobes (IOB2)" tt --file-scheme iobes --artifacts t1
printf 'text,label\n' > header.csv
probe "header-only csv"         tc --train header.csv --valid header.csv --artifacts a1
printf 'sentence\tlabel\ngood\t1\nbad\tpositive\n' > glue.tsv
probe "GLUE label positive"     tc --train glue.tsv --valid glue.tsv --artifacts a1
printf '{"text":"a","label":1}\n{"text":"b","label":0}\n{"text":"c","label":3.5}\n' > f.jsonl
probe "JSONL label 3.5"         tc --train f.jsonl --valid f.jsonl --artifacts a1
printf 'text,label\ngood,pos\nfine,pos\n' > one.csv
probe "one class"               tc --train one.csv --valid one.csv --artifacts a1
mkdir -p imdb/pos imdb/neg; echo great > imdb/pos/1.txt; echo awful > imdb/neg/3.txt; : > imdb/neg/2.txt; echo notes > imdb/neg/readme.md
probe "IMDB readme + empty file" "$B/dataset-stats" imdb
mkdir -p dir.csv
probe "folder as a csv"         tc --train dir.csv --valid dir.csv --format csv --artifacts a1
printf 'text,label\n"ok",pos\n"never closed,neg\nmore,pos\n' > quote.csv
probe "csv unclosed quote"      tc --train quote.csv --valid quote.csv --artifacts a1
probe "train (reference run)"   tc --artifacts ok
probe "train again, same folder" tc --artifacts ok
probe "resume --hidden 32"      tc --artifacts ok --resume --hidden 32 --epochs 6
probe "resume as ./ok/ from elsewhere" bash -c "mkdir -p sub && cd sub && $B/train-classifier --no-tui --artifacts ../ok/ --resume --epochs 6"
probe "predict, empty stdin"    "$B/predict" --artifacts ok
printf 'good\n\xff bad\n' > bad.txt
probe "predict, invalid UTF-8"  bash -c "$B/predict --artifacts ok < bad.txt"
probe "predict \"   \""         "$B/predict" --artifacts ok "   "
cp -r ok edited; sed -i 's/"hidden": 128/"hidden": 64/' edited/model.json
probe "model.json hidden 128->64" "$B/predict" --artifacts edited "good"
cp -r ok edited2; sed -i 's/"hidden": 128/"hidden": 256/' edited2/model.json
probe "model.json hidden 128->256" "$B/predict" --artifacts edited2 "good"
tc --artifacts seed2 --seed 2 > /dev/null 2>&1; cp -r ok other; cp seed2/model.mpk other/model.mpk
probe "model.mpk of another run" "$B/evaluate" --artifacts other --test embedded:sentiment/test
cp -r ok damaged; head -c 1000 ok/model.mpk > damaged/model.mpk
probe "damaged model.mpk"       "$B/evaluate" --artifacts damaged --test embedded:sentiment/test
cp -r ok shuffled; python3 -c "import json;v=json.load(open('shuffled/vocab.json'));v['tokens'][5],v['tokens'][6]=v['tokens'][6],v['tokens'][5];json.dump(v,open('shuffled/vocab.json','w'))"
probe "shuffled vocab.json"     "$B/evaluate" --artifacts shuffled --test embedded:sentiment/test
tc --artifacts trunc --epochs 2 > /dev/null 2>&1; : > trunc/checkpoint/model-2.mpk
probe "resume, truncated ckpt"  tc --artifacts trunc --resume --epochs 3
tt --artifacts tg > /dev/null 2>&1
probe "tagger predict \"\""     "$B/predict" --artifacts tg ""
# Round two (issue 27).
probe "hidden 1e8"              tc --hidden 100000000 --artifacts r2
probe "hidden u64::MAX"         tc --hidden 18446744073709551615 --artifacts r2
probe "embedding-dim 1e8"       tc --embedding-dim 100000000 --artifacts r2
probe "layers 1e6"              tc --layers 1000000 --artifacts r2
probe "ffn-hidden 1e9"          tc --ffn-hidden 1000000000 --artifacts r2
probe "char-filters 1e9"        tt --char-filters 1000000000 --artifacts r2
probe "max-tokens 0"            tc --max-tokens 0 --artifacts r2
probe "grad-flow norms hidden 0" "$B/grad-flow" norms --hidden 0 --out gf
probe "grad-flow norms length 1e8" "$B/grad-flow" norms --length 100000000 --out gf
probe "grad-flow norms hidden 1e8" "$B/grad-flow" norms --hidden 100000000 --out gf
probe "RAYON_NUM_THREADS=100000" env RAYON_NUM_THREADS=100000 "$B/dataset-stats" embedded:sentiment/test
probe "seed -1"                 tc --seed -1 --artifacts r2
touch afile
probe "--artifacts a file"      tc --artifacts afile --epochs 1
probe "min-freq 1000000"        tc --min-freq 1000000 --artifacts r2
python3 -c "
import csv
w = csv.writer(open('textlabel.csv', 'w')); w.writerow(['label', 'text'])
for i in range(300): w.writerow([f'film number {i} was fine', str(i % 2)])"
probe "label column holds text" tc --train textlabel.csv --valid textlabel.csv --artifacts r2
printf 'sentence\tlabel\ngood\t1\n   \t0\nbad\t0\n' > blank.tsv
probe "blank text in training"  tc --train blank.tsv --valid blank.tsv --artifacts r2
printf 'sentence\tlabel\ngood\t1\nbad\t0\n' > two.tsv
probe "text-column 99 on GLUE"  tc --train two.tsv --valid two.tsv --text-column 99 --artifacts r2
probe "nbest on a classifier"   "$B/predict" --artifacts ok --nbest 3 "good"
probe "export --out /dev/null"  "$B/export" --artifacts ok --out /dev/null
probe "export over model.mpk"   "$B/export" --artifacts ok --out ok/model.mpk
ln -s target.safetensors link.safetensors; echo old > target.safetensors
probe "export onto a link"      bash -c "$B/export --artifacts ok --out link.safetensors && test -L link.safetensors && echo still a link"
probe "export --out /dev/full"  "$B/export" --artifacts ok --out /dev/full
printf 'EU B-ORG\nrejects O\n\nNew\xc2\xa0York B-LOC\nis O\n' > nbsp.conll
probe "CoNLL token with U+00A0" tt --train nbsp.conll --valid nbsp.conll --artifacts r3
printf 'EU B-ORG\nrejects O\n\nThe O\nOlympics B-EVENT\n' > event.conll
probe "test file with B-EVENT"  "$B/evaluate" --artifacts tg --test event.conll
probe "tagger evaluate on a TSV" "$B/evaluate" --artifacts tg --test two.tsv
probe "tagger trained on a TSV" tt --train two.tsv --valid two.tsv --artifacts r2
# A lock held by another process (flock), as a run in another container would hold it.
( flock -x ok/.lock sleep 5 ) & sleep 0.5
probe "folder held by another"  tc --artifacts ok --resume --epochs 7
wait
# Two PID namespaces on one folder (two containers sharing a volume); the first is PID 1 in its
# own and is killed with SIGKILL: the kernel releases its lock, so a third run takes over.
if unshare --pid --fork --mount-proc true 2> /dev/null; then
  unshare --pid --fork --mount-proc "$B/train-classifier" --no-tui --epochs 500 --artifacts ns > ns.out 2>&1 &
  for _ in $(seq 1 60); do [ -e ns/.lock ] && break; sleep 0.5; done
  probe "other PID namespace, same folder" unshare --pid --fork --mount-proc "$B/train-classifier" --no-tui --epochs 1 --artifacts ns --overwrite
  pkill -KILL -f -- "--artifacts ns$"; wait
  probe "after PID 1 of a namespace killed" unshare --pid --fork --mount-proc "$B/train-classifier" --no-tui --epochs 1 --artifacts ns --overwrite
fi
printf 'pid 1\nstarted 2026-11-30 04:00:00 UTC\n' > ok/.lock
probe "lock text of PID 1, no holder" tc --artifacts ok --resume --epochs 6
# The labels swapped after the first epoch: same size, another CRC-32.
tc --artifacts rd --train two.tsv --valid two.tsv --epochs 1 > /dev/null 2>&1
printf 'sentence\tlabel\ngood\t0\nbad\t1\n' > two.tsv
probe "resume, data changed"    tc --artifacts rd --train two.tsv --valid two.tsv --resume --epochs 2
# The trainer itself signalled (not a shell around it); the lock must be free afterwards.
"$B/train-classifier" --no-tui --artifacts sg --epochs 500 > sg.out 2>&1 & pid=$!
for _ in $(seq 1 60); do [ -e sg/progress.json ] && break; sleep 0.5; done
kill -TERM $pid; wait $pid; rc=$?
cases=$((cases + 1)); printf '%-34s rc=%-3s       %s\n' "SIGTERM mid-run" "$rc" "$(grep -m1 'stopped by' sg.out) $(flock -n sg/.lock true || echo LOCK HELD)"
# Standard output gone (issue 40): a reader that went away, a full disk, a closed descriptor.
# A training run goes on to its end and keeps its artifacts; a command whose output is its result
# ends quietly with 141 on a closed pipe, with an error and 1 on a full disk or a closed stdout.
gone() { # gone NAME ARTIFACTS COMMAND-LINE (pipefail: the status is the command's, not head's)
  probe "$1" timeout 300 bash -c "set -o pipefail; $3"
  [ -z "$2" ] || printf '%-34s %s\n' "" "$([ -f "$2/metrics.json" ] && echo "artifacts kept: $2/metrics.json" || echo "NO ARTIFACTS in $2")"
}
gone "train-classifier | head -c 1"     p1 "$B/train-classifier --no-tui --epochs 1 --artifacts p1 | head -c 1"
gone "train-tagger 2>&1 | head -4"      p2 "$B/train-tagger --no-tui --epochs 1 --artifacts p2 2>&1 | head -4"
gone "train-classifier > /dev/full"     p3 "$B/train-classifier --no-tui --epochs 1 --artifacts p3 > /dev/full"
gone "train-tagger >&-"                 p4 "$B/train-tagger --no-tui --epochs 1 --artifacts p4 >&-"
gone "evaluate --json | head -c 300"    "" "$B/evaluate --artifacts ok --test embedded:sentiment/test --json | head -c 300"
gone "evaluate > /dev/full"             "" "$B/evaluate --artifacts ok --test embedded:sentiment/test > /dev/full"
gone "export > /dev/full"               "" "$B/export --artifacts ok --out x.onnx > /dev/full"
gone "quantize > /dev/full"             "" "$B/quantize --artifacts ok --out q8 > /dev/full"
gone "grad-flow norms | head -c 1"      "" "$B/grad-flow norms --out gf | head -c 1"
gone "dataset-stats > /dev/full"        "" "$B/dataset-stats embedded:ner/test > /dev/full"
gone "dataset-stats >&-"                "" "$B/dataset-stats embedded:ner/test >&-"
gone "predict good >&-"                 "" "$B/predict --artifacts ok good >&-"
# Files that would block (issue 40): a pipe or a device where a model's file belongs.
cp -r ok fifo && rm fifo/model.mpk && mkfifo fifo/model.mpk
probe "model.mpk a named pipe"          timeout 20 "$B/predict" --artifacts fifo good
cp -r ok zero && rm zero/vocab.json && ln -s /dev/zero zero/vocab.json
probe "vocab.json -> /dev/zero"         timeout 20 "$B/predict" --artifacts zero good
cp -r ok nomanifest && rm nomanifest/manifest.json
out="$("$B/predict" --artifacts nomanifest good 2>&1)"; cases=$((cases + 1))
printf '%-34s rc=%-3s       %s\n' "predict, no manifest.json" "$?" "$(grep -m1 warning <<<"$out" | cut -c1-150)"
probe "serve --model ..=ok"             "$B/serve" --model ..=ok
printf 's3cr\xc3\xa9t\n' > token.txt
probe "serve, token with é"             "$B/serve" --artifacts ok --token-file token.txt
"$B/dataset-stats" embedded:ner/test --write in.conll > /dev/null 2>&1; cp in.conll in.kept; ln -sf in.conll in.link
probe "dataset-stats --write onto its input" "$B/dataset-stats" in.conll --write ./in.link
cmp -s in.conll in.kept || echo "  INPUT CHANGED"
printf 'EU B-ORG\n\nGerman B-MISC\ncall\n' > bad.conll; echo earlier > out.conll
probe "dataset-stats --write, bad last line" "$B/dataset-stats" bad.conll --format conll --write out.conll
[ "$(cat out.conll)" = earlier ] || echo "  OUTPUT LOST"
# A training file cut short while it is encoded (issue 40): said as such, not as a format error.
python3 -c "import sys; sys.stdout.write('sentence\tlabel\n' + ''.join(f'a good film number {i} , truly\t{i % 2}\n' for i in range(3_000_000)))" > big.tsv
head -1000 big.tsv > small.tsv
# SIGTERM while dataset-stats --write is writing (issue 40): the earlier file kept, no .partial left.
echo earlier > copy.tsv
"$B/dataset-stats" big.tsv --write copy.tsv > /dev/null 2>&1 & pid=$!
for _ in $(seq 1 200); do [ -s copy.tsv.partial ] && break; sleep 0.05; done
kill -TERM $pid; wait $pid; rc=$?
cases=$((cases + 1)); printf '%-34s rc=%-3s       %s%s\n' "dataset-stats --write, SIGTERM" "$rc" \
  "$([ -e copy.tsv.partial ] && echo 'PARTIAL LEFT' || echo 'no .partial left')" \
  "$([ "$(cat copy.tsv)" = earlier ] && echo ', the earlier file kept' || echo ', OUTPUT LOST')"
"$B/train-classifier" --no-tui --epochs 1 --train big.tsv --valid small.tsv --artifacts cut > cut.out 2>&1 & pid=$!
sleep 2; truncate -s 5000000 big.tsv; wait $pid; rc=$?
cases=$((cases + 1)); printf '%-34s rc=%-3s       %s\n' "train file cut while encoded" "$rc" "$(grep -m1 'error' cut.out | cut -c1-150)"
echo "$cases cases, $panics panics (work folder $W)"
