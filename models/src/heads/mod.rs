//! Task heads: a whole model from token ids to logits, rebuilt from a serialisable config.

pub mod chars;
pub mod encoder;
pub mod sequence;
pub mod token;

pub use chars::{CharCnn, CharCnnConfig, CharLstm, CharLstmConfig};
pub use encoder::{Encoder, EncoderConfig, EncoderKind};
pub use sequence::{SequenceClassifier, SequenceClassifierConfig};
pub use token::{FeatureEmbeddingConfig, TokenClassifier, TokenClassifierConfig};
