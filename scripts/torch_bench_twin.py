#!/usr/bin/env python3
"""PyTorch twins of `bench`'s workloads, timed round by round as `bench` asks.

`bench` starts this script once and alternates: a round of seqlab, a round of Burn's built-in
twin, a round here, and again, so that a quiet or busy minute of the machine falls on all of
them. The models are the shared references' own, imported from their files (nothing copied):

  tagger, classifier, gru, rnn, tagger-infer   ../shared/bench/torch_reference.py
  tagger-crf                                    scripts/torch_crf_reference.py (pytorch-crf)
  classifier-infer                              the reference's LSTM classifier, forward only
  *-infer with implementation "pytorch-qdynamic"  the same model after
      torch.ao.quantization.quantize_dynamic({nn.LSTM, nn.Linear}, qint8): int8 weights,
      activations quantised per batch, which is what PyTorch offers for CPU inference of RNNs

Each workload is set up as the reference's `run` does (seed 0, random ids, Adam lr 1e-3,
cross-entropy), then warmed up.

Protocol (one JSON object per line on stdout):
  first line  {"torch": VERSION, "threads": N, "build": {...}, "twins": [[workload, implementation], ...]}
  stdin "WORKLOAD IMPLEMENTATION STEPS" -> {"workload", "implementation", "seconds_per_step"}
  stdin closed -> exit 0

Usage: torch_bench_twin.py --reference PATH [--crf PATH] [--threads 2] [--warmup 2] WORKLOAD...
"""
import argparse
import importlib.util
import json
import re
import sys
import time
import warnings


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_info(torch):
    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version ([\w.\-]+)", config)
    dnn = re.search(r"MKL-DNN v([\w.]+)", config)
    capability = re.search(r"CPU capability usage: (\w+)", config)
    return {
        "mkl": mkl.group(1) if mkl else None,
        "onednn": dnn.group(1) if dnn else None,
        "cpu_capability": capability.group(1) if capability else None,
        "parallel": torch.__config__.parallel_info().splitlines()[-1].strip(),
        "flush_denormal": False,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--reference", required=True)
    p.add_argument("--crf")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--flush-denormal", action="store_true",
                   help="torch.set_flush_denormal(True), as seqlab flushes subnormals")
    p.add_argument("workloads", nargs="+")
    a = p.parse_args()

    # quantize_dynamic and pytorch-crf warn of deprecations on every call; the timings are the point.
    warnings.filterwarnings("ignore")
    import torch
    import torch.nn as nn

    torch.set_num_threads(a.threads)
    if a.flush_denormal:
        torch.set_flush_denormal(True)
    ref = load(a.reference, "torch_reference")
    vocab = ref.VOCAB

    def tagger_data():
        x = torch.randint(0, vocab, (32, 40))
        y = torch.randint(0, 9, (32, 40))
        return x, y

    def train_step(model, loss):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            loss().backward()
            opt.step()
        return step

    def infer_step(model, x):
        def step():
            with torch.no_grad():
                model(x)
        return step

    def quantised(model):
        return torch.ao.quantization.quantize_dynamic(model, {nn.LSTM, nn.Linear}, dtype=torch.qint8)

    def setup(name):
        """The step functions of `name`: {implementation: step}."""
        torch.manual_seed(0)
        if name in ("tagger", "tagger-infer"):
            model = ref.Tagger()
            x, y = tagger_data()
            if name == "tagger":
                loss = lambda: nn.functional.cross_entropy(model(x).reshape(-1, 9), y.reshape(-1))
                return {"pytorch": train_step(model, loss)}
            model.eval()
            return {"pytorch": infer_step(model, x), "pytorch-qdynamic": infer_step(quantised(model), x)}
        if name == "tagger-crf":
            if not a.crf:
                return {}
            try:
                crf = load(a.crf, "torch_crf_reference")
            except ModuleNotFoundError as e:
                print(f"torch_bench_twin: tagger-crf skipped: {e} (pip install pytorch-crf)", file=sys.stderr)
                return {}
            model = crf.CrfTagger()
            x = torch.randint(0, crf.VOCAB, (crf.BATCH, crf.LENGTH))
            y = torch.randint(1, crf.TAGS, (crf.BATCH, crf.LENGTH))
            return {"pytorch": train_step(model, lambda: model.loss(x, y))}
        cell = {"classifier": "lstm", "classifier-infer": "lstm", "gru": "gru", "rnn": "rnn"}.get(name)
        if cell is None:
            return {}
        model = ref.Classifier(cell)
        x = torch.randint(0, vocab, (64, 32))
        y = torch.randint(0, 2, (64,))
        if name == "classifier-infer":
            model.eval()
            return {"pytorch": infer_step(model, x), "pytorch-qdynamic": infer_step(quantised(model), x)}
        return {"pytorch": train_step(model, lambda: nn.functional.cross_entropy(model(x), y))}

    steps = {}
    for name in a.workloads:
        for implementation, step in setup(name).items():
            for _ in range(a.warmup):
                step()
            steps[(name, implementation)] = step

    info = build_info(torch)
    info["flush_denormal"] = a.flush_denormal
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "build": info,
                      "twins": [list(k) for k in steps]}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 3:
            continue
        name, implementation, count = parts[0], parts[1], int(parts[2])
        step = steps.get((name, implementation))
        if step is None:
            print(json.dumps({"workload": name, "implementation": implementation, "error": "no such twin"}),
                  flush=True)
            continue
        t0 = time.perf_counter()
        for _ in range(count):
            step()
        dt = (time.perf_counter() - t0) / count
        print(json.dumps({"workload": name, "implementation": implementation, "seconds_per_step": dt}), flush=True)


if __name__ == "__main__":
    main()
