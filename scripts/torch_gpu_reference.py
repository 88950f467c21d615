#!/usr/bin/env python3
"""The shared PyTorch reference workloads (../shared/bench/torch_reference.py: same models,
shapes, loss and Adam) and the tagger-crf twin (scripts/torch_crf_reference.py) on a CUDA GPU,
timed with torch.cuda.synchronize() around the steps. Prints one JSON line per workload, as the
CPU scripts do; `bench` on wgpu is the seqlab side of the comparison.

    python3 scripts/torch_gpu_reference.py [--steps 15] [--warmup 2] [WORKLOAD ...]
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
for folder in (here, os.path.join(here, "..", "..", "shared", "bench"), os.environ.get("TORCH_REFERENCE_DIR", "")):
    if folder and folder not in sys.path:
        sys.path.insert(0, folder)
import torch_reference as ref  # noqa: E402

WORKLOADS = ["tagger", "tagger-crf", "classifier", "gru", "rnn", "tagger-infer"]


def build(name, dev):
    torch.manual_seed(0)
    if name == "tagger-crf":
        import torch_crf_reference as crf
        model = crf.CrfTagger().to(dev)
        x = torch.randint(0, crf.VOCAB, (crf.BATCH, crf.LENGTH), device=dev)
        y = torch.randint(1, crf.TAGS, (crf.BATCH, crf.LENGTH), device=dev)
        return model, x, lambda: model.loss(x, y), crf.BATCH * crf.LENGTH
    if name.startswith("tagger"):
        model, batch, length = ref.Tagger().to(dev), 32, 40
        x = torch.randint(0, ref.VOCAB, (batch, length), device=dev)
        y = torch.randint(0, 9, (batch, length), device=dev)
        return model, x, lambda: nn.functional.cross_entropy(model(x).reshape(-1, 9), y.reshape(-1)), batch * length
    cell = {"classifier": "lstm", "gru": "gru", "rnn": "rnn"}[name]
    model, batch, length = ref.Classifier(cell).to(dev), 64, 32
    x = torch.randint(0, ref.VOCAB, (batch, length), device=dev)
    y = torch.randint(0, 2, (batch,), device=dev)
    return model, x, lambda: nn.functional.cross_entropy(model(x), y), batch * length


def run(name, steps, warmup, dev):
    model, x, loss, tokens = build(name, dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        if name.endswith("-infer"):
            with torch.no_grad():
                model(x)
        else:
            opt.zero_grad()
            loss().backward()
            opt.step()

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / steps
    print(json.dumps({"workload": name, "tokens_per_s": round(tokens / dt, 1), "ms_per_step": round(dt * 1000, 3),
                      "torch": torch.__version__, "device": torch.cuda.get_device_name(0), "cudnn": torch.backends.cudnn.enabled}), flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("workloads", nargs="*", default=WORKLOADS)
    a = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device")
    for w in a.workloads:
        try:
            run(w, a.steps, a.warmup, "cuda")
        except ImportError as e:  # pytorch-crf missing
            print(json.dumps({"workload": w, "skipped": str(e)}), flush=True)
