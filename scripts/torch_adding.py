#!/usr/bin/env python3
"""The PyTorch twin of `grad-flow adding`: the same adding-problem batches (the same SplitMix64
stream as `seqlab_datasets::longdep::AddingTask`), the same model (one recurrent layer of
`--hidden` units over the two inputs, a linear read-out of the last state), the same
initialisation rules (PyTorch's uniform ±1/√H, which seqlab's layers use too; LSTM forget-gate
bias 1 on `bias_ih`, 0 on `bias_hh`), the same optimiser (Adam, β 0.9/0.999, ε 1e-5 as Burn's),
the same per-parameter gradient clipping (Burn's `GradientClipping::Norm` clips each tensor),
batch, budget and evaluation schedule. Writes the CSV that `grad-flow adding --compare` reads.

    python scripts/torch_adding.py --hidden 64 --out docs/grad-flow/adding-torch.csv
"""
import argparse
import time

import numpy as np
import torch
from torch import nn

MASK = (1 << 64) - 1


def stream(seed, count):
    """The first `count` outputs of SplitMix64(seed), vectorised: output k mixes seed + (k+1)·γ."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed & MASK) + np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def generate(length, count, seed):
    """Inputs [count, T, 2] and targets [count], as AddingTask::generate: per sequence T values,
    then the first position (mod T/2), then the second (T/2 + mod T − T/2)."""
    half = length // 2
    draws = stream(seed, count * (length + 2)).reshape(count, length + 2)
    values = (draws[:, :length] >> np.uint64(40)).astype(np.float32) / np.float32(1 << 24)
    first = (draws[:, length] % np.uint64(half)).astype(np.int64)
    second = half + (draws[:, length + 1] % np.uint64(length - half)).astype(np.int64)
    rows = np.arange(count)
    markers = np.zeros((count, length), dtype=np.float32)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    inputs = torch.from_numpy(np.stack([values, markers], axis=2))
    targets = torch.from_numpy(values[rows, first] + values[rows, second])
    return inputs, targets


def step_seed(seed, step):
    return (seed * 1_000_003 + step) & MASK


class Model(nn.Module):
    """One recurrent layer (`d_in` → `hidden`) and a linear read-out of its last state."""

    def __init__(self, cell, d_in, hidden, d_out, forget_bias):
        super().__init__()
        kind = {"rnn-tanh": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = kind(d_in, hidden, batch_first=True)
        self.head = nn.Linear(hidden, d_out)
        if cell == "lstm" and forget_bias != "none":
            with torch.no_grad():
                self.rnn.bias_ih_l0[hidden:2 * hidden] = float(forget_bias)
                self.rnn.bias_hh_l0[hidden:2 * hidden] = 0.0

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1, :])


def step_clipped(model, optim, loss, clip):
    """One Adam step with each parameter's gradient clipped to `clip` (Burn's GradientClipping::Norm)."""
    optim.zero_grad()
    loss.backward()
    for p in model.parameters():
        torch.nn.utils.clip_grad_norm_([p], clip)
    optim.step()


def run(cell, length, seed, args):
    torch.manual_seed(seed)
    model = Model(cell, 2, args.hidden, 1, args.forget_bias)
    optim = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-5)
    held_in, held_out = generate(length, 500, seed ^ 0x0E7A100000000000)

    def evaluate():
        with torch.no_grad():
            return float(((model(held_in).squeeze(1) - held_out) ** 2).mean())

    curve = [(0, evaluate())]
    steps = -(-args.sequences // args.batch_size)
    for step in range(1, steps + 1):
        x, y = generate(length, args.batch_size, step_seed(seed, step))
        step_clipped(model, optim, ((model(x).squeeze(1) - y) ** 2).mean(), args.clip)
        if step % 20 == 0 or step == steps:
            curve.append((step * args.batch_size, evaluate()))
    return curve


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="rnn-tanh,lstm,gru")
    parser.add_argument("--lengths", default="50,100,200")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sequences", type=int, default=200000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--forget-bias", default="1.0")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="adding-torch.csv")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = ["framework,cell,length,seed,sequences,mse"]
    for length in [int(t) for t in args.lengths.split(",")]:
        for cell in args.cells.split(","):
            for seed in range(1, args.seeds + 1):
                started = time.time()
                curve = run(cell, length, seed, args)
                below = next((n for n, m in curve if m < 0.01), None)
                print(f"T={length:<4} {cell:<8} seed {seed}: final MSE {curve[-1][1]:.4f}, below 0.01 after "
                      f"{below if below is not None else 'never'} ({time.time() - started:.0f} s)", flush=True)
                rows += [f"pytorch,{cell},{length},{seed},{n},{m:.6f}" for n, m in curve]
    with open(args.out, "w") as f:
        f.write("\n".join(rows) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
