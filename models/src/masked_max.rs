//! The maximum over the real positions of each row, with a fast path on ndarray: the pooling
//! of the character CNN ([`crate::heads::CharCnn`]), where each word's filter responses are
//! maximised over its characters and never over its padding.
//!
//! As Burn tensor operations it is four: padding pushed down by `1e4`, `max_dim`, and a product
//! that zeroes the rows with no real position; on burn-ndarray 0.21 `max_dim` and its backward
//! (a scatter into a zeroed tensor) are costly passes over every character of a batch. On
//! `NdArray<f32>` and `Autodiff<NdArray<f32>>` the same function is one pass over
//! a flat buffer, and on the latter one autodiff node whose backward pass writes each gradient
//! to the position that won the maximum; every other backend runs the tensor operations. Both
//! give the same values and gradients: the first maximum wins ties, as Burn's `argmax` does.

use burn::tensor::{backend::Backend, Tensor};

/// By how much padding is pushed below every real value (the tensor-operation form).
const PADDING_PENALTY: f64 = 1e4;

/// `max_c x[n, c, d]` over the positions `c` with `real[n, c] = 1`, and 0 for rows with none.
///
/// - `x`: `[rows, len, d]`.
/// - `real`: `[rows, len]`, 1 at real positions and 0 at padding.
/// - returns: `[rows, d]`.
///
/// The gradient of each output goes to the position that gave its maximum (the first, on ties);
/// rows with no real position get none.
pub fn masked_max<B: Backend>(x: Tensor<B, 3>, real: Tensor<B, 2>) -> Tensor<B, 2> {
    #[cfg(feature = "ndarray")]
    {
        use crate::backends::{known, Known};
        if x.dtype() == burn::tensor::DType::F32 {
            match known::<B>() {
                Some(Known::AutodiffNdArrayF32) => {
                    return crate::flat::cast(fast::autodiff(crate::flat::cast(x), crate::flat::cast(real)));
                }
                Some(Known::NdArrayF32) => {
                    return crate::flat::cast(fast::plain(crate::flat::cast(x), crate::flat::cast(real)));
                }
                _ => {}
            }
        }
    }
    with_tensor_ops(x, real)
}

/// [`masked_max`] as Burn tensor operations, on any backend.
pub fn with_tensor_ops<B: Backend>(x: Tensor<B, 3>, real: Tensor<B, 2>) -> Tensor<B, 2> {
    let pushed_down = x + (real.clone() - 1.0).unsqueeze_dim(2) * PADDING_PENALTY;
    let max = pushed_down.max_dim(1).squeeze_dim::<2>(1);
    max * real.max_dim(1)
}

#[cfg(feature = "ndarray")]
mod fast {
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::{Tensor, TensorPrimitive};

    use super::PADDING_PENALTY;
    use crate::flat;

    type X = NdArray<f32>;
    type Ad = Autodiff<X>;

    /// The maxima `[rows, d]` and, for each, the position that won it, or `None` for a row with
    /// no real position (its output is then 0 and takes no gradient).
    ///
    /// Every value is computed as the tensor-operation form computes it (padding pushed down by
    /// the same `f32` amount, the first of equal maxima kept, the product by 0 or 1 at the end),
    /// so that the two agree bit for bit.
    fn pool(x: &[f32], real: &[f32], rows: usize, len: usize, d: usize) -> (Vec<f32>, Vec<Option<u32>>) {
        let penalty = PADDING_PENALTY as f32;
        let mut max = vec![0.0f32; rows * d];
        let mut winner = vec![None; rows * d];
        let mut best = vec![0.0f32; d];
        let mut at = vec![0u32; d];
        for n in 0..rows {
            let mask = &real[n * len..(n + 1) * len];
            let has_real = mask.iter().any(|&r| r != 0.0);
            for c in 0..len {
                let shift = (mask[c] - 1.0) * penalty;
                let values = &x[(n * len + c) * d..(n * len + c + 1) * d];
                if c == 0 {
                    for ((b, a), &v) in best.iter_mut().zip(&mut at).zip(values) {
                        *b = v + shift;
                        *a = 0;
                    }
                } else {
                    for ((b, a), &v) in best.iter_mut().zip(&mut at).zip(values) {
                        let v = v + shift;
                        if v > *b {
                            *b = v;
                            *a = c as u32;
                        }
                    }
                }
            }
            let scale = if has_real { 1.0 } else { 0.0 };
            for j in 0..d {
                max[n * d + j] = best[j] * scale;
                winner[n * d + j] = has_real.then_some(at[j]);
            }
        }
        (max, winner)
    }

    fn read(x: Tensor<X, 3>, real: Tensor<X, 2>) -> (Vec<f32>, Vec<f32>, [usize; 3]) {
        let dims = x.dims();
        (flat::to_vec::<X, f32, 3>(x), flat::to_vec::<X, f32, 2>(real), dims)
    }

    pub(super) fn plain(x: Tensor<X, 3>, real: Tensor<X, 2>) -> Tensor<X, 2> {
        let device = x.device();
        let (x, real, [rows, len, d]) = read(x, real);
        let (max, _) = pool(&x, &real, rows, len, d);
        flat::from_vec::<X, f32, 2>(max, [rows, d], &device)
    }

    pub(super) fn autodiff(x: Tensor<Ad, 3>, real: Tensor<Ad, 2>) -> Tensor<Ad, 2> {
        let device = x.device();
        let x = x.into_primitive().tensor();
        let inner: Tensor<X, 3> = Tensor::from_primitive(TensorPrimitive::Float(x.primitive.clone()));
        let (values, real, [rows, len, d]) = read(inner, real.inner());
        let (max, winner) = pool(&values, &real, rows, len, d);
        let out = flat::from_vec::<X, f32, 2>(max, [rows, d], &device).into_primitive().tensor();
        let out = match MaskedMax.prepare::<NoCheckpointing>([x.node.clone()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(MaskedMaxState { winner, shape: [rows, len, d], device }, out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        };
        Tensor::from_primitive(TensorPrimitive::Float(out))
    }

    /// The pooling's node: its one parent is `x` (the mask is not differentiated).
    #[derive(Debug)]
    struct MaskedMax;

    #[derive(Debug, Clone)]
    struct MaskedMaxState {
        winner: Vec<Option<u32>>,
        shape: [usize; 3],
        device: burn::backend::ndarray::NdArrayDevice,
    }

    impl Backward<X, 1> for MaskedMax {
        type State = MaskedMaxState;

        fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
            let grad: Tensor<X, 2> = Tensor::from_primitive(TensorPrimitive::Float(grads.consume::<X>(&ops.node)));
            let MaskedMaxState { winner, shape: [rows, len, d], device } = ops.state;
            let Some(node) = &ops.parents[0] else { return };
            let grad = flat::to_vec::<X, f32, 2>(grad);
            let mut dx = vec![0.0f32; rows * len * d];
            for n in 0..rows {
                for j in 0..d {
                    if let Some(c) = winner[n * d + j] {
                        dx[(n * len + c as usize) * d + j] = grad[n * d + j];
                    }
                }
            }
            let value = flat::from_vec::<X, f32, 3>(dx, [rows, len, d], &device);
            grads.register::<X>(node.id, value.into_primitive().tensor());
        }
    }
}
