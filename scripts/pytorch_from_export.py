#!/usr/bin/env python3
"""Rebuild a seqlab model, exported with `export --artifacts DIR --out MODEL.safetensors`, in
PyTorch, and run it.

    python scripts/pytorch_from_export.py MODEL.safetensors INPUTS.json [OUT.json]

INPUTS.json holds `tokens` ([N][L] word ids, right-padded with 0) and `lengths` ([N]); a tagger
also `features` ([F][N][L] ids, the casing feature) and `chars` ([N][L][C] character ids). The
output (printed, or written to OUT.json) is `{"outputs": ...}`: a classifier's logits [N][classes],
a tagger's tag scores [N][L][tags] (before the CRF; rows past a sentence's length are zeros).

The modules below are the seqlab ones written with torch.nn (see `seqlab_models::export` for the
names): nn.Embedding, nn.LSTM/GRU/RNN(batch_first=True) over packed sequences, nn.Linear.
Needs: pip install torch safetensors
"""
import json
import sys

import torch
from safetensors import safe_open
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CELLS = {"Lstm": (nn.LSTM, {}), "Gru": (nn.GRU, {}), "RnnTanh": (nn.RNN, {"nonlinearity": "tanh"}),
         "RnnRelu": (nn.RNN, {"nonlinearity": "relu"})}
ACTIVATIONS = {"Relu": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "Gelu": nn.GELU, "Identity": nn.Identity}


def recurrent(tensors, prefix, kind, d_in, hidden, layers, bidirectional):
    cls, extra = CELLS[kind]
    rnn = cls(d_in, hidden, num_layers=layers, bidirectional=bidirectional, batch_first=True,
              bias=f"{prefix}bias_ih_l0" in tensors, **extra)
    rnn.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    return rnn


def run_packed(rnn, x, lengths):
    """Outputs [N, L, D·H] (zeros past each length) and h_n [layers·D, N, H]."""
    packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
    out, h = rnn(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    h = h[0] if isinstance(h, tuple) else h
    return out, h


def linear(tensors, name):
    w = tensors[f"{name}.weight"]
    layer = nn.Linear(w.shape[1], w.shape[0], bias=f"{name}.bias" in tensors)
    layer.load_state_dict({k[len(name) + 1:]: v for k, v in tensors.items() if k.startswith(name + ".")})
    return layer


def embedding(tensors, name):
    return nn.Embedding.from_pretrained(tensors[f"{name}.weight"], freeze=True)


def mask(lengths, length):
    return (torch.arange(length)[None, :] < lengths[:, None]).float()


def pool(x, lengths, pooling):
    m = mask(lengths, x.shape[1])[:, :, None]
    if pooling == "Max":
        pooled = (x.masked_fill(m == 0, float("-inf"))).max(dim=1).values
        return pooled.masked_fill(pooled == float("-inf"), 0.0)
    return (x * m).sum(dim=1) * (1.0 / m.sum(dim=1).clamp(min=1.0))


class SequenceClassifier(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        enc = config["encoder"]
        self.embedding = embedding(tensors, "embedding")
        self.kind, self.pooling = enc["kind"], config["pooling"]
        self.rnn = None if self.kind == "Bag" else recurrent(
            tensors, "rnn.", self.kind, config["embedding_dim"], enc["hidden"], enc["layers"], enc["bidirectional"])
        self.directions = 2 if enc["bidirectional"] else 1
        self.hidden = nn.ModuleList(linear(tensors, f"ffn.hidden.{i}") for i in range(len(config["ffn_hidden"])))
        self.activation = ACTIVATIONS[config["ffn_activation"]]()
        self.output = linear(tensors, "ffn.output")

    def forward(self, tokens, lengths):
        x = self.embedding(tokens)
        if self.rnn is None:
            pooled = pool(x, lengths, "Mean" if self.pooling == "Last" else self.pooling)
        else:
            out, h = run_packed(self.rnn, x, lengths)
            if self.pooling == "Last":
                # The last layer's final states: forward (last real token), then backward (first).
                pooled = torch.cat(list(h[-self.directions:]), dim=1)
            else:
                pooled = pool(out, lengths, self.pooling)
        for layer in self.hidden:
            pooled = self.activation(layer(pooled))
        return self.output(pooled)


class CharCnn(nn.Module):
    """seqlab's character CNN: zero-padded windows of `width` characters → linear → max."""

    def __init__(self, tensors, config):
        super().__init__()
        self.embedding = embedding(tensors, "chars.embedding")
        self.conv = linear(tensors, "chars.conv")
        self.width = config["width"]

    def forward(self, chars):
        n, l, c = chars.shape
        flat = chars.reshape(n * l, c)
        real = (flat != 0).float()
        x = self.embedding(flat) * real[:, :, None]
        half = self.width // 2
        if half:
            zeros = torch.zeros(x.shape[0], half, x.shape[2])
            x = torch.cat([zeros, x, zeros], dim=1)
        windows = torch.cat([x[:, k:k + c, :] for k in range(self.width)], dim=2)
        h = self.conv(windows) + (real - 1.0)[:, :, None] * 1e4
        pooled = h.max(dim=1).values * real.max(dim=1, keepdim=True).values
        return pooled.reshape(n, l, -1)


class CharLstm(nn.Module):
    """seqlab's character BiLSTM: final forward state ‖ final backward state of each word."""

    def __init__(self, tensors, config):
        super().__init__()
        self.embedding = embedding(tensors, "char_lstm.embedding")
        self.lstm = recurrent(tensors, "char_lstm.lstm.", "Lstm", config["dim"], config["hidden"], 1, True)

    def forward(self, chars):
        n, l, c = chars.shape
        flat = chars.reshape(n * l, c)
        lengths = (flat != 0).sum(dim=1)
        _, h = run_packed(self.lstm, self.embedding(flat), lengths)
        words = torch.cat([h[0], h[1]], dim=1) * (lengths > 0).float()[:, None]
        return words.reshape(n, l, -1)


class TokenClassifier(nn.Module):
    def __init__(self, config, tensors):
        super().__init__()
        enc = config["encoder"]
        self.embedding = embedding(tensors, "embedding")
        self.features = nn.ModuleList(embedding(tensors, f"features.{i}") for i in range(len(config["features"])))
        self.chars = CharCnn(tensors, config["chars"]) if config.get("chars") else None
        self.char_lstm = CharLstm(tensors, config["char_lstm"]) if config.get("char_lstm") else None
        d_in = config["embedding_dim"] + sum(f["dim"] for f in config["features"])
        d_in += config["chars"]["filters"] if self.chars else 0
        d_in += 2 * config["char_lstm"]["hidden"] if self.char_lstm else 0
        self.rnn = None if enc["kind"] == "Bag" else recurrent(
            tensors, "rnn.", enc["kind"], d_in, enc["hidden"], enc["layers"], enc["bidirectional"])
        self.output = linear(tensors, "output")

    def forward(self, tokens, lengths, features, chars):
        parts = [self.embedding(tokens)] + [emb(ids) for emb, ids in zip(self.features, features)]
        if self.chars is not None:
            parts.append(self.chars(chars))
        if self.char_lstm is not None:
            parts.append(self.char_lstm(chars))
        x = torch.cat(parts, dim=2)
        out = x if self.rnn is None else run_packed(self.rnn, x, lengths)[0]
        return self.output(out) * mask(lengths, tokens.shape[1])[:, :, None]


def load(path):
    with safe_open(path, "pt") as f:
        metadata = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    config = json.loads(metadata["config"])
    if metadata["model"] == "sequence-classifier":
        return SequenceClassifier(config, tensors).eval()
    return TokenClassifier(config, tensors).eval()


def main():
    model = load(sys.argv[1])
    with open(sys.argv[2]) as f:
        inputs = json.load(f)
    tokens, lengths = torch.tensor(inputs["tokens"]), torch.tensor(inputs["lengths"])
    with torch.no_grad():
        if isinstance(model, SequenceClassifier):
            outputs = model(tokens, lengths)
        else:
            features = [torch.tensor(ids) for ids in inputs.get("features", [])]
            outputs = model(tokens, lengths, features, torch.tensor(inputs["chars"]) if "chars" in inputs else None)
    text = json.dumps({"outputs": outputs.tolist()})
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
