#!/usr/bin/env bash
# Memory and time of the default tagger (BiLSTM-CNN-CRF) on very long sentences, with the release
# binaries: training on 300 sentences one of which has 50,000 tokens, `evaluate` of that file,
# `predict` of one 50,000-token sentence, and training on a JSON Lines record of 2,000,000 tokens.
# Each row: peak RSS and wall time from /usr/bin/time -v, and the exit code.
# Usage: scripts/long-sentence-memory.sh [BIN_DIR]   (default: $CARGO_TARGET_DIR/release or target/release)
set -u
B="$(cd "${1:-${CARGO_TARGET_DIR:-target}/release}" && pwd)"
W="$(mktemp -d)"; cd "$W" || exit 1
python3 - <<'EOF'
import json, random
rng = random.Random(7)
words = ["the", "EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "Peter",
         "Blackburn", "said", "on", "Thursday", "in", "Brussels", "a", "of", "and", "market"]
tags = {"EU": "B-ORG", "German": "B-MISC", "British": "B-MISC", "Peter": "B-PER",
        "Blackburn": "I-PER", "Brussels": "B-LOC"}
def sentence(n):
    out = []
    for i in range(n):
        w = rng.choice(words)
        t = tags.get(w, "O")
        if t == "I-PER" and (not out or out[-1][1] not in ("B-PER", "I-PER")):
            t = "B-PER"
        out.append((w, t))
    return out
def conll(sentences):
    return "".join("".join(f"{w} {t}\n" for w, t in s) + "\n" for s in sentences)
short = [sentence(rng.randint(5, 30)) for _ in range(299)]
long = sentence(50_000)
open("long-train.conll", "w").write(conll(short[:150] + [long] + short[150:]))
open("valid.conll", "w").write(conll(short[:100]))
open("long.txt", "w").write(" ".join(w for w, _ in long) + "\n")
huge = sentence(2_000_000)
with open("huge.jsonl", "w") as f:
    for s in short[:50]:
        f.write(json.dumps({"tokens": [w for w, _ in s], "ner_tags": [t for _, t in s]}) + "\n")
    f.write(json.dumps({"tokens": [w for w, _ in huge], "ner_tags": [t for _, t in huge]}) + "\n")
EOF
row() { # row NAME COMMAND...
  local name="$1"; shift
  /usr/bin/time -v "$@" > out.txt 2> time.txt; rc=$?
  rss=$(awk -F: '/Maximum resident/ {printf "%.0f MB", $2/1024}' time.txt)
  wall=$(awk '/Elapsed \(wall/ {print $NF}' time.txt)
  err=$(grep -m1 -iE '^error|error:' time.txt out.txt | cut -c1-160)
  printf '| %-44s | %5s | %9s | %8s | %s\n' "$name" "$rc" "$rss" "$wall" "$err"
}
echo "| case | exit | peak RSS | wall | error |"
row "train-tagger, 300 sentences, one of 50k tokens" "$B/train-tagger" --no-tui --epochs 1 \
  --train long-train.conll --valid valid.conll --artifacts long-art
row "evaluate that file" "$B/evaluate" --artifacts long-art --test long-train.conll
row "predict one 50k-token sentence (CRF)" "$B/predict" --artifacts long-art --json --input long.txt
row "train-tagger, one JSON Lines record of 2M tokens" "$B/train-tagger" --no-tui --epochs 1 \
  --train huge.jsonl --valid valid.conll --artifacts huge-art
echo "(work folder $W)"
