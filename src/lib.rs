//! seqlab: the workspace's root package. It holds the workspace-level integration tests
//! (`tests/integration`) and compiles the Rust examples of the documentation as doctests, so
//! that what the manual shows is code that builds and runs.

/// The examples of `docs/layers.md` (the layer API, the CRF, PyTorch weights).
#[cfg(doctest)]
#[doc = include_str!("../docs/layers.md")]
pub struct LayersDoc;
