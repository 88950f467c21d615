//! `evaluate`: scores a saved model (an artifacts folder of `train-classifier` or
//! `train-tagger`) on any file in its training format.
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use seqlab_training::backend::{self, Inner};
use seqlab_training::inference::{evaluate, load, Evaluation, Loaded};

/// Evaluate a trained model on a file: accuracy and macro-F1 for a classifier; entity-level
/// precision, recall and F1 (per type, strict F1, token accuracy) for a tagger.
#[derive(Parser, Debug)]
#[command(name = "evaluate", version)]
struct Args {
    /// The artifacts folder of a training run.
    #[arg(long)]
    artifacts: PathBuf,
    /// The file to score (or an embedded corpus such as embedded:ner/test).
    #[arg(long)]
    test: String,
    /// Print JSON (the same keys as metrics.json).
    #[arg(long)]
    json: bool,
    /// How the file's bytes are decoded: utf8, latin1 or windows-1252 [default: as in training].
    #[arg(long, value_parser = seqlab_bins::cli::parse_encoding)]
    encoding: Option<seqlab_datasets::text::Encoding>,
    /// A classifier's CSV/TSV text column or JSON Lines text field [default: as in training].
    #[arg(long)]
    text_column: Option<String>,
    /// A classifier's CSV/TSV label column or JSON Lines label field [default: as in training].
    #[arg(long)]
    label_column: Option<String>,
}

fn main() -> ExitCode {
    seqlab_bins::malloc::tune_for_tensors();
    let args = Args::parse();
    let device = backend::Device::default();
    let result = load::<Inner>(&args.artifacts, &device).and_then(|mut loaded| {
        match &mut loaded {
            Loaded::Classifier(c) => {
                c.run.encoding = args.encoding.unwrap_or(c.run.encoding);
                c.run.text_column = args.text_column.clone().or(c.run.text_column.take());
                c.run.label_column = args.label_column.clone().or(c.run.label_column.take());
            }
            Loaded::Tagger(t) => t.run.encoding = args.encoding.unwrap_or(t.run.encoding),
        }
        evaluate(&loaded, &args.test, &device)
    });
    match result {
        Ok(evaluation) if args.json => {
            println!("{}", serde_json::to_string_pretty(&evaluation).unwrap());
            ExitCode::SUCCESS
        }
        Ok(Evaluation::Classifier(s)) => {
            println!("accuracy {:.4}  macro-F1 {:.4}  ({} examples)", s.accuracy, s.macro_f1, s.examples);
            ExitCode::SUCCESS
        }
        Ok(Evaluation::Tagger(s)) => {
            println!("entity P {:.4}  R {:.4}  F1 {:.4}  (strict F1 {:.4}, token accuracy {:.4})", s.precision, s.recall, s.f1, s.strict_f1, s.token_accuracy);
            for (kind, p) in &s.per_type {
                println!("  {kind:<6} P {:.4}  R {:.4}  F1 {:.4}  support {}", p.precision, p.recall, p.f1, p.support);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
