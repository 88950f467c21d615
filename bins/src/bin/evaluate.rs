//! `evaluate`: scores a saved model (an artifacts folder of `train-classifier` or
//! `train-tagger`) on any file in its training format, and with `--report DIR` writes an HTML
//! and JSON report of what it gets wrong.
#![recursion_limit = "256"]

use std::process::ExitCode;

use clap::Parser;
use seqlab_bins::args::evaluate::Args;
use seqlab_training::backend;
use seqlab_training::inference::{Evaluation, Loaded};
use seqlab_training::{note, say};

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    let mut args = Args::parse();
    let mut spool = seqlab_bins::spool::Spool::default();
    if let Err(e) = spool.replace(&mut [("--test", Some(&mut args.test))]) {
        note!("error: {e}");
        return ExitCode::FAILURE;
    }
    let device = backend::Device::default();
    let result = backend::load(&args.artifacts, &device).and_then(|mut loaded| {
        match &mut loaded {
            Loaded::Classifier(c) => {
                c.run.encoding = args.encoding.unwrap_or(c.run.encoding);
                c.run.text_column = args.text_column.clone().or(c.run.text_column.take());
                c.run.label_column = args.label_column.clone().or(c.run.label_column.take());
            }
            Loaded::Tagger(t) => t.run.encoding = args.encoding.unwrap_or(t.run.encoding),
        }
        match &args.report {
            Some(dir) => {
                let report = backend::report(&loaded, &args.artifacts, &args.test, &device)?;
                seqlab_training::report::write_report(&report, dir)?;
                note!("wrote {} and report.json", dir.join("report.html").display());
                Ok(report.metrics)
            }
            None => backend::evaluate(&loaded, &args.test, &device),
        }
    });
    match result {
        Ok(evaluation) if args.json => {
            say!("{}", serde_json::to_string_pretty(&evaluation).unwrap());
            seqlab_bins::cli::output_status()
        }
        Ok(Evaluation::Classifier(s)) => {
            say!("accuracy {:.4}  macro-F1 {:.4}  ({} examples)", s.accuracy, s.macro_f1, s.examples);
            seqlab_bins::cli::output_status()
        }
        Ok(Evaluation::Tagger(s)) => {
            say!(
                "entity P {:.4}  R {:.4}  F1 {:.4}  (strict F1 {:.4}, token accuracy {:.4})",
                s.precision,
                s.recall,
                s.f1,
                s.strict_f1,
                s.token_accuracy
            );
            for (kind, p) in &s.per_type {
                say!("  {kind:<6} P {:.4}  R {:.4}  F1 {:.4}  support {}", p.precision, p.recall, p.f1, p.support);
            }
            seqlab_bins::cli::output_status()
        }
        Err(e) => {
            note!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
