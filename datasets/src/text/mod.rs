//! Text processing: decoding, tokenisation, vocabularies, casing, pretrained vectors.

pub mod embeddings;
pub mod encoding;
pub mod tokenizer;
pub mod vocab;

pub use embeddings::{load_embeddings, Coverage, PretrainedEmbeddings, WordVectors};
pub use encoding::{decode, read_text, Encoding};
pub use tokenizer::{detect_normalisation, Normalisation, Tokenizer};
pub use vocab::{char_vocab, Casing, Vocab, VocabConfig, PAD, UNK};
