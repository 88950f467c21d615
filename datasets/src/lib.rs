//! # seqlab-datasets
//!
//! Loaders for sentiment and NER corpora, tag schemes, vocabularies and batching.
//! Independent of `seqlab-models`: batches are plain tensors.
//!
//! - [`sentiment`]: GLUE/SST-2 TSV, CSV/TSV, JSON Lines, IMDB-style folders.
//! - [`parquet`]: Parquet files (labelled texts or tagged sentences, by their columns).
//! - [`ner`]: CoNLL column files, tagged JSON Lines records; IOB1, IOB2 and IOBES tag schemes, spans, conversion,
//!   validation.
//! - [`text`]: encodings, tokenizer, vocabularies, casing feature, pretrained vectors.
//! - [`labels`]: label and tag maps.
//! - [`format`]: format names and inference.
//! - [`holdout`]: validation data as a file or a seeded share held out of the training file.
//! - [`batch`]: Burn batchers, length bucketing.
//! - [`ids`]: examples to ids; [`encoded`]: corpora as memory-mapped arrays of ids.
//! - reading: [`stream_corpus`], the one reader (a corpus in parts, parsed in parallel, from
//!   [`chunks`]), and [`read_corpus`], [`read_labelled`], [`read_tagged_any`]: the parts
//!   collected; [`ReadOptions`] and [`Corpus`], what a read is asked and gives.
//! - [`embedded`]: the synthetic default corpora; [`Source`]: an embedded corpus or a path, as
//!   a user names it.
//! - [`longdep`]: the long-dependency task of the vanishing-gradient lab.
//! - [`stats`]: corpus statistics (`dataset-stats`).
//! - [`Task`]: classification or tagging, the one type that tells the two apart.
//!
//! Every error is a [`DataError`] naming the file and, where there is one, the line.

pub mod batch;
pub mod chunks;
mod corpus;
pub mod embedded;
pub mod encoded;
pub mod error;
pub mod format;
pub mod holdout;
pub mod ids;
pub mod labels;
pub mod longdep;
pub mod ner;
pub mod parquet;
mod read;
pub mod regular;
pub mod sentiment;
mod source;
pub mod stats;
mod stream;
mod task;
pub mod text;

pub use corpus::{not_conll, read_corpus, read_labelled, read_tagged, read_tagged_any, tagged_format, LabelledTexts};
pub use error::DataError;
pub use format::{infer_format, Format};
pub use holdout::{Holdout, Validation};
pub use labels::LabelMap;
pub use read::{tokenizer_for, Corpus, ReadCorpus, ReadOptions};
pub use source::{Embedded, Source};
pub use stream::{stream_corpus, stream_corpus_in, Streamed};
pub use task::Task;
