//! `export`: a trained model's weights as a PyTorch-readable safetensors file.
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::export::Args;
use seqlab_training::backend;

fn main() -> ExitCode {
    seqlab_bins::malloc::bound_threads();
    let args = Args::parse();
    match backend::export(&args.artifacts, &args.out, &backend::Device::default()) {
        Ok(exported) => {
            let values: usize = exported.tensors.values().map(|t| t.values.len()).sum();
            println!(
                "wrote {} ({}, {} tensors, {values} values)",
                args.out.display(),
                exported.model,
                exported.tensors.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
