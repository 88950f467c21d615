//! What the `seqlab` command-line tools share: the learner's options and `--config` files, and
//! the allocator settings every tool starts with.

pub mod cli;
pub mod malloc;
