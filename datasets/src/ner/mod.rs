//! Named-entity recognition data: CoNLL column files and tag schemes.

pub mod conll;
pub mod detect;
pub mod records;
pub mod scheme;

pub use conll::{parse_conll, read_conll, ConllFile, ConllOptions, Sentence};
pub use detect::{detect_scheme, SchemeEvidence};
pub use scheme::{allowed_transition, convert, spans, spans_strict, validate, Span, TagScheme, Violation};
