//! What the `seqlab` command-line tools share: every command's options ([`args`]), the learner's
//! options ([`cli`]), `--config` files ([`config_file`]), the allocator settings every tool starts with
//! ([`malloc`]), the benchmark behind `bench` ([`bench`]), and `predict`'s streaming ([`predict`]).

pub mod args;
pub mod bench;
pub mod cli;
pub mod config_file;
pub mod malloc;
pub mod predict;
