#!/usr/bin/env python3
"""Runs the shared PyTorch reference (../shared/anchors/torch_bilstm_crf.py) with one change of
seqlab's recipe patched in, to see a difference between the two recipes in both
implementations. The reference is run from where it is, never copied.

usage: scripts/anchor_variant.py CHANGE ANCHOR DATA_DIR [the anchor's options...]
  CHANGE: none         the reference as it is
          token-mean   its CRF loss averaged over tokens instead of sentences (seqlab's former default)
          no-clip      no gradient clipping (seqlab's former default)

    cd ../shared/anchors && python3 "$SEQLAB"/scripts/anchor_variant.py token-mean \\
        torch_bilstm_crf.py ../data/conll2003 --epochs 15 --seed 1     # SEQLAB: this checkout
"""
import runpy
import sys

change, anchor, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
if change == "token-mean":
    import torchcrf

    forward = torchcrf.CRF.forward

    def token_mean(self, emissions, tags, mask=None, reduction="sum"):
        return forward(self, emissions, tags, mask, reduction="token_mean" if reduction == "mean" else reduction)

    torchcrf.CRF.forward = token_mean
elif change == "no-clip":
    import torch.nn.utils

    torch.nn.utils.clip_grad_norm_ = lambda parameters, *args, **kwargs: None
elif change != "none":
    sys.exit(f"error: unknown change {change!r}; expected none, token-mean or no-clip")
sys.argv = [anchor, *rest]
runpy.run_path(anchor, run_name="__main__")
