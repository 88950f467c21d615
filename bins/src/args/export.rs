//! The command line of `export`.

use std::path::PathBuf;

use clap::Parser;
use seqlab_training::export::Format;

use crate::cli::by_name;

/// Export a trained model for other tools.
///
/// safetensors (the default): the weights with PyTorch's parameter names and layouts
/// (`weight_ih_l0`, `bias_hh_l1_reverse`, …, gates in PyTorch's order) and the model's config
/// in the file's metadata; `scripts/pytorch_from_export.py FILE` rebuilds the network in
/// PyTorch from it.
///
/// onnx (`--format onnx`, or an `--out` ending in `.onnx`): the whole model in one file, ONNX
/// opset 17 — embeddings, character encoder, recurrent layers as ONNX's LSTM/GRU/RNN, the
/// output layer and, for a CRF tagger, Viterbi decoding — whose outputs are tag or class ids
/// and their scores. docs/onnx.md gives its inputs and a Python example.
#[derive(Parser, Debug)]
#[command(name = "export", version)]
pub struct Args {
    /// The artifacts folder of a training run.
    #[arg(long)]
    pub artifacts: PathBuf,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// What to write [default: onnx for an --out ending in .onnx, else safetensors]; a format
    /// that --out's extension contradicts is refused.
    #[arg(long, value_parser = by_name::<Format>("format"))]
    pub format: Option<Format>,
}
