//! What the `seqlab` command-line tools share: every command's options ([`args`]), the learner's
//! options and `--config` files ([`cli`]), and the allocator settings every tool starts with.

pub mod args;
pub mod cli;
pub mod malloc;
