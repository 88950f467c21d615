//! Every command's options, as clap parsers (in the library, so that tests can check them).

pub mod bench;
pub mod cluster_bench;
pub mod evaluate;
pub mod export;
pub mod grad_flow;
pub mod load_test;
pub mod predict;
pub mod quantize;
pub mod serve;
pub mod train_classifier;
pub mod train_tagger;
pub mod training;
