//! Tests of `seqlab-models`.

mod activations;
mod gradcheck;
mod heads;
mod import;
mod padding;
mod parity;
