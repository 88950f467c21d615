//! The command line of `predict`.

use std::path::PathBuf;

use clap::Parser;
use seqlab_datasets::text::{Encoding, Tokenizer};

use crate::cli::{by_name, size};
use crate::predict::{InputFormat, StreamOptions};

/// Predict with a trained model. Texts come from the arguments, from --input FILE or from stdin
/// (one per line), read as a stream: answers are written window by window as soon as each is
/// done, so any amount of text goes through in bounded memory. A classifier prints the label
/// and the probability of every label; a tagger prints each token with its tag, then the
/// entities with their confidence and their characters in the line (and with --nbest, the K
/// best taggings). Raw text is tokenised as the model's training run recorded (or with
/// --tokenizer); with --json every answer names the line it answers (blank lines get none).
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
    #[arg(long, value_name = "K", default_value_t = 0, value_parser = size(0..=1000))]
    pub nbest: usize,
    /// How the input's bytes are decoded: utf8 (strict: an invalid byte is an error naming the
    /// line), latin1 or windows-1252.
    #[arg(long, default_value = "utf8", value_parser = by_name::<Encoding>("encoding"))]
    pub encoding: Encoding,
    /// Read texts from this file instead of stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "texts")]
    pub input: Option<PathBuf>,
    /// The input: text (one text per line) or conll (taggers: one token per line, blank lines
    /// between sentences; the output is the same file with the predicted tag appended as the
    /// last column, ready for conlleval).
    #[arg(long, default_value = "text", value_parser = by_name::<InputFormat>("format"))]
    pub format: InputFormat,
    /// Texts per window: each window is predicted (in length-sorted batches of at most 256
    /// texts and 8,192 padded tokens) and written before the next is read on; the first window
    /// holds at most 256, so the first answers come at once.
    #[arg(long, alias = "batch-size", default_value_t = 2048, value_parser = size(1..=1_000_000))]
    pub window: usize,
    /// Read raw text with this tokenizer instead of the model's: whitespace, basic, ptb or
    /// words (a warning says when it differs from the model's).
    #[arg(long, value_parser = by_name::<Tokenizer>("tokenizer"))]
    pub tokenizer: Option<Tokenizer>,
    /// Taggers: cut each line (a paragraph) into sentences first, each tagged on its own;
    /// tokens and entities still count from the line's start.
    #[arg(long)]
    pub sentences: bool,
    /// Texts, raw [default: --input or stdin, one per line; blank lines are skipped].
    pub texts: Vec<String>,
}

impl Args {
    /// How the input is answered.
    pub fn options(&self) -> StreamOptions {
        StreamOptions {
            tokenizer: self.tokenizer,
            sentences: self.sentences,
            window: self.window,
            json: self.json,
            nbest: self.nbest,
            format: self.format,
            encoding: self.encoding,
        }
    }
}
