"""seqlab from Python: load a model trained by seqlab (`train-tagger`, `train-classifier`) from
its artifacts folder and ask it about texts.

    >>> import seqlab
    >>> tagger = seqlab.load("runs/conll2003")
    >>> tagger.predict(["Microsoft moved to Redmond, Washington."])[0]["entities"][0]
    {'start': 0, 'end': 1, 'label': 'ORG', 'text': 'Microsoft', 'start_char': 0, 'end_char': 9, ...}

Every answer is the object `predict --json` writes for the same text (less its `line`): a
tagger's `tokens`, `tags`, `entities` (token indices `start`/`end`, character offsets
`start_char`/`end_char` into the text, so `text[e["start_char"]:e["end_char"]]` is the entity,
`label`, `confidence`) and `unknown` (the share of tokens the model never saw); a classifier's
`label`, `probabilities` and `unknown`.

`train_tagger(...)` and `train_classifier(...)` train as the command line does, its long options
as keywords (`train_tagger(train="train.conll", valid_fraction=0.1, epochs=5,
artifacts="runs/mine")`), and return the run's `metrics.json`.
"""

import json as _json
import os
from typing import List, Optional, Sequence, Union

from ._seqlab import ArtifactsError, Model as _Model
from ._seqlab import load as _load
from ._seqlab import train as _train

__all__ = ["load", "train_tagger", "train_classifier", "Tagger", "Classifier", "ArtifactsError"]

Texts = Union[Sequence[str], Sequence[Sequence[str]]]


def _texts(texts: Texts) -> Union[List[str], List[List[str]]]:
    if isinstance(texts, str):
        raise TypeError("texts: give a list of texts, not one string")
    texts = list(texts)
    if texts and not isinstance(texts[0], str):
        return [list(t) for t in texts]
    return texts


class _Loaded:
    """What a tagger and a classifier share."""

    def __init__(self, model: _Model):
        self._model = model

    @property
    def path(self) -> str:
        """The artifacts folder the model was loaded from."""
        return self._model.path

    @property
    def config(self) -> dict:
        """The training run's options (the folder's `run.json`)."""
        return _json.loads(self._model.config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"


class Tagger(_Loaded):
    """A trained token classifier (NER): BiLSTM-CNN-CRF and its relatives."""

    @property
    def tags(self) -> List[str]:
        """The tags the model predicts, in the training scheme, in id order."""
        return self._model.labels

    @property
    def entity_types(self) -> List[str]:
        """The entity types (`LOC`, `ORG`, …), sorted."""
        return sorted({t.split("-", 1)[1] for t in self.tags if "-" in t})

    def predict(
        self,
        texts: Texts,
        *,
        nbest: int = 0,
        sentences: bool = False,
        tokenizer: Optional[str] = None,
    ) -> List[dict]:
        """Tags and entities for each text: raw strings, read with the model's tokenizer (or
        `tokenizer`: "words", "ptb", "basic", "whitespace") and, with `sentences=True`, cut
        into sentences first; or lists of tokens, read as they are (no character offsets then).
        `nbest` adds a CRF tagger's n best taggings of a sentence."""
        answers = self._model.predict_json(_texts(texts), nbest=nbest, sentences=sentences, tokenizer=tokenizer)
        return [_json.loads(a) for a in answers]


class Classifier(_Loaded):
    """A trained sequence classifier (sentiment and the like)."""

    @property
    def labels(self) -> List[str]:
        """The labels, in the order of `predict_proba`'s columns."""
        return self._model.labels

    def predict(self, texts: Texts, *, tokenizer: Optional[str] = None) -> List[dict]:
        """The label and every label's probability for each text (raw strings, read as the
        training data was tokenised, or lists of tokens)."""
        answers = self._model.predict_json(_texts(texts), tokenizer=tokenizer)
        return [_json.loads(a) for a in answers]

    def predict_proba(self, texts: Texts, *, tokenizer: Optional[str] = None):
        """The probability of every label for each text: a numpy array [texts, labels]."""
        import numpy as np

        answers = self.predict(texts, tokenizer=tokenizer)
        return np.array([[p for _, p in a["probabilities"]] for a in answers], dtype=np.float32).reshape(
            len(answers), len(self.labels)
        )


def load(path) -> Union[Tagger, Classifier]:
    """Loads the model in the artifacts folder `path` (what `train-tagger` or
    `train-classifier` wrote): a `Tagger` or a `Classifier`. A folder that is missing, damaged
    or not seqlab's raises `ArtifactsError` naming the file."""
    model = _load(str(path))
    return Tagger(model) if model.task == "tagger" else Classifier(model)


def _options(options: dict) -> str:
    def value(v):
        if isinstance(v, os.PathLike):
            return os.fspath(v)
        if isinstance(v, (list, tuple)):
            return [value(x) for x in v]
        return v

    return _json.dumps({k: value(v) for k, v in options.items() if v is not None})


def train_tagger(**options) -> dict:
    """Trains a tagger as `train-tagger` does, its long options as keywords (`train`, `valid`,
    `valid_fraction`, `test`, `artifacts`, `epochs`, `encoder`, `embeddings`, `overwrite=True`,
    …; `train-tagger --help` lists them): the same defaults, checks and messages (a bad option
    raises `ValueError` naming it). Prints each epoch's line; returns the run's `metrics.json`."""
    return _json.loads(_train("train-tagger", _options(options)))


def train_classifier(**options) -> dict:
    """Trains a classifier as `train-classifier` does (see `train_tagger`); returns the run's
    `metrics.json`."""
    return _json.loads(_train("train-classifier", _options(options)))
