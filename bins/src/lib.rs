//! What the `seqlab` command-line tools share: the learner's options and `--config` files.

pub mod cli;
