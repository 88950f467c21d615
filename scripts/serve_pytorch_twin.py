#!/usr/bin/env python3
"""The Python twin of `serve` for the load run: the same exported weights served the way a
PyTorch user would serve them. FastAPI under uvicorn, the model rebuilt with torch.nn by
`pytorch_from_export.py`, one batch per request under `torch.inference_mode()`, and a CRF
tagger decoded with pytorch-crf's Viterbi. It answers the same route and body as `serve`:

    POST /v1/models/{name}/predict  {"texts": [...]}  ->  {"model": ..., "predictions": [...]}

A classifier answers its label and every label's probability. A tagger answers its tags and
its entities; it has no confidences, because pytorch-crf has no marginals. Tokens are split on
whitespace, lower-cased when the run was; the load run sends pre-tokenised corpora (CoNLL-2003,
SST-2), where this is how seqlab reads them too. Models with character or casing features are
refused: the load run's models have neither.

    python3 -m pip install torch safetensors pytorch-crf==0.7.2 fastapi uvicorn
    python3 scripts/serve_pytorch_twin.py --model ner=EXPORT.safetensors:ARTIFACTS_DIR [--port 8081]
"""
import argparse
import json
import os
import sys

import torch
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_from_export  # noqa: E402


class Served:
    def __init__(self, export, artifacts):
        self.net = pytorch_from_export.load(export)
        with open(os.path.join(artifacts, "vocab.json")) as f:
            self.ids = {t: i for i, t in enumerate(json.load(f)["tokens"])}
        with open(os.path.join(artifacts, "run.json")) as f:
            run = json.load(f)
        self.lowercase = bool(run.get("lowercase"))
        self.tagger = os.path.exists(os.path.join(artifacts, "tags.json"))
        with open(os.path.join(artifacts, "tags.json" if self.tagger else "labels.json")) as f:
            self.names = json.load(f)["names"]
        self.crf = None
        if self.tagger:
            if self.net.chars is not None or self.net.char_lstm is not None or len(self.net.features):
                raise SystemExit(f"{artifacts}: the twin serves taggers without character or casing features")
            from safetensors import safe_open
            from torchcrf import CRF
            with safe_open(export, "pt") as f:
                if "crf.transitions" in f.keys():
                    self.crf = CRF(len(self.names), batch_first=True)
                    self.crf.transitions.data = f.get_tensor("crf.transitions")
                    self.crf.start_transitions.data = f.get_tensor("crf.start")
                    self.crf.end_transitions.data = f.get_tensor("crf.end")

    def batch(self, texts):
        tokens = [t.lower().split() if self.lowercase else t.split() for t in texts]
        lengths = torch.tensor([max(len(t), 1) for t in tokens])
        ids = torch.zeros(len(tokens), int(lengths.max()), dtype=torch.long)
        for row, words in enumerate(tokens):
            ids[row, :len(words)] = torch.tensor([self.ids.get(w, 1) for w in words], dtype=torch.long)
        return tokens, ids, lengths

    def predict(self, texts):
        tokens, ids, lengths = self.batch(texts)
        with torch.inference_mode():
            if not self.tagger:
                probs = torch.softmax(self.net(ids, lengths), dim=-1).tolist()
                return [{"tokens": t, "label": self.names[max(range(len(p)), key=p.__getitem__)],
                         "probabilities": list(zip(self.names, p))} for t, p in zip(tokens, probs)]
            scores = self.net(ids, lengths, [], None)
            mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
            paths = self.crf.decode(scores, mask) if self.crf is not None else scores.argmax(-1).tolist()
        return [self.tagged(t, p[:len(t)]) for t, p in zip(tokens, paths)]

    def tagged(self, tokens, path):
        tags = [self.names[i] for i in path]
        entities, start = [], None
        for i, tag in enumerate(tags + ["O"]):
            if start is not None and not tag.startswith(("I-", "E-")):
                entities.append({"start": start, "end": i, "label": tags[start][2:], "text": " ".join(tokens[start:i])})
                start = None
            if tag.startswith(("B-", "S-")) or (tag.startswith("I-") and start is None):
                start = i
        return {"tokens": tokens, "tags": tags, "entities": entities}


class Request(BaseModel):
    texts: list[str]
    nbest: int = 0


def app_for(models):
    app = FastAPI()

    @app.post("/v1/models/{name}/predict")
    def predict(name: str, request: Request):
        if name not in models:
            raise HTTPException(status_code=404, detail=f"no model named {name}")
        if not request.texts:
            raise HTTPException(status_code=422, detail="texts: give at least one text")
        return {"model": name, "predictions": models[name].predict(request.texts)}

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", required=True, help="NAME=EXPORT.safetensors:ARTIFACTS_DIR")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    models = {}
    for spec in args.model:
        name, rest = spec.split("=", 1)
        export, artifacts = rest.rsplit(":", 1)
        models[name] = Served(export, artifacts)
    uvicorn.run(app_for(models), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
