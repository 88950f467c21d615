//! The command line of `quantize`.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Write a trained model's folder again with int8 weights: a folder that `predict`, `evaluate`
/// and `serve` load like any other, about a quarter of the size, whose recurrent layers compute
/// in int8 on CPUs with Intel AMX or AVX-512 VNNI (weights per output column, activations per
/// row as they run, as PyTorch's dynamic quantisation). Embedding tables are stored in int8 too;
/// biases, small layers and the CRF stay f32.
#[derive(Parser, Debug)]
#[command(name = "quantize", version)]
pub struct Args {
    /// The artifacts folder of a training run.
    #[arg(long)]
    pub artifacts: PathBuf,
    /// The new folder to write (it must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// The number type of the weights.
    #[arg(long, value_enum, default_value_t = Dtype::Int8)]
    pub dtype: Dtype,
}

/// What `--dtype` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dtype {
    /// 8-bit integers with f32 scales.
    Int8,
}
