#!/usr/bin/env python3
"""PyTorch twin of `bench tagger-crf`: the shared BiLSTM tagger shape (vocab 20000, emb 100,
hidden 200 per direction, batch 32, length 40) with pytorch-crf's CRF over 18 tags (IOBES for 4
entity types and a padding tag), loss = negative log-likelihood per token, Adam lr 1e-3,
forward + backward + step. pytorch-crf has no transition constraints; seqlab's CRF applies
IOBES's, which changes no arithmetic that matters for speed.

    python3 -m pip install torch pytorch-crf==0.7.2
    python3 scripts/torch_crf_reference.py [--threads 2] [--steps 30] [--warmup 5]

Prints one JSON line as ../shared/bench/torch_reference.py does.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
from torchcrf import CRF

VOCAB, TAGS, BATCH, LENGTH = 20000, 18, 32, 40


class CrfTagger(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(VOCAB, 100)
        s.rnn = nn.LSTM(100, 200, num_layers=1, batch_first=True, bidirectional=True)
        s.out = nn.Linear(400, TAGS)
        s.crf = CRF(TAGS, batch_first=True)

    def loss(s, x, y):
        h, _ = s.rnn(s.emb(x))
        return -s.crf(s.out(h), y, reduction="sum") / y.numel()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = CrfTagger()
    x = torch.randint(0, VOCAB, (BATCH, LENGTH))
    y = torch.randint(1, TAGS, (BATCH, LENGTH))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        model.loss(x, y).backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t0) / a.steps
    print(json.dumps({"workload": "tagger-crf", "tokens_per_s": round(BATCH * LENGTH / dt, 1),
                      "ms_per_step": round(dt * 1000, 3), "torch": torch.__version__,
                      "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
