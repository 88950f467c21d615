//! Int8 models: which weights are kept in int8, and the file that holds them.
//!
//! A model's [`Precision`] is part of its config (`model.json`). An int8 model keeps every large
//! matrix as `i8` with one f32 scale per row or column ([`int8_file`]): the word and character
//! embedding tables per row (a row is one symbol's vector), every other matrix (the recurrent
//! layers' `W_ih` and `W_hh`, linear layers) per output column, as the CPU kernel computes with
//! them ([`crate::recurrent::kernel::int8`]). Biases, small matrices (under
//! [`SMALLEST_QUANTIZED`] values), the CRF's transitions and the feature embeddings stay f32.
//!
//! Loading ([`load_int8_file`]) puts the dequantized values into the model's f32 parameters, so
//! every backend computes with the same weights; [`crate::TokenClassifier::quantize_int8`] and
//! [`crate::SequenceClassifier::quantize_int8`] then hand the recurrent layers their int8 form
//! for the CPU kernel (every recurrent layer computes in int8, whatever its size).

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{backend::Backend, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::export::{safetensors_entries, Entry};
use crate::import::{ImportError, SafeTensors};

/// The number type a model's weights are stored and multiplied in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats throughout.
    #[default]
    F32,
    /// Large matrices in int8 with f32 scales; the products of the recurrent layers in int8 on
    /// CPUs with AVX-512 VNNI (a scalar twin elsewhere).
    Int8,
}

/// Matrices with fewer values stay f32 (they cost nothing to keep, and output layers and
/// character convolutions are where rounding would show first).
pub const SMALLEST_QUANTIZED: usize = 4096;

/// A stored matrix's scales: one per row or one per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Rows,
    Columns,
}

/// Where a parameter sits: its path (`encoder.recurrent.weights.0.weight_ih`) and the type of
/// the module that holds it (`Struct:Embedding`).
#[derive(Default)]
struct Path {
    names: Vec<String>,
    containers: Vec<String>,
}

impl Path {
    fn enter(&mut self, name: &str, container: &str) {
        self.names.push(name.to_string());
        self.containers.push(container.to_string());
    }

    fn exit(&mut self) {
        self.names.pop();
        self.containers.pop();
    }

    fn name(&self) -> String {
        self.names.join(".")
    }

    /// How a matrix here is quantised: embedding tables per row, the rest per column; `None`
    /// for what stays f32.
    fn axis(&self, shape: &[usize]) -> Option<Axis> {
        if shape.len() != 2 || shape.iter().product::<usize>() < SMALLEST_QUANTIZED {
            return None;
        }
        match self.containers.last().map(String::as_str) {
            Some("Struct:Embedding") => Some(Axis::Rows),
            _ => Some(Axis::Columns),
        }
    }
}

/// `[rows, cols]` values as `i8` with one scale per row or column (`max|v| / 127`, 1 for an
/// all-zero line), rounding to nearest even.
fn quantize_matrix(values: &[f32], rows: usize, cols: usize, axis: Axis) -> (Vec<i8>, Vec<f32>) {
    let lines = if axis == Axis::Rows { rows } else { cols };
    let line = |i: usize, j: usize| if axis == Axis::Rows { i } else { j };
    let mut scales = vec![0.0f32; lines];
    for i in 0..rows {
        for j in 0..cols {
            let s = &mut scales[line(i, j)];
            *s = s.max(values[i * cols + j].abs());
        }
    }
    scales.iter_mut().for_each(|s| *s = if *s > 0.0 { *s / 127.0 } else { 1.0 });
    let q = (0..rows * cols)
        .map(|at| {
            let s = scales[line(at / cols, at % cols)];
            (values[at] / s).round_ties_even().clamp(-127.0, 127.0) as i8
        })
        .collect();
    (q, scales)
}

/// Collects the parameters as the file's entries.
struct Collect {
    path: Path,
    entries: Vec<Entry>,
    /// Per quantised matrix, `rows` or `columns`: the file's metadata, for other readers.
    axes: BTreeMap<String, String>,
}

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let values: Vec<f32> = tensor.into_data().convert::<f32>().to_vec().expect("float values");
        let name = self.path.name();
        match self.path.axis(&shape) {
            Some(axis) => {
                let (q, scales) = quantize_matrix(&values, shape[0], shape[1], axis);
                let scale_shape = vec![scales.len()];
                let axis = if axis == Axis::Rows { "rows" } else { "columns" };
                self.axes.insert(format!("axis.{name}"), axis.to_string());
                self.entries.push(Entry::i8(name.clone(), shape, q));
                self.entries.push(Entry::f32(format!("{name}.scale"), scale_shape, scales));
            }
            None => self.entries.push(Entry::f32(name, shape, values)),
        }
    }
}

/// The bytes of `model`'s int8 weights file: a safetensors file with each quantised matrix
/// `NAME` as `I8` and its scales as `NAME.scale` (`F32`, one per row or column, the metadata's
/// `axis.NAME` saying which), every other parameter as `F32`, named by module path.
pub fn int8_file<B: Backend, M: Module<B>>(model: &M) -> Vec<u8> {
    let mut collect = Collect { path: Path::default(), entries: Vec::new(), axes: BTreeMap::new() };
    model.visit(&mut collect);
    let mut metadata = collect.axes;
    metadata.insert("format".to_string(), "seqlab-int8".to_string());
    safetensors_entries(&collect.entries, &metadata)
}

/// Puts the weights of an int8 file into `model` (built from the same config), dequantised;
/// an absent tensor or one of another shape is an error naming it.
pub fn load_int8_file<B: Backend, M: Module<B>>(model: M, bytes: &[u8]) -> Result<M, ImportError> {
    let file = SafeTensors::parse(bytes)?;
    let mut load = Load { path: Path::default(), file: &file, error: None };
    let model = model.map(&mut load);
    match load.error {
        Some(e) => Err(e),
        None => Ok(model),
    }
}

/// Replaces each parameter by the file's values.
struct Load<'a> {
    path: Path,
    file: &'a SafeTensors,
    error: Option<ImportError>,
}

impl Load<'_> {
    fn values(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, ImportError> {
        let stored = self.file.get_shaped(name, shape)?;
        let Some(axis) = self.path.axis(shape) else {
            return Ok(stored.values.clone());
        };
        let lines = if axis == Axis::Rows { shape[0] } else { shape[1] };
        let scales = self.file.get_shaped(&format!("{name}.scale"), &[lines])?;
        let cols = shape[1];
        Ok(stored
            .values
            .iter()
            .enumerate()
            .map(|(at, &q)| q * scales.values[if axis == Axis::Rows { at / cols } else { at % cols }])
            .collect())
    }
}

impl<B: Backend> ModuleMapper<B> for Load<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        if self.error.is_some() {
            return param;
        }
        let name = self.path.name();
        param.map(|tensor| {
            let (shape, device, dtype) = (tensor.dims(), tensor.device(), tensor.dtype());
            match self.values(&name, &shape) {
                Ok(values) => Tensor::from_data(TensorData::new(values, shape).convert_dtype(dtype), &device),
                Err(e) => {
                    self.error = Some(e);
                    tensor
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_columns_quantise_to_their_own_largest_value() {
        let values = [1.0, -0.5, 0.25, 0.0, 0.0, 0.0];
        let (q, scales) = quantize_matrix(&values, 2, 3, Axis::Rows);
        assert_eq!(scales, vec![1.0 / 127.0, 1.0]);
        assert_eq!(q, vec![127, -64, 32, 0, 0, 0]);
        let (q, scales) = quantize_matrix(&values, 2, 3, Axis::Columns);
        assert_eq!(scales, vec![1.0 / 127.0, 0.5 / 127.0, 0.25 / 127.0]);
        assert_eq!(q, vec![127, -127, 127, 0, 0, 0]);
    }
}
