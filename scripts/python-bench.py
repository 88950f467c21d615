#!/usr/bin/env python3
"""Python `predict` against the command line's `predict --json` on the same model and texts, in
alternating rounds: seconds per round and the throughput ratio (CLI time ÷ Python time) with its
spread; then whether the answers agree (tags exactly, numbers to 1e-6).

Usage (with the wheel installed, `scripts/python-check.sh` shows how):
  python scripts/python-bench.py ARTIFACTS LINES_FILE [PREDICT_BINARY] [ROUNDS]
e.g. runs/conll2003, and the CoNLL-2003 test sentences one a line.
"""
import json
import statistics
import subprocess
import sys
import time

import seqlab

artifacts, lines_file = sys.argv[1], sys.argv[2]
binary = sys.argv[3] if len(sys.argv) > 3 else "target/release/predict"
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
lines = open(lines_file, encoding="utf-8").read().splitlines()
model = seqlab.load(artifacts)
model.predict(lines[:50])
command = [binary, "--artifacts", artifacts, "--json", "--input", lines_file]
python, cli = [], []
for _ in range(rounds):
    start = time.perf_counter()
    answers = model.predict(lines)
    python.append(time.perf_counter() - start)
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cli.append(time.perf_counter() - start)
ratios = sorted(c / p for c, p in zip(cli, python))
print(f"{len(lines)} texts, {rounds} rounds alternating")
print("| | median s | fastest–slowest |")
print("| --- | ---: | --- |")
print(f"| Python predict | {statistics.median(python):.3f} | {min(python):.3f}–{max(python):.3f} |")
print(f"| predict --json (a whole process) | {statistics.median(cli):.3f} | {min(cli):.3f}–{max(cli):.3f} |")
print(f"throughput, Python ÷ CLI: {statistics.median(ratios):.2f}× [{ratios[0]:.2f}–{ratios[-1]:.2f}]")
theirs = [json.loads(line) for line in out.splitlines()]
for t in theirs:
    t.pop("line")
tags = sum(a.get("tags", a.get("label")) == t.get("tags", t.get("label")) for a, t in zip(answers, theirs))
print(f"same tags or label: {tags} of {len(theirs)}; identical answers: {sum(a == t for a, t in zip(answers, theirs))}")
