//! # seqlab-datasets
//!
//! Loaders for sentiment and NER corpora, tag schemes, vocabularies and batching.
//! Independent of `seqlab-models`: batches are plain tensors.

pub mod error;
pub mod ner;
pub mod text;

pub use error::DataError;
