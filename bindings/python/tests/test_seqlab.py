"""The Python package against the command line: the same answers as `predict --json` for the
same model and texts, errors as Python exceptions that name what was wrong, and threads.

Needs: SEQLAB_BIN (the folder of seqlab's binaries, for `predict`) and SEQLAB_TAGGER (a tagger's
artifacts folder, with a CRF); scripts/python-check.sh sets both.
"""

import json
import math
import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import seqlab

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ["SEQLAB_BIN"])
TAGGER = os.environ["SEQLAB_TAGGER"]
CLASSIFIER = ROOT / "tests" / "fixtures" / "artifacts-v0" / "classifier"

SENTENCES = [
    "Anna Keller works for Acme Corp in Berlin.",
    "Shares of Kestrel Labs rose 45 percent in Berlin trading.",
    "Paris Haddad, a Grand Prix driver, visited Jordan on Monday.",
    "The United Nations met the Red Cross in Geneva.",
    "\u201cNordic Rail\u201d didn't say why Omar Tanaka left Reuters.",
    "Ünïcode café owner Sofia Rossi moved to Oslo 😀.",
]
PARAGRAPH = "Anna Keller works for Acme Corp. She met Omar Haddad in Paris. Reuters reported it."


def predict_json(model, texts, *options):
    """`predict --json` over `texts` (one a line), without the `line` of each answer."""
    run = subprocess.run(
        [BIN / "predict", "--artifacts", str(model), "--json", *options],
        input="\n".join(texts) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    for a in answers:
        a.pop("line")
    return answers


def same(a, b):
    """The same JSON value, floats within 1e-6 (the wheel is a release build, `predict` may not be)."""
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-6)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def test_a_tagger_answers_as_predict_json_does():
    tagger = seqlab.load(TAGGER)
    assert isinstance(tagger, seqlab.Tagger)
    assert "PER" in tagger.entity_types and "O" in tagger.tags and "<pad>" not in tagger.tags
    answers = tagger.predict(SENTENCES)
    assert same(answers, predict_json(TAGGER, SENTENCES))
    found = 0
    for text, answer in zip(SENTENCES, answers):
        for e in answer["entities"]:
            assert text[e["start_char"] : e["end_char"]] == e["text"]
            found += 1
    assert found > 0, answers
    # A paragraph cut into sentences, offsets into the paragraph.
    [answer] = tagger.predict([PARAGRAPH], sentences=True)
    assert same([answer], predict_json(TAGGER, [PARAGRAPH], "--sentences"))
    assert len(answer["sentences"]) == 3
    for e in answer["entities"]:
        assert PARAGRAPH[e["start_char"] : e["end_char"]] == e["text"]


def test_tokens_given_as_lists_are_read_as_they_are():
    tagger = seqlab.load(TAGGER)
    tokens = "EU rejects German call to boycott British lamb .".split()
    [from_list] = tagger.predict([tokens])
    [from_text] = tagger.predict([" ".join(tokens)], tokenizer="whitespace")
    assert from_list["tokens"] == tokens and from_list["tags"] == from_text["tags"]
    assert all("start_char" not in e for e in from_list["entities"])
    [best] = tagger.predict([tokens], nbest=3)
    assert len(best["alternatives"]) == 3 and best["alternatives"][0]["tags"] == best["tags"]


def test_a_classifier_answers_as_predict_json_does():
    classifier = seqlab.load(CLASSIFIER)
    assert isinstance(classifier, seqlab.Classifier)
    texts = ["a gripping , beautifully acted film .", "the worst plot", "Dull. Really dull!"]
    answers = classifier.predict(texts)
    assert same(answers, predict_json(CLASSIFIER, texts))
    proba = classifier.predict_proba(texts)
    assert proba.shape == (3, len(classifier.labels)) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert [classifier.labels[i] for i in proba.argmax(axis=1)] == [a["label"] for a in answers]
    assert classifier.config["training"]["epochs"] >= 1


def test_bad_input_raises_an_exception_that_names_it():
    with pytest.raises(seqlab.ArtifactsError, match="no-such-folder"):
        seqlab.load("no-such-folder")
    classifier = seqlab.load(CLASSIFIER)
    with pytest.raises(ValueError, match=r"texts\[1\]: no tokens"):
        classifier.predict(["fine", "   "])
    with pytest.raises(ValueError, match="tokenizer: \"spacy\" is none of"):
        classifier.predict(["fine"], tokenizer="spacy")
    with pytest.raises(TypeError):
        classifier.predict("one string, not a list")
    tagger = seqlab.load(TAGGER)
    with pytest.raises(ValueError, match="nbest"):
        tagger.predict([PARAGRAPH], sentences=True, nbest=2)


def test_threads_predicting_at_once_get_the_answers_they_would_alone():
    tagger = seqlab.load(TAGGER)
    alone = tagger.predict(SENTENCES * 20)
    results = [None] * 4

    def work(i):
        results[i] = tagger.predict(SENTENCES * 20)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == alone for r in results)


def test_training_from_python_is_the_command_lines_run(tmp_path):
    options = dict(epochs=1, hidden=16, char_filters=8, seed=5)
    metrics = seqlab.train_tagger(artifacts=tmp_path / "py", **options)
    argv = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    subprocess.run(
        [BIN / "train-tagger", "--artifacts", str(tmp_path / "cli"), "--no-tui", *argv],
        capture_output=True,
        check=True,
    )
    cli = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert same(metrics["valid"], cli["valid"]) and same(metrics["test"], cli["test"])
    assert json.loads((tmp_path / "py" / "run.json").read_text())["encoder"]["hidden"] == 16
    tagger = seqlab.load(tmp_path / "py")
    assert tagger.config["training"]["seed"] == 5


def test_training_options_are_checked_as_the_command_line_checks_them(tmp_path):
    with pytest.raises(ValueError, match="--dropout"):
        seqlab.train_tagger(dropout=1.5, artifacts=tmp_path / "a")
    with pytest.raises(ValueError, match='unknown option "hiden"'):
        seqlab.train_classifier(hiden=3, artifacts=tmp_path / "b")
    with pytest.raises(ValueError, match="needs validation data"):
        seqlab.train_tagger(train=str(tmp_path / "mine.conll"), artifacts=tmp_path / "c")
