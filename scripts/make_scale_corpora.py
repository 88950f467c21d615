#!/usr/bin/env python3
"""Writes the corpora of the memory measurements (BENCHMARKS.md, "Corpora larger than memory")
into OUT (a temporary folder; never commit them), from the shared SST-2 and CoNLL-2003 files:

- sst2x30.tsv: SST-2's train.tsv repeated 30 times (114 MB, 2,020,470 examples);
- sentiment-2g.tsv: SST-2's training rows shuffled anew on every repetition, to 2 GB;
- conll-1g.txt: CoNLL-2003's training sentences shuffled anew on every repetition, to 1 GB.

Usage: scripts/make_scale_corpora.py OUT [SEQLAB_DATA]   (SEQLAB_DATA defaults to $SEQLAB_DATA)
"""
import os
import random
import sys


def repeat_shuffled(rows, header, out, size, sep):
    rng = random.Random(1)
    written = 0
    with open(out, "w", encoding="utf-8") as f:
        if header is not None:
            f.write(header + "\n")
        while written < size:
            rng.shuffle(rows)
            block = sep.join(rows) + sep
            f.write(block)
            written += len(block.encode("utf-8"))


def main():
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else os.environ["SEQLAB_DATA"]
    os.makedirs(out, exist_ok=True)
    lines = open(os.path.join(data, "sst2/train.tsv"), encoding="utf-8").read().splitlines()
    header, rows = lines[0], lines[1:]
    with open(os.path.join(out, "sst2x30.tsv"), "w", encoding="utf-8") as f:
        f.write(header + "\n" + ("\n".join(rows) + "\n") * 30)
    repeat_shuffled(list(rows), header, os.path.join(out, "sentiment-2g.tsv"), 2 * 10**9, "\n")
    text = open(os.path.join(data, "conll2003/train.txt"), encoding="utf-8").read()
    sentences = [s.strip("\n") for s in text.split("\n\n") if s.strip() and not s.startswith("-DOCSTART-")]
    repeat_shuffled(sentences, None, os.path.join(out, "conll-1g.txt"), 10**9, "\n\n")
    for name in ("sst2x30.tsv", "sentiment-2g.tsv", "conll-1g.txt"):
        path = os.path.join(out, name)
        print(f"{path}: {os.path.getsize(path) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
