//! Every command's options, as clap parsers (in the library, so that tests can check them).

pub mod evaluate;
pub mod export;
pub mod predict;
pub mod train_classifier;
pub mod train_tagger;
