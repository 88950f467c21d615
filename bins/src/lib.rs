//! What the `seqlab` command-line tools share: every command's options ([`args`]), the learner's
//! options ([`cli`]), `--config` files ([`config_file`]), what every tool does first
//! ([`startup`], with the allocator settings of [`malloc`]), the benchmark behind `bench`
//! ([`mod@bench`]), `predict`'s streaming ([`predict`]), the HTTP server behind `serve`
//! ([`serve`]) and the load run behind `load-test` ([`load`]).
// The options' doc comments are their `--help` text, shown as written: `<unk>` there is text.
#![allow(rustdoc::invalid_html_tags)]

pub mod args;
pub mod bench;
pub mod cli;
pub mod config_file;
pub mod load;
pub mod malloc;
pub mod predict;
pub mod serve;
pub mod spool;
pub mod startup;
