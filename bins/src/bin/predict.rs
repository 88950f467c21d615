//! `predict`: a trained model's answers for raw text, streamed (`seqlab_bins::predict`).
#![recursion_limit = "256"]

use std::io::{BufReader, BufWriter};
use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::predict::Args;
use seqlab_bins::predict::{answer_texts, open_input, progress_bar, stream, tokenizer_warning, StreamError, Streamed};
use seqlab_training::backend;
use seqlab_training::note;

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    seqlab_bins::cli::warn_former_names("predict");
    let args = Args::parse();
    match run(&args) {
        Ok(done) if done.texts == 0 => {
            note!("no text to predict (give texts as arguments, --input FILE, or lines on stdin)");
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            let (status, message) = e.exit();
            message.iter().for_each(|m| note!("{m}"));
            ExitCode::from(status)
        }
    }
}

fn run(args: &Args) -> Result<Streamed, StreamError> {
    // Started with standard output closed (`>&-`): every answer would vanish without a word.
    if let Some(lost) = seqlab_training::console::stdout_lost() {
        return Err(StreamError::Other(format!("standard output: {}", lost.message)));
    }
    let device = backend::Device::default();
    let loaded = backend::load(&args.artifacts, &device).map_err(|e| e.to_string())?;
    let options = args.options();
    if let Some(warning) = tokenizer_warning(&loaded, options.tokenizer) {
        note!("warning: {warning}");
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    if !args.texts.is_empty() {
        answer_texts(&loaded, &args.texts, &mut out, &options, &device)?;
        return Ok(Streamed { texts: args.texts.len(), lines: 0 });
    }
    let bar = progress_bar();
    let show = |done: &Streamed| bar.set_position(done.texts as u64);
    let done = match &args.input {
        Some(path) => {
            let file = open_input(path)?;
            stream(&loaded, BufReader::new(file), &mut out, &options, &device, show)
        }
        None => stream(&loaded, BufReader::new(std::io::stdin()), &mut out, &options, &device, show),
    };
    bar.finish_and_clear();
    done
}
