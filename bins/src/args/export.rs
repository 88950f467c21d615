//! The command line of `export`.

use std::path::PathBuf;

use clap::Parser;

/// Export a trained model's weights to PyTorch: a safetensors file with PyTorch's parameter
/// names and layouts (`weight_ih_l0`, `bias_hh_l1_reverse`, …, gates in PyTorch's order) and
/// the model's config in its metadata. `scripts/pytorch_from_export.py FILE` rebuilds the
/// network in PyTorch from it.
#[derive(Parser, Debug)]
#[command(name = "export", version)]
pub struct Args {
    /// The artifacts folder of a training run.
    #[arg(long)]
    pub artifacts: PathBuf,
    /// The safetensors file to write.
    #[arg(long, value_name = "FILE.safetensors")]
    pub out: PathBuf,
}
