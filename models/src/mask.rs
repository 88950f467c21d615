//! Masks for right-padded batches, built from per-sequence lengths.

use burn::tensor::{backend::Backend, FloatDType, Int, Tensor};

/// `1.0` at real positions and `0.0` at padding: `mask[b, t] = (t < lengths[b])`.
///
/// - `lengths`: `[batch]`, each in `0..=seq_len`.
/// - `dtype`: the float type of the mask (that of the tensors it will multiply).
/// - returns: `[batch, seq_len]`.
pub fn length_mask<B: Backend>(
    lengths: Tensor<B, 1, Int>,
    seq_len: usize,
    dtype: impl Into<FloatDType>,
) -> Tensor<B, 2> {
    let [batch] = lengths.dims();
    let device = lengths.device();
    let steps = Tensor::<B, 1, Int>::arange(0..seq_len as i64, &device).reshape([1, seq_len]).expand([batch, seq_len]);
    let lengths = lengths.reshape([batch, 1]).expand([batch, seq_len]);
    steps.lower(lengths).cast(dtype.into())
}
