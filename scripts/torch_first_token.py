#!/usr/bin/env python3
"""The PyTorch twin of `grad-flow sweep` (the first-token task): the same batches (the SplitMix64
stream of `seqlab_datasets::longdep::FirstTokenTask`), the same one-layer model over one-hot
tokens with a linear read-out of the last state, PyTorch's uniform init (seqlab's too), LSTM
forget-gate bias 1, Adam (ε 1e-5 as Burn's) with each parameter's gradient clipped to norm 1
(Burn's `GradientClipping::Norm`), the same budget, held-out set and early stop. Prints one
line per run and writes a CSV like sweep.csv.

    python scripts/torch_first_token.py --lengths 25,50 --out docs/grad-flow/sweep-torch.csv
"""
import argparse
import time

import numpy as np
import torch
from torch import nn

from torch_adding import MASK, Model, step_clipped, stream

CLASSES, DISTRACTORS = 4, 8


def generate(length, count, seed):
    """One-hot inputs [count, T, 12] and labels [count], as FirstTokenTask::generate."""
    draws = stream((seed ^ ((length * 0x2545F4914F6CDD1D) & MASK)) & MASK, count * length).reshape(count, length)
    labels = (draws[:, 0] % np.uint64(CLASSES)).astype(np.int64)
    tokens = np.empty((count, length), dtype=np.int64)
    tokens[:, 0] = labels
    tokens[:, 1:] = CLASSES + (draws[:, 1:] % np.uint64(DISTRACTORS)).astype(np.int64)
    x = torch.nn.functional.one_hot(torch.from_numpy(tokens), CLASSES + DISTRACTORS).float()
    return x, torch.from_numpy(labels)


def run(cell, length, seed, args):
    torch.manual_seed(seed)
    model = Model(cell, CLASSES + DISTRACTORS, args.hidden, CLASSES, args.forget_bias)
    optim = torch.optim.Adam(model.parameters(), lr=args.lr, eps=1e-5)
    held_x, held_y = generate(length, 512, (seed + 0x5EED00000000) & MASK)
    accuracy, to_95, steps = 0.0, None, 0
    for step in range(1, args.steps + 1):
        x, y = generate(length, args.batch_size, (seed * 1_000_003 + step) & MASK)
        step_clipped(model, optim, nn.functional.cross_entropy(model(x), y), args.clip)
        steps = step
        if step % 50 == 0 or step == args.steps:
            with torch.no_grad():
                accuracy = float((model(held_x).argmax(1) == held_y).float().mean())
            if accuracy >= 0.95 and to_95 is None:
                to_95 = step
            if accuracy >= 0.99:
                break
    return accuracy, to_95, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="rnn-tanh,lstm,gru")
    parser.add_argument("--lengths", default="25,50")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--forget-bias", default="1.0")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="sweep-torch.csv")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = ["cell,length,seed,final_accuracy,steps_to_95,steps,seconds"]
    for cell in args.cells.split(","):
        for length in [int(t) for t in args.lengths.split(",")]:
            for seed in range(1, args.seeds + 1):
                started = time.time()
                accuracy, to_95, steps = run(cell, length, seed, args)
                seconds = time.time() - started
                print(f"{cell:<8} T={length:<4} seed {seed}: accuracy {accuracy:.3f}, 95 % at step {to_95}, {steps} steps ({seconds:.0f} s)", flush=True)
                rows.append(f"{cell},{length},{seed},{accuracy:.4f},{to_95 if to_95 is not None else ''},{steps},{seconds:.1f}")
    with open(args.out, "w") as f:
        f.write("\n".join(rows) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
