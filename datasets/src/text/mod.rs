//! Text processing: decoding, tokenisation, vocabularies.

pub mod encoding;

pub use encoding::{read_text, Encoding};
