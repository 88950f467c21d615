//! The command line of `predict`.

use clap::Parser;
use std::path::PathBuf;

/// Predict with a trained model. Texts come from the arguments, or from stdin (one per line).
/// A classifier prints the label and the probability of every label; a tagger prints each
/// token with its tag, then the entities with their confidence (and with --nbest, the K best
/// taggings). Raw text is tokenised as the model's training data was.
#[derive(Parser, Debug)]
#[command(name = "predict", version)]
pub struct Args {
    /// The artifacts folder of a training run.
    #[arg(long)]
    pub artifacts: PathBuf,
    /// One JSON object per text instead of text output (a tagger's entities carry their
    /// confidence).
    #[arg(long)]
    pub json: bool,
    /// A CRF tagger: also give the K best taggings of each sentence with their probabilities.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub nbest: usize,
    /// How stdin's bytes are decoded: utf8 (strict: an invalid byte is an error naming the
    /// line), latin1 or windows-1252.
    #[arg(long, default_value = "utf8", value_parser = crate::cli::by_name::<seqlab_datasets::text::Encoding>("encoding"))]
    pub encoding: seqlab_datasets::text::Encoding,
    /// Texts, raw [default: stdin, one per line; blank lines are skipped].
    pub texts: Vec<String>,
}
