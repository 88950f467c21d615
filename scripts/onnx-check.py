#!/usr/bin/env python3
"""Checks a model written by `export --format onnx` against seqlab's own answers.

Usage: scripts/onnx-check.py ARTIFACTS MODEL.onnx INPUT [--bin DIR] [--rounds N]

  ARTIFACTS  the folder the model was exported from
  INPUT      a tagger: a CoNLL file (its first column is read); a classifier: one text per line

1. `onnx.checker.check_model(full_check=True)`.
2. `predict --json` over INPUT gives each text's tokens and seqlab's answer; the tokens are turned
   into the graph's inputs with the folder's vocab.json and chars.json (`tagger_inputs` and
   `classifier_inputs` below are docs/onnx.md's example) and run through onnxruntime.
3. A tagger's tags (the file's ids, named by its `labels` metadata in the training scheme and
   written in the files' scheme as `predict` writes them) must equal seqlab's on every sentence; a
   classifier's label must be seqlab's and every probability within 1e-5 of it.
4. With --rounds N, times onnxruntime (encoding included) and the `predict --json` process over
   INPUT, rounds alternating, and prints the texts per second of each.

Exits 1 when a check fails. Needs onnx, onnxruntime and numpy (PyPI).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

MAX_WORD_CHARS = 24


def casing(token):
    """The casing class id of a token (seqlab's `Casing::of`)."""
    letters = [c for c in token if c.isalpha()]
    has_digit = any(c.isnumeric() for c in token)
    if not letters:
        if has_digit and all(c.isnumeric() or c in ".,-/:" for c in token):
            return 5  # numeric
        return 6 if token and not has_digit else 7  # punctuation, other
    if has_digit:
        return 7
    upper = sum(c.isupper() for c in letters)
    if upper == 0:
        return 1  # lower
    if upper == len(letters):
        return 3  # all caps
    return 2 if upper == 1 and letters[0].isupper() else 4  # initial capital, mixed


def load_vocab(path):
    """A vocab.json or chars.json as (token → id, lower-case first?)."""
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    return {t: i for i, t in enumerate(v["tokens"])}, v.get("lowercase", False)


def tagger_inputs(sentences, folder, session):
    """The graph's inputs for token lists: words, casing and chars when the graph has them, lengths."""
    words, lower = load_vocab(os.path.join(folder, "vocab.json"))
    names = {i.name for i in session.get_inputs()}
    batch, seq = len(sentences), max(len(s) for s in sentences)
    feeds = {"words": np.zeros((batch, seq), np.int64), "lengths": np.array([len(s) for s in sentences], np.int64)}
    if "casing" in names:
        feeds["casing"] = np.zeros((batch, seq), np.int64)
    if "chars" in names:
        chars, _ = load_vocab(os.path.join(folder, "chars.json"))
        width = max(min(len(t), MAX_WORD_CHARS) for s in sentences for t in s)
        feeds["chars"] = np.zeros((batch, seq, width), np.int64)
    for b, sentence in enumerate(sentences):
        for t, token in enumerate(sentence):
            feeds["words"][b, t] = words.get(token.lower() if lower else token, 1)
            if "casing" in feeds:
                feeds["casing"][b, t] = casing(token)
            if "chars" in feeds:
                for c, ch in enumerate(token[:MAX_WORD_CHARS]):
                    feeds["chars"][b, t, c] = chars.get(ch, 1)
    return feeds


def classifier_inputs(texts, folder):
    """The graph's inputs for token lists: words and lengths."""
    words, lower = load_vocab(os.path.join(folder, "vocab.json"))
    batch, seq = len(texts), max(len(t) for t in texts)
    ids = np.zeros((batch, seq), np.int64)
    for b, tokens in enumerate(texts):
        ids[b, : len(tokens)] = [words.get(t.lower() if lower else t, 1) for t in tokens]
    return {"words": ids, "lengths": np.array([len(t) for t in texts], np.int64)}


def split_tag(tag):
    """(prefix, type) of a tag; `O` and malformed tags read as ("O", "")."""
    head, _, kind = tag.replace("_", "-", 1).partition("-")
    prefix = {"B": "B", "I": "I", "E": "E", "L": "E", "S": "S", "U": "S"}.get(head)
    return (prefix, kind) if tag != "O" and prefix and kind else ("O", "")


def spans(tags):
    """Entities as conlleval reads them, in any scheme (seqlab's `spans`): (start, end, type)."""
    out, open_, prev, prev_kind = [], None, "O", ""
    for i, (prefix, kind) in enumerate(map(split_tag, tags)):
        if open_ and (prev in "ES" or (prev in "BI" and prefix in "BSO") or (prev != "O" and prev_kind != kind)):
            out.append((open_[0], i, open_[1]))
            open_ = None
        if prefix in "BS" or (prev in "ESO" and prefix in "EI") or (prefix != "O" and prev_kind != kind):
            open_ = (i, kind)
        prev, prev_kind = prefix, kind
    return out + ([(open_[0], len(tags), open_[1])] if open_ else [])


def in_file_scheme(tags, train_scheme, file_scheme):
    """Training-scheme tags written in the files' scheme as `predict` writes them (seqlab's
    `convert`: through the spans)."""
    if train_scheme == file_scheme:
        return tags
    out, previous = ["O"] * len(tags), None
    for start, end, kind in spans(tags):
        follows = previous is not None and previous[1] == start and previous[2] == kind
        for i in range(start, end):
            first, single, last = i == start, end - start == 1, i + 1 == end
            if file_scheme == "iob1":
                prefix = "B" if first and follows else "I"
            elif file_scheme == "iob2":
                prefix = "B" if first else "I"
            else:
                prefix = "S" if single else "B" if first else "E" if last else "I"
            out[i] = f"{prefix}-{kind}"
        previous = (start, end, kind)
    return out


def run_onnx(session, folder, tagger, token_lists, batch_size=256):
    """Each text's output rows, batches formed as seqlab forms them (sorted by length)."""
    order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
    answers = [None] * len(token_lists)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        texts = [token_lists[i] for i in index]
        feeds = tagger_inputs(texts, folder, session) if tagger else classifier_inputs(texts, folder)
        first, second = session.run(None, feeds)
        for row, i in enumerate(index):
            answers[i] = (first[row], second[row])
    return answers


def predict_json(args, conll):
    command = [os.path.join(args.bin, "predict"), "--artifacts", args.artifacts, "--json", "--input", args.input]
    if conll:
        command += ["--format", "conll"]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifacts")
    parser.add_argument("model")
    parser.add_argument("input")
    parser.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release"))
    parser.add_argument("--rounds", type=int, default=0)
    args = parser.parse_args()

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    tagger = meta["model"] == "token-classifier"
    labels = json.loads(meta["labels"])
    opset = [o.version for o in model.opset_import if o.domain == ""][0]
    print(f"onnx.checker: ok ({meta['model']}, opset {opset}, {os.path.getsize(args.model):,} bytes)")

    expected = predict_json(args, tagger)
    token_lists = [a["tokens"] for a in expected]
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    answers = run_onnx(session, args.artifacts, tagger, token_lists)
    failures = 0
    if tagger:
        with open(os.path.join(args.artifacts, "run.json"), encoding="utf-8") as f:
            run = json.load(f)
        for i, (want, (tags, _)) in enumerate(zip(expected, answers)):
            got = in_file_scheme([labels[t] for t in tags[: len(want["tokens"])]], run["train_scheme"], run["file_scheme"])
            if got != want["tags"]:
                failures += 1
                if failures <= 5:
                    print(f"text {i + 1}: onnx {got} but seqlab {want['tags']}")
        tokens = sum(len(t) for t in token_lists)
        print(f"tags: {len(expected) - failures} of {len(expected)} sentences ({tokens:,} tokens) equal to seqlab's")
    else:
        worst = 0.0
        for i, (want, (label, probabilities)) in enumerate(zip(expected, answers)):
            seqlab_p = np.array([dict(want["probabilities"])[name] for name in labels])
            worst = max(worst, float(np.abs(probabilities - seqlab_p).max()))
            if labels[label] != want["label"]:
                failures += 1
                if failures <= 5:
                    print(f"text {i + 1}: onnx {labels[label]} but seqlab {want['label']}")
        print(f"labels: {len(expected) - failures} of {len(expected)} equal to seqlab's; "
              f"largest probability difference {worst:.2e}")
        failures += worst > 1e-5

    if args.rounds:
        times = {"onnxruntime": [], "seqlab predict": []}
        for _ in range(args.rounds):
            t = time.perf_counter()
            run_onnx(session, args.artifacts, tagger, token_lists)
            times["onnxruntime"].append(time.perf_counter() - t)
            t = time.perf_counter()
            predict_json(args, tagger)
            times["seqlab predict"].append(time.perf_counter() - t)
        print(f"\n{len(token_lists)} texts, {args.rounds} rounds alternating (median, min–max):")
        print("| runner | seconds | texts/s |\n| --- | --- | --- |")
        for name, ts in times.items():
            print(f"| {name} | {statistics.median(ts):.3f} ({min(ts):.3f}–{max(ts):.3f}) | "
                  f"{len(token_lists) / statistics.median(ts):,.0f} |")
        ratios = [o / s for o, s in zip(times["onnxruntime"], times["seqlab predict"])]
        print(f"onnxruntime time ÷ seqlab time: {statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
