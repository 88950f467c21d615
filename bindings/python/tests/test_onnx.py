"""`export --format onnx` checked by onnx's checker and onnxruntime: on the export fixtures the
graph's scores equal PyTorch's (tests/fixtures/export/make_fixture.py) within 1e-5 and its CRF
tags equal a textbook Viterbi over them; on the embedded test corpora its answers equal
`predict --json`'s (scripts/onnx-check.py), for the default models and for other encoders.

Needs: SEQLAB_BIN (seqlab's binaries), SEQLAB_TAGGER and SEQLAB_CLASSIFIER (models trained on the
embedded corpora); scripts/python-check.sh sets them. onnx and onnxruntime come from PyPI.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ["SEQLAB_BIN"])
FIXTURES = ROOT / "tests" / "fixtures" / "export"
CHECK = ROOT / "scripts" / "onnx-check.py"


def export(artifacts, out):
    subprocess.run([BIN / "export", "--artifacts", str(artifacts), "--out", str(out)], check=True, capture_output=True)
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    return ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def viterbi(emissions, transitions, start, end):
    """The best path of one sentence, by the book (ties to the lower tag)."""
    delta = start + emissions[0]
    back = []
    for e in emissions[1:]:
        scores = delta[:, None] + transitions
        back.append(scores.argmax(axis=0))
        delta = scores.max(axis=0) + e
    path = [int((delta + end).argmax())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    return path[::-1]


@pytest.mark.parametrize("name", ["classifier", "tagger", "tagger-lstm"])
def test_the_graph_computes_what_pytorch_computes(name, tmp_path):
    session = export(FIXTURES / name, tmp_path / f"{name}.onnx")
    inputs = json.loads((FIXTURES / f"inputs-{name}.json").read_text())
    expected = np.array(json.loads((FIXTURES / f"pytorch-{name}.json").read_text())["outputs"], dtype=np.float64)
    lengths = np.array(inputs["lengths"], np.int64)
    feeds = {"words": np.array(inputs["tokens"], np.int64), "lengths": lengths}
    if "features" in inputs:
        feeds["casing"] = np.array(inputs["features"][0], np.int64)
        feeds["chars"] = np.array(inputs["chars"], np.int64)
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    if name == "classifier":
        np.testing.assert_allclose(outputs["probabilities"], softmax(expected), atol=1e-5, rtol=0)
        assert (outputs["label"] == expected.argmax(axis=1)).all()
        return
    tags = outputs["tags"]
    for row, n in enumerate(lengths):
        assert (tags[row, n:] == -1).all(), "-1 past each length"
        if "emissions" in outputs:
            np.testing.assert_allclose(outputs["emissions"][row, :n], expected[row, :n], atol=1e-5, rtol=0)
        else:
            np.testing.assert_allclose(outputs["probabilities"][row, :n], softmax(expected[row, :n]), atol=1e-5, rtol=0)
            best = outputs["probabilities"][row, :n, 1:].argmax(axis=-1) + 1
            assert tags[row, :n].tolist() == best.tolist(), "the best tag but padding"
    if "emissions" in outputs:
        weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(tmp_path / f"{name}.onnx")).graph.initializer}
        crf = {part: next(v for k, v in weights.items() if k.endswith(f"crf_{part}")) for part in ("transitions", "start", "end")}
        for row, n in enumerate(lengths):
            path = viterbi(
                outputs["emissions"][row, :n].astype(np.float64), crf["transitions"], crf["start"][0], crf["end"][0]
            )
            assert tags[row, :n].tolist() == path


def written_corpus(name, path):
    """An embedded corpus as a file: CoNLL for ner/test, one text a line for sentiment/test."""
    subprocess.run([BIN / "dataset-stats", f"embedded:{name}", "--write", str(path)], check=True, capture_output=True)
    if name.startswith("sentiment"):
        rows = path.read_text().splitlines()[1:]  # GLUE TSV: sentence, label
        path.write_text("".join(r.split("\t")[0] + "\n" for r in rows))
    return path


def check(artifacts, corpus, tmp_path):
    """scripts/onnx-check.py on a model exported from `artifacts`: its output, or the failure."""
    out = tmp_path / "model.onnx"
    subprocess.run([BIN / "export", "--artifacts", str(artifacts), "--out", str(out)], check=True, capture_output=True)
    run = subprocess.run(
        [sys.executable, CHECK, str(artifacts), str(out), str(corpus), "--bin", str(BIN)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_default_taggers_tags_are_predicts_on_every_sentence(tmp_path):
    out = check(os.environ["SEQLAB_TAGGER"], written_corpus("ner/test", tmp_path / "test.conll"), tmp_path)
    assert "tags: 500 of 500 sentences" in out, out


def test_the_default_classifiers_answers_are_predicts(tmp_path):
    out = check(os.environ["SEQLAB_CLASSIFIER"], written_corpus("sentiment/test", tmp_path / "test.txt"), tmp_path)
    assert "labels: 1000 of 1000 equal" in out, out


VARIANTS = {
    "tagger: rnn-relu, one direction, char BiLSTM, softmax": (
        "train-tagger",
        "ner/test",
        ["--encoder", "rnn-relu", "--bidirectional", "false", "--char-encoder", "lstm", "--output", "softmax"],
    ),
    "tagger: two GRU layers, no characters, no casing, CRF": (
        "train-tagger",
        "ner/test",
        ["--encoder", "gru", "--layers", "2", "--char-encoder", "none", "--casing-dim", "0"],
    ),
    "classifier: two LSTM layers, max pooling, a hidden layer": (
        "train-classifier",
        "sentiment/test",
        ["--encoder", "lstm", "--layers", "2", "--pooling", "max", "--ffn-hidden", "8"],
    ),
    "classifier: bag of embeddings, mean pooling": (
        "train-classifier",
        "sentiment/test",
        ["--encoder", "ffn", "--pooling", "mean"],
    ),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_other_encoders_and_heads_give_predicts_answers(variant, tmp_path):
    command, corpus, options = VARIANTS[variant]
    artifacts = tmp_path / "run"
    subprocess.run(
        [BIN / command, "--epochs", "1", "--hidden", "8", "--artifacts", str(artifacts), "--no-tui", *options],
        check=True,
        capture_output=True,
    )
    out = check(artifacts, written_corpus(corpus, tmp_path / "corpus"), tmp_path)
    assert " equal" in out, out


def test_the_docs_python_example_gives_predicts_tags(tmp_path, capsys):
    """docs/onnx.md's example, run on the embedded tagger, prints `predict`'s tags (in the
    training scheme)."""
    tagger = os.environ["SEQLAB_TAGGER"]
    model = tmp_path / "tagger.onnx"
    subprocess.run([BIN / "export", "--artifacts", tagger, "--out", str(model)], check=True, capture_output=True)
    example = (ROOT / "docs" / "onnx.md").read_text().split("```python\n")[1].split("```")[0]
    example = example.replace('"runs/conll2003"', repr(tagger)).replace('"tagger.onnx"', repr(str(model)))
    exec(compile(example, "docs/onnx.md", "exec"), {})
    printed = eval(capsys.readouterr().out)
    spec = importlib.util.spec_from_file_location("onnx_check", CHECK)
    onnx_check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(onnx_check)
    run = json.loads((Path(tagger) / "run.json").read_text())
    sentences = ["EU rejects German call", "Peter Blackburn"]
    predicted = subprocess.run(
        [BIN / "predict", "--artifacts", tagger, "--json", "--tokenizer", "whitespace", *sentences],
        check=True,
        capture_output=True,
        text=True,
    )
    want = [json.loads(line)["tags"] for line in predicted.stdout.splitlines()]
    assert [onnx_check.in_file_scheme(t, run["train_scheme"], run["file_scheme"]) for t in printed] == want
