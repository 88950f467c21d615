//! What the `seqlab` command-line tools share: every command's options ([`args`]), the learner's
//! options and `--config` files ([`cli`]), the allocator settings every tool starts with
//! ([`malloc`]), and the benchmark behind `bench` ([`bench`]).

pub mod args;
pub mod bench;
pub mod cli;
pub mod malloc;
