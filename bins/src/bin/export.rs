//! `export`: a trained model as a safetensors file for PyTorch or as one ONNX file.
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::export::Args;
use seqlab_training::backend;
use seqlab_training::export::Format;
use seqlab_training::{note, say};

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    let args = Args::parse();
    let written = Format::resolve(args.format, &args.out)
        .and_then(|format| backend::export(&args.artifacts, &args.out, format, &backend::Device::default()));
    match written {
        Ok(exported) => {
            say!(
                "wrote {} ({} {}, {} bytes: {})",
                args.out.display(),
                exported.model,
                <&str>::from(exported.format),
                exported.bytes,
                exported.summary
            );
            seqlab_bins::cli::output_status()
        }
        Err(e) => {
            note!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
