//! Linear layers with a fast path on ndarray: the same function as `burn::nn::Linear::forward`
//! (`x W + b` over the last dimension), with its gradients.
//!
//! burn-ndarray 0.21 multiplies through a reshape that copies any operand not already in the
//! layout it wants (in training, the transposes of the backward pass every step), fills each
//! result with zeros first and multiplies with `matrixmultiply`; in a CoNLL-2003 epoch the tag
//! layer's and the character CNN's products spent as much time in those copies and fills as
//! in arithmetic. On `NdArray<f32>` and `Autodiff<NdArray<f32>>` the products here run on the
//! `gemm` crate ([`crate::recurrent::kernel::gemm`]) straight from the tensors' buffers; on the
//! latter the layer is one autodiff node whose backward pass computes `∂x = ∂y Wᵀ`,
//! `∂W = xᵀ ∂y` and `∂b = Σ ∂y`. Every other backend, and a layer without a bias, runs Burn's
//! own.

use burn::nn::Linear;
use burn::tensor::{backend::Backend, Tensor};

/// `layer` applied to `x` over its last dimension.
///
/// - `x`: `[..., d_input]`.
/// - returns: `[..., d_output]`.
pub fn forward<B: Backend, const D: usize>(layer: &Linear<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    #[cfg(feature = "ndarray")]
    {
        use crate::backends::{known, Known};
        use crate::flat::cast;
        let weight = layer.weight.val();
        if let Some(bias) = &layer.bias {
            let f32s = weight.dtype() == burn::tensor::DType::F32 && x.dtype() == burn::tensor::DType::F32;
            let bias = bias.val();
            match known::<B>() {
                Some(Known::AutodiffNdArrayF32) if f32s => {
                    return cast(fast::autodiff::<D>(cast(x), cast(weight), cast(bias)));
                }
                Some(Known::NdArrayF32) if f32s => return cast(fast::plain::<D>(cast(x), cast(weight), cast(bias))),
                _ => {}
            }
        }
    }
    layer.forward(x)
}

#[cfg(feature = "ndarray")]
mod fast {
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::ndarray::{NdArrayDevice, NdArrayTensor};
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::{Tensor, TensorPrimitive};

    use crate::flat;
    use crate::recurrent::kernel::gemm::{matmul, View};

    type X = NdArray<f32>;
    type Ad = Autodiff<X>;

    /// Calls `f` with the values of a tensor of rank `N` in row-major order: its own buffer
    /// where it is contiguous, else a copy.
    fn with_values<const N: usize, R>(tensor: &NdArrayTensor, f: impl FnOnce(&[f32]) -> R) -> R {
        if let NdArrayTensor::F32(storage) = tensor {
            if let Some(values) = storage.view().as_slice() {
                return f(values);
            }
        }
        let copy: Tensor<X, N> = Tensor::from_primitive(TensorPrimitive::Float(tensor.clone()));
        f(&flat::to_vec::<X, f32, N>(copy))
    }

    /// `x W + b` for the `rows` rows of `x` (rank `D`, `[..., d_in]`), `W` `[d_in, d_out]`,
    /// `b` `[d_out]`.
    fn product<const D: usize>(
        x: &NdArrayTensor,
        weight: &NdArrayTensor,
        bias: &NdArrayTensor,
        rows: usize,
        dims: [usize; 2],
    ) -> Vec<f32> {
        let [d_in, d_out] = dims;
        let mut out = Vec::with_capacity(rows * d_out);
        with_values::<1, _>(bias, |b| (0..rows).for_each(|_| out.extend_from_slice(b)));
        with_values::<D, _>(x, |x| {
            with_values::<2, _>(weight, |w| {
                matmul(&mut out, View::rows(rows, d_out), true, x, View::rows(rows, d_in), w, View::rows(d_in, d_out));
            });
        });
        out
    }

    /// The output's shape: `x`'s with its last dimension `d_out`, and the rows before it.
    fn shape<const D: usize>(x: [usize; D], d_out: usize) -> ([usize; D], usize) {
        let mut out = x;
        out[D - 1] = d_out;
        (out, x[..D - 1].iter().product())
    }

    pub(super) fn plain<const D: usize>(x: Tensor<X, D>, weight: Tensor<X, 2>, bias: Tensor<X, 1>) -> Tensor<X, D> {
        let device = x.device();
        let dims = weight.dims();
        let (out_shape, rows) = shape(x.dims(), dims[1]);
        let [x, weight, bias] =
            [x.into_primitive().tensor(), weight.into_primitive().tensor(), bias.into_primitive().tensor()];
        flat::from_vec::<X, f32, D>(product::<D>(&x, &weight, &bias, rows, dims), out_shape, &device)
    }

    pub(super) fn autodiff<const D: usize>(
        x: Tensor<Ad, D>,
        weight: Tensor<Ad, 2>,
        bias: Tensor<Ad, 1>,
    ) -> Tensor<Ad, D> {
        let device = x.device();
        let dims = weight.dims();
        let x_shape = x.dims();
        let (out_shape, rows) = shape(x_shape, dims[1]);
        let [x, weight, bias] =
            [x.into_primitive().tensor(), weight.into_primitive().tensor(), bias.into_primitive().tensor()];
        let values = product::<D>(&x.primitive, &weight.primitive, &bias.primitive, rows, dims);
        let out = flat::from_vec::<X, f32, D>(values, out_shape, &device).into_primitive().tensor();
        let parents = [x.node.clone(), weight.node.clone(), bias.node.clone()];
        let out = match Product::<D>.prepare::<NoCheckpointing>(parents).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let state = ProductState { x: x.primitive, weight: weight.primitive, x_shape, rows, dims, device };
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(out),
        };
        Tensor::from_primitive(TensorPrimitive::Float(out))
    }

    /// The layer's node for an input of rank `D`: its parents are `x`, `W` and `b`.
    #[derive(Debug)]
    struct Product<const D: usize>;

    #[derive(Debug, Clone)]
    struct ProductState<const D: usize> {
        x: NdArrayTensor,
        weight: NdArrayTensor,
        x_shape: [usize; D],
        rows: usize,
        /// `[d_in, d_out]`.
        dims: [usize; 2],
        device: NdArrayDevice,
    }

    impl<const D: usize> Backward<X, 3> for Product<D> {
        type State = ProductState<D>;

        fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
            let grad = grads.consume::<X>(&ops.node);
            let ProductState { x, weight, x_shape, rows, dims: [d_in, d_out], device } = ops.state;
            let [x_node, weight_node, bias_node] = &ops.parents;
            let grad_view = View::rows(rows, d_out);
            with_values::<D, _>(&grad, |dy| {
                if let Some(node) = x_node {
                    // ∂x = ∂y Wᵀ
                    let mut dx = vec![0.0f32; rows * d_in];
                    with_values::<2, _>(&weight, |w| {
                        matmul(&mut dx, View::rows(rows, d_in), false, dy, grad_view, w, View::rows(d_in, d_out).t());
                    });
                    let dx = flat::from_vec::<X, f32, D>(dx, x_shape, &device);
                    grads.register::<X>(node.id, dx.into_primitive().tensor());
                }
                if let Some(node) = weight_node {
                    // ∂W = xᵀ ∂y
                    let mut dw = vec![0.0f32; d_in * d_out];
                    with_values::<D, _>(&x, |x| {
                        matmul(&mut dw, View::rows(d_in, d_out), false, x, View::rows(rows, d_in).t(), dy, grad_view);
                    });
                    let dw = flat::from_vec::<X, f32, 2>(dw, [d_in, d_out], &device);
                    grads.register::<X>(node.id, dw.into_primitive().tensor());
                }
                if let Some(node) = bias_node {
                    // ∂b = Σ_rows ∂y
                    let mut db = vec![0.0f32; d_out];
                    for row in dy.chunks_exact(d_out) {
                        db.iter_mut().zip(row).for_each(|(s, g)| *s += g);
                    }
                    let db = flat::from_vec::<X, f32, 1>(db, [d_out], &device);
                    grads.register::<X>(node.id, db.into_primitive().tensor());
                }
            });
        }
    }
}
