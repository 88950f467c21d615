//! Tensors as flat row-major buffers and back: the input and output of the CPU kernel
//! ([`crate::recurrent::kernel`]) and of the training crate's fused Adam.
//!
//! `Tensor::into_data` hands a tensor's buffer over without a copy when the tensor is held
//! once; when it is also held elsewhere (a parameter, a tensor the autodiff graph keeps),
//! burn-ndarray 0.21 copies it element by element through a generic iterator — for a 2-million
//! value embedding, longer than the optimiser step itself. [`to_vec`] copies such tensors with
//! one `memcpy` instead (on ndarray; other backends go through `into_data`).

use std::any::Any;

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
