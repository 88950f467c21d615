//! `quantize`: a trained model's folder rewritten with int8 weights.
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::quantize::{Args, Dtype};
use seqlab_training::backend;
use seqlab_training::{note, say};

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    let args = Args::parse();
    let Dtype::Int8 = args.dtype;
    match backend::quantize(&args.artifacts, &args.out, &backend::Device::default()) {
        Ok(q) => {
            let ratio = q.bytes_before as f64 / q.bytes_after.max(1) as f64;
            say!(
                "wrote {} (int8): model files {:.1} MB → {:.1} MB ({ratio:.1}× smaller)",
                q.out.display(),
                q.bytes_before as f64 / 1e6,
                q.bytes_after as f64 / 1e6
            );
            seqlab_bins::cli::output_status()
        }
        Err(e) => {
            note!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
