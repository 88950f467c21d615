//! The command line of `evaluate`.

use clap::Parser;
use std::path::PathBuf;

/// Evaluate a trained model on a file: accuracy and macro-F1 for a classifier; entity-level
/// precision, recall and F1 (per type, strict F1, token accuracy) for a tagger.
#[derive(Parser, Debug)]
#[command(name = "evaluate", version)]
pub struct Args {
    /// The artifacts folder of a training run.
    #[arg(long)]
    pub artifacts: PathBuf,
    /// The file to score (or an embedded corpus such as embedded:ner/test).
    #[arg(long)]
    pub test: String,
    /// Print JSON (the same keys as metrics.json).
    #[arg(long)]
    pub json: bool,
    /// Also write report.html (self-contained: metrics, confusion heat maps, the errors, the
    /// model and data it is about) and report.json into this folder.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// How the file's bytes are decoded: utf8, latin1 or windows-1252 [default: as in training].
    #[arg(long, value_parser = crate::cli::by_name::<seqlab_datasets::text::Encoding>("encoding"))]
    pub encoding: Option<seqlab_datasets::text::Encoding>,
    /// A classifier's CSV/TSV text column or JSON Lines/Parquet text field [default: as in training].
    #[arg(long)]
    pub text_column: Option<String>,
    /// A classifier's CSV/TSV label column or JSON Lines/Parquet label field [default: as in training].
    #[arg(long)]
    pub label_column: Option<String>,
}
