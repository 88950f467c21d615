//! Bag-of-embeddings pooling: the order-blind text encoder that the course contrasts with RNNs.

use burn::config::Config;
use burn::tensor::{backend::Backend, Int, Tensor};

use crate::mask::length_mask;

/// How a sequence of vectors `[batch, seq, d]` becomes one vector `[batch, d]`.
///
/// Command-line names: `last`, `mean`, `max` (parsed with `str::parse`).
#[derive(Config, Debug, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum Pooling {
    /// The final state of the recurrent encoder (for a bidirectional one, the final forward
    /// state concatenated with the final backward state). For a bag of embeddings, the mean.
    Last,
    /// The mean over the real (unpadded) positions.
    Mean,
    /// The element-wise maximum over the real (unpadded) positions.
    Max,
}

/// Pools embeddings over the real tokens of each sequence, ignoring padding.
///
/// Word order plays no part: `"not good"` and `"good not"` give the same vector. Followed by an
/// [`Ffn`](crate::Ffn) this is the bag-of-embeddings baseline.
#[derive(Debug, Clone, Copy)]
pub struct BagOfEmbeddings {
    /// Mean or max ([`Pooling::Last`] is treated as mean).
    pub pooling: Pooling,
}

impl BagOfEmbeddings {
    /// Pools `x` over its real positions.
    ///
    /// - `x`: `[batch, seq, d]`.
    /// - `lengths`: `[batch]`; `None` means every position is real.
    /// - returns: `[batch, d]`. A sequence of length 0 gives zeros.
    pub fn forward<B: Backend>(&self, x: Tensor<B, 3>, lengths: Option<Tensor<B, 1, Int>>) -> Tensor<B, 2> {
        pool(x, lengths, self.pooling)
    }
}

/// Mean or max of `x: [batch, seq, d]` over the positions `t < lengths[b]`; returns `[batch, d]`.
pub fn pool<B: Backend>(x: Tensor<B, 3>, lengths: Option<Tensor<B, 1, Int>>, pooling: Pooling) -> Tensor<B, 2> {
    let [batch, seq, d] = x.dims();
    match (pooling, lengths) {
        (Pooling::Max, None) => x.max_dim(1).reshape([batch, d]),
        (Pooling::Last | Pooling::Mean, None) => x.mean_dim(1).reshape([batch, d]),
        (Pooling::Max, Some(lengths)) => {
            let mask = length_mask(lengths, seq, x.dtype()).reshape([batch, seq, 1]).expand([batch, seq, d]);
            let pads = mask.clone().equal_elem(0.0);
            // Pads become -inf so they never win; an empty sequence then gives zeros.
            let pooled = x.mask_fill(pads, f32::NEG_INFINITY).max_dim(1).reshape([batch, d]);
            let empty = pooled.clone().equal_elem(f32::NEG_INFINITY);
            pooled.mask_fill(empty, 0.0)
        }
        (Pooling::Last | Pooling::Mean, Some(lengths)) => {
            let mask = length_mask(lengths, seq, x.dtype());
            let count = mask.clone().sum_dim(1).clamp_min(1.0); // [batch, 1]
            let sum = (x * mask.reshape([batch, seq, 1])).sum_dim(1).reshape([batch, d]);
            // A product with 1/count, not a division: the backward of a division by a tensor
            // uses burn-ndarray's approximate, alignment-dependent `recip` (see `crate::loss`).
            sum * count.clone().ones_like().div(count)
        }
    }
}
