//! Tests of `seqlab-datasets` that need files, real corpora or a backend.

mod bad_input;
mod batching;
mod embedded;
mod encoded;
mod formats;
mod fuzz;
mod records;
mod shared_corpora;
