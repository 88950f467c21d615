//! Named-entity recognition data: tag schemes and CoNLL column files.

pub mod scheme;

pub use scheme::{Span, TagScheme};
