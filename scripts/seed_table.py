#!/usr/bin/env python3
"""Mean ± sample standard deviation over seeds of the rows scripts/seeds.sh appends to runs.tsv.

usage: scripts/seed_table.py RUNS.tsv [NAME ...]   (default: every recipe, in first-seen order)

Prints a Markdown table: recipe, seeds, dev mean ± sd, test mean ± sd, kept epochs, mean time.
"""
import statistics
import sys


def mean_sd(values):
    m = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{m:.4f} ± {sd:.4f}" if len(values) > 1 else f"{m:.4f}"


rows = {}
for line in open(sys.argv[1], encoding="utf-8"):
    name, seed, dev, test, epoch, secs, *options = line.rstrip("\n").split("\t")
    rows.setdefault(name, []).append((seed, float(dev), float(test), epoch, int(secs), " ".join(options)))
names = sys.argv[2:] or list(rows)
print("| recipe | options | seeds | dev | test | kept epochs | time a run |")
print("| --- | --- | --- | ---: | ---: | --- | ---: |")
for name in names:
    runs = rows[name]
    seeds = ", ".join(r[0] for r in runs)
    dev = mean_sd([r[1] for r in runs])
    test = mean_sd([r[2] for r in runs])
    epochs = ", ".join(r[3] for r in runs)
    secs = round(statistics.mean(r[4] for r in runs))
    options = f"`{runs[0][5]}`" if runs[0][5] else "(the default)"
    print(f"| {name} | {options} | {seeds} | {dev} | {test} | {epochs} | {secs} s |")
