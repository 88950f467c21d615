//! `export`: a trained model as a safetensors file for PyTorch or as one ONNX file.
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::export::Args;
use seqlab_training::backend;
use seqlab_training::export::Format;

fn main() -> ExitCode {
    seqlab_bins::malloc::bound_threads();
    let args = Args::parse();
    let written = Format::resolve(args.format, &args.out)
        .and_then(|format| backend::export(&args.artifacts, &args.out, format, &backend::Device::default()));
    match written {
        Ok(exported) => {
            println!(
                "wrote {} ({} {}, {} bytes: {})",
                args.out.display(),
                exported.model,
                <&str>::from(exported.format),
                exported.bytes,
                exported.summary
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
