#!/usr/bin/env python3
"""PyTorch twins of seqlab's two default training recipes, for whole-epoch timing.

    python scripts/torch_twin.py tagger --data $SEQLAB_DATA --epochs 1
    python scripts/torch_twin.py classifier --data $SEQLAB_DATA --epochs 1

Each twin is what a PyTorch user would write for the same recipe, with the same sizes,
optimiser, batching and evaluation as `train-tagger` / `train-classifier` with their defaults:

tagger (CoNLL-2003, IOB1 files trained on IOBES): words lower-cased (vocabulary of the training
  words, ids by frequency, <pad> 0, <unk> 1), embedding 100 ‖ casing embedding 8 (seqlab's 7
  casing classes) ‖ character CNN (character embeddings 25, 50 filters of width 3, max over the
  word, first 32 characters) → dropout 0.5 → BiLSTM 200 per direction (packed sequences) →
  dropout 0.5 → linear → linear-chain CRF (pytorch-crf) with transitions restricted to IOBES's;
  word dropout 0.5 on words seen once; the CRF's negative log-likelihood summed and divided
  by the batch's tokens (--loss-mean token) or sentences (--loss-mean sentence); gradients
  clipped to a global norm (--clip-norm, clip_grad_norm_); Adam (lr 2e-3, eps --adam-epsilon,
  default 1e-5 as Burn's), cosine decay per step over the run's epochs (15 in the recipe);
  batch 32, length-bucketed (shuffle, sort within chunks of 50 batches, shuffle the batches).
  Each epoch: training, then the validation loss, Viterbi decoding and entity F1 (exact spans
  and types, as seqeval); after the last, the test split scored with the weights of the best
  validation epoch, as seqlab keeps it.
classifier (SST-2, GLUE TSV): whitespace tokens, vocabulary of the training words, embedding 64
  → dropout 0.2 → GRU 128 (packed) → final hidden state → dropout 0.2 → linear to 2; Adam
  (lr 2e-3, eps --adam-epsilon), a constant rate or (--schedule cosine) cosine decay per step;
  batch 32, length-bucketed alike; validation loss and accuracy per epoch, test accuracy with
  the best validation epoch's weights.

Prints one line per epoch and a JSON summary (`--json`): seconds per epoch (training +
validation), sentences/s, the kept epoch, its dev and test scores, the test scoring's seconds,
peak RSS.
torch.set_num_threads(--threads, default 2), the 2-core machine's count; --device cuda runs the
twin on a GPU (scripts/gpu-check.sh).
"""
import argparse
import collections
import json
import math
import random
import resource
import sys
import time

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

MAX_WORD_CHARS = 32
DEVICE = torch.device("cpu")  # --device


# ---------------------------------------------------------------- data

def read_conll(path):
    sentences, tokens, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                if tokens:
                    sentences.append((tokens, tags))
                tokens, tags = [], []
                continue
            cols = line.split()
            if cols[0] == "-DOCSTART-":
                continue
            tokens.append(cols[0])
            tags.append(cols[-1])
    if tokens:
        sentences.append((tokens, tags))
    return sentences


def spans(tags):
    """Entity spans (type, start, end) of an IOB1/IOB2/IOBES tagging, as seqeval reads them."""
    out, start, kind = [], None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, _, t = tag.partition("-")
        begins = prefix in ("B", "S") or (prefix in ("I", "E") and (kind != t or start is None))
        if start is not None and (prefix == "O" or begins or t != kind):
            out.append((kind, start, i))
            start, kind = None, None
        if prefix != "O" and start is None:
            start, kind = i, t
        if prefix in ("E", "S") and start is not None:
            out.append((kind, start, i + 1))
            start, kind = None, None
    return out


def to_iobes(tags):
    out = ["O"] * len(tags)
    for kind, s, e in spans(tags):
        if e - s == 1:
            out[s] = "S-" + kind
        else:
            out[s] = "B-" + kind
            for i in range(s + 1, e - 1):
                out[i] = "I-" + kind
            out[e - 1] = "E-" + kind
    return out


def casing(token):
    letters = [c for c in token if c.isalpha()]
    digit = any(c.isdigit() for c in token)
    if not letters:
        if digit and all(c.isdigit() or c in ".,-/:" for c in token):
            return 5
        return 6 if not digit and token else 7
    if digit:
        return 7
    upper = sum(c.isupper() for c in letters)
    if upper == 0:
        return 1
    if upper == len(letters):
        return 3
    if upper == 1 and letters[0].isupper():
        return 2
    return 4


def vocabulary(words):
    counts = collections.Counter(words)
    ordered = sorted(counts, key=lambda w: (-counts[w], w))
    index = {"<pad>": 0, "<unk>": 1}
    for w in ordered:
        index.setdefault(w, len(index))
    return index, counts


def bucket_batches(lengths, batch_size, rng, chunk_batches=50):
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches = []
    chunk = batch_size * chunk_batches
    for c in range(0, len(order), chunk):
        part = sorted(order[c:c + chunk], key=lambda i: lengths[i])
        batches.extend(part[k:k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def pad(rows, value=0):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


# ---------------------------------------------------------------- tagger

class Tagger(nn.Module):
    def __init__(self, words, chars, tags, allowed):
        super().__init__()
        from torchcrf import CRF
        self.embedding = nn.Embedding(words, 100)
        self.casing = nn.Embedding(8, 8)
        self.char_embedding = nn.Embedding(chars, 25)
        self.conv = nn.Conv1d(25, 50, 3, padding=1)
        self.lstm = nn.LSTM(158, 200, batch_first=True, bidirectional=True)
        self.output = nn.Linear(400, tags)
        self.dropout = nn.Dropout(0.5)
        self.crf = CRF(tags, batch_first=True)
        self.allowed = allowed  # (start [K], transitions [K, K], end [K]) as bool tensors
        self.restrict()

    @torch.no_grad()
    def restrict(self):
        start, trans, end = (a.to(self.crf.transitions.device) for a in self.allowed)
        self.crf.start_transitions.masked_fill_(~start, -1e4)
        self.crf.transitions.masked_fill_(~trans, -1e4)
        self.crf.end_transitions.masked_fill_(~end, -1e4)

    def emissions(self, words, case, chars, lengths):
        b, t, w = chars.shape
        c = self.char_embedding(chars.view(b * t, w)).transpose(1, 2)  # [words, 25, chars]
        h = self.conv(c)
        real = (chars.view(b * t, w) != 0)
        h = h.masked_fill(~real.unsqueeze(1), -1e4).max(dim=2).values
        h = h * real.any(dim=1, keepdim=True)
        x = torch.cat([self.embedding(words), self.casing(case), h.view(b, t, -1)], dim=2)
        x = self.dropout(x)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=t)
        return self.output(self.dropout(out))


def run_tagger(args):
    d = args.data
    train, dev, test = (read_conll(f"{d}/conll2003/{s}.txt") for s in ("train", "dev", "test"))
    word_index, counts = vocabulary(w.lower() for s, _ in train for w in s)
    rare_from = min((word_index[w] for w, c in counts.items() if c == 1), default=len(word_index))
    char_index, _ = vocabulary(c for s, _ in train for w in s for c in w)
    tag_names = sorted({t for _, tags in train for t in to_iobes(tags)}, key=lambda t: (t != "O", t))
    tag_index = {t: i for i, t in enumerate(tag_names)}
    k = len(tag_names)

    def rule(a, b):  # IOBES: may tag b follow a (None: sentence boundary)?
        pa, _, ta = (a or "O").partition("-")
        pb, _, tb = (b or "O").partition("-")
        if b is not None and pb in ("I", "E"):
            return a is not None and pa in ("B", "I") and ta == tb
        if a is not None and pa in ("B", "I"):
            return b is not None and pb in ("I", "E") and ta == tb
        return True
    allowed = (torch.tensor([rule(None, t) for t in tag_names]),
               torch.tensor([[rule(a, b) for b in tag_names] for a in tag_names]),
               torch.tensor([rule(t, None) for t in tag_names]))

    def encode(split):
        items = []
        for tokens, tags in split:
            items.append((
                [word_index.get(w.lower(), 1) for w in tokens],
                [casing(w) for w in tokens],
                [[char_index.get(c, 1) for c in w[:MAX_WORD_CHARS]] for w in tokens],
                [tag_index[t] for t in to_iobes(tags)],
                tags,
            ))
        return items
    train_items, dev_items, test_items = encode(train), encode(dev), encode(test)

    def tensors(batch):
        words = pad([it[0] for it in batch])
        case = pad([it[1] for it in batch])
        width = max(len(c) for it in batch for c in it[2])
        t = words.shape[1]
        chars = torch.zeros(len(batch), t, width, dtype=torch.long)
        for i, it in enumerate(batch):
            for j, c in enumerate(it[2]):
                chars[i, j, :len(c)] = torch.tensor(c)
        tags = pad([it[3] for it in batch])
        lengths = torch.tensor([len(it[0]) for it in batch])
        # Packed sequences take their lengths on the CPU.
        return words.to(DEVICE), case.to(DEVICE), chars.to(DEVICE), tags.to(DEVICE), lengths

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model = Tagger(len(word_index), len(char_index), k, allowed).to(DEVICE)
    optim = torch.optim.Adam(model.parameters(), lr=2e-3, eps=args.adam_epsilon)
    steps_per_epoch = math.ceil(len(train_items) / 32)
    total = steps_per_epoch * args.schedule_epochs
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))

    def evaluate(items):
        model.eval()
        loss_sum, real, correct, gold_n, pred_n = 0.0, 0, 0, 0, 0
        with torch.no_grad():
            batches = bucket_batches([len(it[0]) for it in items], 32, random.Random(0))
            for batch in batches:
                batch = [items[i] for i in batch]
                words, case, chars, tags, lengths = tensors(batch)
                mask = words != 0
                e = model.emissions(words, case, chars, lengths)
                loss_sum += -model.crf(e, tags, mask=mask, reduction="sum").item()
                real += int(lengths.sum())
                for it, path in zip(batch, model.crf.decode(e, mask=mask)):
                    gold = set(spans(it[4]))
                    pred = set(spans([tag_names[p] for p in path]))
                    correct += len(gold & pred)
                    gold_n += len(gold)
                    pred_n += len(pred)
        p = correct / max(pred_n, 1)
        r = correct / max(gold_n, 1)
        return loss_sum / real, (2 * p * r / (p + r) if p + r else 0.0)

    return train_loop(args, model, optim, sched, train_items, tensors, rare_from, evaluate, dev_items, test_items, "entity F1")


def tagger_loss(model, batch_tensors, rare_from, per_sentence):
    words, case, chars, tags, lengths = batch_tensors
    rare = (words >= rare_from) & (torch.rand(words.shape, device=words.device) < 0.5)
    words = words.masked_fill(rare, 1)
    mask = torch.arange(words.shape[1], device=words.device).unsqueeze(0) < lengths.to(words.device).unsqueeze(1)
    e = model.emissions(words, case, chars, lengths)
    terms = len(lengths) if per_sentence else lengths.sum()
    return -model.crf(e, tags, mask=mask, reduction="sum") / terms


# ---------------------------------------------------------------- classifier

class Classifier(nn.Module):
    def __init__(self, words):
        super().__init__()
        self.embedding = nn.Embedding(words, 64)
        self.gru = nn.GRU(64, 128, batch_first=True)
        self.output = nn.Linear(128, 2)
        self.dropout = nn.Dropout(0.2)

    def forward(self, words, lengths):
        x = self.dropout(self.embedding(words))
        _, h = self.gru(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        return self.output(self.dropout(h[-1]))


def read_glue(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        f.readline()  # the header: sentence, label (test.tsv's is space-separated)
        for line in f:
            text, label = line.rstrip("\n").rsplit("\t", 1)
            rows.append((text.split(), int(label)))
    return rows


def run_classifier(args):
    d = args.data
    train, dev, test = (read_glue(f"{d}/sst2/{s}.tsv") for s in ("train", "dev", "test"))
    word_index, _ = vocabulary(w for s, _ in train for w in s)
    encode = lambda split: [([word_index.get(w, 1) for w in s] or [1], y) for s, y in split]
    train_items, dev_items, test_items = encode(train), encode(dev), encode(test)

    def tensors(batch):
        return pad([it[0] for it in batch]).to(DEVICE), torch.tensor([it[1] for it in batch]).to(DEVICE), torch.tensor([len(it[0]) for it in batch])

    torch.manual_seed(args.seed)
    model = Classifier(len(word_index)).to(DEVICE)
    optim = torch.optim.Adam(model.parameters(), lr=2e-3, eps=args.adam_epsilon)
    total = math.ceil(len(train_items) / 32) * args.schedule_epochs
    if args.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: 1.0)
    ce = nn.CrossEntropyLoss(reduction="sum")

    def evaluate(items):
        model.eval()
        loss_sum, correct = 0.0, 0
        with torch.no_grad():
            for batch in bucket_batches([len(it[0]) for it in items], 32, random.Random(0)):
                words, labels, lengths = tensors([items[i] for i in batch])
                logits = model(words, lengths)
                loss_sum += ce(logits, labels).item()
                correct += int((logits.argmax(1) == labels).sum())
        return loss_sum / len(items), correct / len(items)

    return train_loop(args, model, optim, sched, train_items, tensors, None, evaluate, dev_items, test_items, "accuracy")


def classifier_loss(model, batch_tensors, _, __):
    words, labels, lengths = batch_tensors
    return nn.functional.cross_entropy(model(words, lengths), labels)


# ---------------------------------------------------------------- shared loop

def train_loop(args, model, optim, sched, train_items, tensors, rare_from, evaluate, dev_items, test_items, metric):
    loss_fn = tagger_loss if args.task == "tagger" else classifier_loss
    rng = random.Random(args.seed)
    epochs = []
    best = (-1.0, 0, None)  # (dev score, epoch, weights): the epoch kept, as seqlab keeps it
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        total, steps = 0.0, 0
        for batch in bucket_batches([len(it[0]) for it in train_items], 32, rng):
            loss = loss_fn(model, tensors([train_items[i] for i in batch]), rare_from, args.loss_mean == "sentence")
            optim.zero_grad()
            loss.backward()
            if args.clip_norm:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
            optim.step()
            sched.step()
            if args.task == "tagger":
                model.restrict()
            total += loss.item()
            steps += 1
        train_seconds = time.perf_counter() - start
        valid_loss, valid_score = evaluate(dev_items)
        seconds = time.perf_counter() - start
        if valid_score > best[0]:
            best = (valid_score, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        epochs.append({"epoch": epoch, "seconds": seconds, "train_seconds": train_seconds, "train_loss": total / steps,
                       "valid_loss": valid_loss, "valid_" + metric.replace(" ", "_"): valid_score,
                       "sentences_per_second": len(train_items) / seconds})
        print(f"epoch {epoch}: {seconds:.1f} s (training {train_seconds:.1f} s), {len(train_items) / seconds:.0f} sentences/s, "
              f"train loss {total / steps:.4f}, valid loss {valid_loss:.4f}, valid {metric} {valid_score:.4f}", flush=True)
    model.load_state_dict(best[2])
    start = time.perf_counter()
    _, test_score = evaluate(test_items)
    test_seconds = time.perf_counter() - start
    print(f"kept epoch {best[1]}: valid {metric} {best[0]:.4f}, test {metric} {test_score:.4f} ({test_seconds:.1f} s)")
    summary = {"twin": "pytorch", "task": args.task, "device": str(DEVICE), "torch": torch.__version__, "threads": torch.get_num_threads(),
               "epochs": epochs, "kept_epoch": best[1], "valid_" + metric.replace(" ", "_"): best[0],
               "test_seconds": test_seconds, "test_" + metric.replace(" ", "_"): test_score,
               "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if args.json:
        print(json.dumps(summary))
    return summary


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("task", choices=["tagger", "classifier"])
    p.add_argument("--data", required=True, help="the shared data folder ($SEQLAB_DATA)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--schedule-epochs", type=int, default=None,
                   help="the cosine schedule's length in epochs [default: --epochs, as seqlab's --epochs sets it]")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU twin")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json", action="store_true")
    p.add_argument("--loss-mean", choices=["token", "sentence"], default="token",
                   help="the tagger's loss: the CRF negative log-likelihood over the batch's tokens or sentences")
    p.add_argument("--schedule", choices=["constant", "cosine"], default="constant",
                   help="the classifier's learning-rate schedule (the tagger's is cosine)")
    p.add_argument("--clip-norm", type=float, default=None, help="clip_grad_norm_ to this global norm [default: none]")
    p.add_argument("--adam-epsilon", type=float, default=1e-5, help="Adam's eps [default: Burn's 1e-5]")
    args = p.parse_args()
    args.schedule_epochs = args.schedule_epochs or args.epochs
    torch.set_num_threads(args.threads)
    global DEVICE
    DEVICE = torch.device(args.device)
    (run_tagger if args.task == "tagger" else run_classifier)(args)


if __name__ == "__main__":
    main()
