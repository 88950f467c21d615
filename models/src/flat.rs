//! Tensors as flat row-major buffers and back: the input and output of the CPU kernel
//! ([`crate::recurrent::kernel`]) and of the training crate's fused Adam.
//!
//! `Tensor::into_data` hands a tensor's buffer over without a copy when the tensor is held
//! once; when it is also held elsewhere (a parameter, a tensor the autodiff graph keeps),
//! burn-ndarray 0.21 copies it element by element through a generic iterator — for a 2-million
//! value embedding, longer than the optimiser step itself. [`to_vec`] copies such tensors with
//! one `memcpy` instead (on ndarray; other backends go through `into_data`). [`values`] reads
//! a tensor's values where they lie, without any copy, for as long as it is kept: the kernel's
//! weights, which a model holds as parameters.

use std::any::Any;
use std::ops::Deref;
use std::sync::Arc;

use burn::tensor::{backend::Backend, Element, Tensor, TensorCreationOptions, TensorData};

/// The values of a float tensor in row-major order, as `F` (which must be the tensor's float
/// type).
///
/// # Panics
/// If `F` is not the tensor's float type.
pub fn to_vec<B: Backend, F: Element, const D: usize>(tensor: Tensor<B, D>) -> Vec<F> {
    #[cfg(feature = "ndarray")]
    let tensor = match shared_ndarray_copy::<B, F, D>(tensor) {
        Ok(values) => return values,
        Err(tensor) => tensor,
    };
    tensor.into_data().into_vec::<F>().expect("the tensor holds values of the requested float type")
}

/// A float tensor's values in row-major order, read-only: either a buffer of its own or, on
/// ndarray, the tensor's own buffer, which it keeps alive (see [`values`]).
pub struct Values<F> {
    /// What owns the values: a `Vec<F>`, or a tensor's storage.
    owner: Arc<dyn Any + Send + Sync>,
    start: *const F,
    len: usize,
}

// SAFETY: a `Values` only reads its values, which its owner (`Send + Sync`) keeps unchanged
// while it lives: a `Vec` nobody else holds, or an ndarray buffer that is copied on write
// while it is shared.
unsafe impl<F: Sync> Send for Values<F> {}
// SAFETY: as above.
unsafe impl<F: Sync> Sync for Values<F> {}

impl<F: Send + Sync + 'static> From<Vec<F>> for Values<F> {
    fn from(values: Vec<F>) -> Self {
        let (start, len) = (values.as_ptr(), values.len());
        // Moving the `Vec` into the `Arc` moves its pointer, not its buffer.
        Self { owner: Arc::new(values), start, len }
    }
}

impl<F: Send + Sync + 'static> Default for Values<F> {
    fn default() -> Self {
        Vec::new().into()
    }
}

impl<F> Deref for Values<F> {
    type Target = [F];

    fn deref(&self) -> &[F] {
        // SAFETY: `start..start + len` lies in the buffer `owner` keeps alive and unchanged.
        unsafe { std::slice::from_raw_parts(self.start, self.len) }
    }
}

impl<F> Clone for Values<F> {
    fn clone(&self) -> Self {
        Self { owner: self.owner.clone(), start: self.start, len: self.len }
    }
}

impl<F: std::fmt::Debug> std::fmt::Debug for Values<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The values of a float tensor in row-major order, as `F` (the tensor's float type): on
/// ndarray, a contiguous tensor's own buffer, kept alive rather than copied (a model's weights,
/// read on every pass); otherwise [`to_vec`]'s copy.
///
/// # Panics
/// If `F` is not the tensor's float type.
pub fn values<B: Backend, F: Element + Send + Sync + 'static, const D: usize>(tensor: Tensor<B, D>) -> Values<F> {
    #[cfg(feature = "ndarray")]
    let tensor = match ndarray_values::<B, F, D>(tensor) {
        Ok(values) => return values,
        Err(tensor) => tensor,
    };
    to_vec::<B, F, D>(tensor).into()
}

/// On ndarray, a contiguous tensor of `F` as [`Values`] over its own buffer; the tensor back
/// otherwise.
#[cfg(feature = "ndarray")]
fn ndarray_values<B: Backend, F: Element + Send + Sync + 'static, const D: usize>(
    tensor: Tensor<B, D>,
) -> Result<Values<F>, Tensor<B, D>> {
    use burn::backend::ndarray::NdArrayTensor;
    use burn::tensor::TensorPrimitive;
    if !crate::backends::ndarray_floats::<B>() {
        return Err(tensor);
    }
    let primitive: NdArrayTensor = cast(tensor.into_primitive().tensor());
    let slice = match &primitive {
        NdArrayTensor::F32(s) if F::dtype() == burn::tensor::DType::F32 => {
            s.view().as_slice().map(|v| (v.as_ptr().cast::<F>(), v.len()))
        }
        NdArrayTensor::F64(s) if F::dtype() == burn::tensor::DType::F64 => {
            s.view().as_slice().map(|v| (v.as_ptr().cast::<F>(), v.len()))
        }
        _ => None,
    };
    match slice {
        // The buffer does not move when the tensor does, and is never written while the
        // tensor is shared (ndarray's `ArcArray` copies on write, borrowed bytes are copied
        // first): `Values` holds it shared until dropped.
        Some((start, len)) => Ok(Values { owner: Arc::new(primitive), start, len }),
        None => Err(Tensor::from_primitive(TensorPrimitive::Float(cast(primitive)))),
    }
}

/// A float tensor of type `F` from row-major `values`.
pub fn from_vec<B: Backend, F: Element, const D: usize>(
    values: Vec<F>,
    shape: [usize; D],
    device: &B::Device,
) -> Tensor<B, D> {
    // The values' float type, not the device's default (which another thread may have set).
    Tensor::from_data(TensorData::new(values, shape), TensorCreationOptions::new(device.clone()).with_dtype(F::dtype()))
}

/// On ndarray, a `memcpy` of a contiguous tensor that is held elsewhere too; the tensor back
/// otherwise (held once, strided, or another backend), for `into_data`.
#[cfg(feature = "ndarray")]
fn shared_ndarray_copy<B: Backend, F: Element, const D: usize>(tensor: Tensor<B, D>) -> Result<Vec<F>, Tensor<B, D>> {
    use burn::backend::ndarray::NdArrayTensor;
    use burn::tensor::TensorPrimitive;
    if !crate::backends::ndarray_floats::<B>() {
        return Err(tensor);
    }
    let primitive: NdArrayTensor = cast(tensor.into_primitive().tensor());
    let copied: Option<Box<dyn Any>> = match &primitive {
        NdArrayTensor::F32(storage) if !storage.is_unique() => {
            storage.view().as_slice().map(|s| Box::new(s.to_vec()) as Box<dyn Any>)
        }
        NdArrayTensor::F64(storage) if !storage.is_unique() => {
            storage.view().as_slice().map(|s| Box::new(s.to_vec()) as Box<dyn Any>)
        }
        _ => None,
    };
    match copied.map(|values| values.downcast::<Vec<F>>()) {
        Some(Ok(values)) => Ok(*values),
        _ => Err(Tensor::from_primitive(TensorPrimitive::Float(cast(primitive)))),
    }
}

/// Moves a value between two names of the same type (checked at run time).
///
/// # Panics
/// If `T` and `U` are different types.
#[cfg_attr(not(any(feature = "ndarray", feature = "wgpu")), allow(dead_code))]
pub(crate) fn cast<T: 'static, U: 'static>(value: T) -> U {
    let mut slot = Some(value);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<U>>()
        .and_then(Option::take)
        .expect("cast between identical types")
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use burn::backend::NdArray;

    use super::*;

    type B = NdArray<f32>;

    /// A model's weight, read twice, is read where it lies both times; the values outlive the
    /// tensor, and a write to the tensor afterwards (in place when the tensor is held once)
    /// leaves them as they were.
    #[test]
    fn values_read_the_tensor_in_place_and_stay_as_read() {
        let device = Default::default();
        let weight = Tensor::<B, 2>::from_floats([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], &device);
        let first = values::<B, f32, 2>(weight.clone());
        let second = values::<B, f32, 2>(weight.clone());
        assert_eq!(*first, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(first.as_ptr(), second.as_ptr(), "both read the tensor's own buffer");
        drop(second);
        let written = weight.add_scalar(10.0);
        assert_eq!(to_vec::<B, f32, 2>(written), [11.0, 12.0, 13.0, 14.0, 15.0, 16.0]);
        assert_eq!(*first, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "the tensor was copied before it was written");
        let copy = first.clone();
        drop(first);
        assert_eq!(*copy, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    /// A strided tensor (a transpose) has no contiguous buffer: its values are copied, in order.
    #[test]
    fn a_strided_tensor_is_copied_in_row_major_order() {
        let device = Default::default();
        let weight = Tensor::<B, 2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
        assert_eq!(*values::<B, f32, 2>(weight.transpose()), [1.0, 3.0, 2.0, 4.0]);
        assert_eq!(*Values::from(vec![7.0f32, 8.0]), [7.0, 8.0]);
    }
}
