//! Text processing: decoding, sentences, tokenisation, vocabularies, casing, pretrained vectors.

pub mod counts;
pub mod embeddings;
pub mod encoding;
pub mod sentences;
pub mod tokenizer;
pub mod vocab;

pub use counts::TokenCounts;
pub use embeddings::{load_embeddings, Coverage, PretrainedEmbeddings, WordVectors};
pub use encoding::{decode, read_text, Encoding};
pub use sentences::sentences;
pub use tokenizer::{detect_normalisation, detect_normalisation_of, Normalisation, TokenSpan, Tokenizer};
pub use vocab::{char_vocab, char_vocab_of, Casing, Vocab, VocabConfig, PAD, UNK};
