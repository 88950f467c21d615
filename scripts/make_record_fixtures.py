#!/usr/bin/env python3
"""Writes tests/fixtures/records/: one small NER corpus three ways (two-column CoNLL, Parquet with
a `tokens` list and an integer `ner_tags` list as the Hugging Face hub serves them, JSON Lines
with tag names), its tag names file, a sentiment corpus as GLUE TSV and as Parquet, and Parquet
files that are wrong in one way each (a sentiment file with a blank text among them). pyarrow writes the Parquet files (Snappy, two row groups
each, so that reading row group by row group is exercised).

Usage: python3 scripts/make_record_fixtures.py   (pip install pyarrow)
"""
import json
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "records")
NAMES = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
PEOPLE = [["Anna", "Keller"], ["Peter"], ["Jordan"], ["Maria", "de", "Souza"]]
ORGS = [["Acme", "Corp"], ["EU"], ["Ford"], ["United", "Nations"]]
PLACES = [["Berlin"], ["Paris"], ["New", "York"], ["Jordan"]]
MISC = [["German"], ["Olympic"], ["French"]]


def entity(words, kind):
    return [(w, ("B-" if i == 0 else "I-") + kind) for i, w in enumerate(words)]


def sentence(rng):
    parts = [
        entity(rng.choice(PEOPLE), "PER") + [("works", "O"), ("for", "O")] + entity(rng.choice(ORGS), "ORG"),
        [("the", "O")] + entity(rng.choice(MISC), "MISC") + [("team", "O"), ("left", "O")] + entity(rng.choice(PLACES), "LOC"),
        entity(rng.choice(ORGS), "ORG") + [("opened", "O"), ("an", "O"), ("office", "O"), ("in", "O")] + entity(rng.choice(PLACES), "LOC"),
        [("talks", "O"), ("with", "O")] + entity(rng.choice(PEOPLE), "PER") + [(".", "O")],
    ]
    return rng.choice(parts) + [(".", "O")]


def write_parquet(table, name, rows_per_group):
    pq.write_table(table, os.path.join(OUT, name), row_group_size=rows_per_group, compression="snappy")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(7)
    sentences = [sentence(rng) for _ in range(60)]
    tokens = [[w for w, _ in s] for s in sentences]
    tags = [[t for _, t in s] for s in sentences]
    with open(os.path.join(OUT, "ner.conll"), "w") as f:
        f.write("".join("".join(f"{w} {t}\n" for w, t in s) + "\n" for s in sentences))
    with open(os.path.join(OUT, "ner.jsonl"), "w") as f:
        f.write("".join(json.dumps({"tokens": w, "ner_tags": t}) + "\n" for w, t in zip(tokens, tags)))
    with open(os.path.join(OUT, "ner-names.txt"), "w") as f:
        f.write("\n".join(NAMES) + "\n")
    ids = [[NAMES.index(t) for t in s] for s in tags]
    ner = pa.table({
        "id": [str(i) for i in range(len(tokens))],
        "tokens": pa.array(tokens, pa.list_(pa.string())),
        "ner_tags": pa.array(ids, pa.list_(pa.int64())),
    })
    write_parquet(ner, "ner.parquet", 25)
    write_parquet(ner.drop(["ner_tags"]), "ner-no-tags.parquet", 25)
    bad_ids = [list(s) for s in ids]
    bad_ids[40][1] = None
    write_parquet(ner.set_column(2, "ner_tags", pa.array(bad_ids, pa.list_(pa.int64()))), "ner-null-tag.parquet", 25)
    numbers = [[len(w) for w in s] for s in tokens]
    write_parquet(ner.set_column(1, "tokens", pa.array(numbers, pa.list_(pa.int64()))), "ner-int-tokens.parquet", 25)

    texts = [" ".join(w).lower() for w in tokens]
    labels = [int("works" in w or "opened" in w) for w in tokens]
    with open(os.path.join(OUT, "sentiment.tsv"), "w") as f:
        f.write("sentence\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in zip(texts, labels)))
    write_parquet(pa.table({"idx": list(range(len(texts))), "sentence": texts, "label": labels}), "sentiment.parquet", 25)
    blank = list(texts)
    blank[30] = "   "
    write_parquet(pa.table({"sentence": blank, "label": labels}), "sentiment-blank.parquet", 25)


if __name__ == "__main__":
    main()
