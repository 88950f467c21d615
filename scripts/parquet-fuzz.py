#!/usr/bin/env python3
"""Seeded byte edits of the Parquet fixtures read by `dataset-stats`: every damaged file must
end in an error naming it, never a panic (issue 40's row).

Usage: scripts/parquet-fuzz.py DATASET_STATS [EDITS]   (default 300 edits of each file)

Each edit changes 1 to 4 random bytes of tests/fixtures/records/{sentiment,ner}.parquet (seeded,
so a run is repeatable). Prints how many files were read, refused with an error, or panicked
(exit 101 or "panicked" on standard error), and the first panics; exits 1 when any panicked.
"""
import os
import random
import subprocess
import sys
import tempfile

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "records")


def main():
    binary, edits = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300
    counts, panics = {"read": 0, "refused": 0, "panicked": 0}, []
    with tempfile.TemporaryDirectory() as work:
        for name in ["sentiment.parquet", "ner.parquet"]:
            data = open(os.path.join(FIXTURES, name), "rb").read()
            for seed in range(edits):
                rng = random.Random(seed)
                damaged = bytearray(data)
                for _ in range(rng.randint(1, 4)):
                    damaged[rng.randrange(len(damaged))] = rng.randrange(256)
                path = os.path.join(work, f"{seed}-{name}")
                with open(path, "wb") as f:
                    f.write(damaged)
                command = [binary, path]
                if name.startswith("ner"):
                    command += ["--tag-names", os.path.join(FIXTURES, "ner-names.txt")]
                run = subprocess.run(command, capture_output=True, text=True, timeout=60)
                if run.returncode == 101 or "panicked" in run.stderr:
                    counts["panicked"] += 1
                    panics.append(f"{name} seed {seed}: {run.stderr.strip().splitlines()[0][:160]}")
                elif run.returncode == 0:
                    counts["read"] += 1
                else:
                    counts["refused"] += 1
    print(", ".join(f"{n} {k}" for k, n in counts.items()), f"of {2 * edits} damaged files")
    for line in panics[:10]:
        print("  " + line)
    sys.exit(1 if panics else 0)


if __name__ == "__main__":
    main()
