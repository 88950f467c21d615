//! Importing PyTorch recurrent weights.
//!
//! PyTorch names the parameters of `nn.RNN`/`nn.LSTM`/`nn.GRU` `weight_ih_l{k}`,
//! `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, with a `_reverse` suffix for the backward
//! direction, and stores weights `[gates·hidden, d_in]`. [`Recurrent::load_pytorch`] maps them
//! one to one onto a [`Recurrent`] (transposing to Burn's `[d_in, gates·hidden]`); the gate
//! order (LSTM `i, f, g, o`; GRU `r, z, n`) is already ours.
//!
//! Save the PyTorch module's `state_dict()` as safetensors:
//!
//! ```python
//! from safetensors.torch import save_file
//! save_file({k: v.contiguous() for k, v in lstm.state_dict().items()}, "lstm.safetensors")
//! ```
//!
//! then
//!
//! ```rust,ignore
//! let tensors = SafeTensors::read("lstm.safetensors")?;
//! let lstm = RecurrentConfig::new(CellKind::Lstm, 100, 200).with_num_layers(2)
//!     .init::<B>(&device)
//!     .load_pytorch(&tensors, "")?;   // prefix "rnn." for a submodule named `rnn`
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::tensor::{backend::Backend, Tensor, TensorData};

use crate::Recurrent;

/// Why an import failed.
#[derive(Debug)]
pub enum ImportError {
    /// The file could not be read.
    Io { path: PathBuf, source: std::io::Error },
    /// The bytes are not a valid safetensors file.
    Format { path: Option<PathBuf>, message: String },
    /// A tensor the layer needs is absent.
    Missing { name: String, available: Vec<String> },
    /// A tensor has the wrong shape for the layer's config.
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Format { path: Some(path), message } => {
                write!(f, "{}: not a safetensors file: {message}", path.display())
            }
            Self::Format { path: None, message } => write!(f, "not a safetensors file: {message}"),
            Self::Missing { name, available } => {
                write!(f, "tensor `{name}` not found (available: {})", available.join(", "))
            }
            Self::Shape { name, expected, found } => {
                write!(f, "tensor `{name}` has shape {found:?}, the layer's config needs {expected:?}")
            }
        }
    }
}

impl std::error::Error for ImportError {}

/// One tensor of a safetensors file, converted to `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor {
    /// Shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// Values in row-major order.
    pub values: Vec<f32>,
}

impl RawTensor {
    /// The transpose of a matrix, computed on the host (row-major `[cols, rows]`).
    pub fn transposed(&self) -> RawTensor {
        let [rows, cols] = self.shape[..] else { panic!("transposed() needs a matrix, got shape {:?}", self.shape) };
        let values =
            (0..cols).flat_map(|c| (0..rows).map(move |r| (r, c))).map(|(r, c)| self.values[r * cols + c]).collect();
        RawTensor { shape: vec![cols, rows], values }
    }

    /// As a Burn tensor of rank `D` on `device`.
    pub fn to_tensor<B: Backend, const D: usize>(&self, device: &B::Device) -> Tensor<B, D> {
        Tensor::from_data(TensorData::new(self.values.clone(), self.shape.clone()), device)
    }
}

/// The tensors of a safetensors file (dtypes F32, F64, I8, I32, I64, converted to `f32`).
#[derive(Debug, Clone, Default)]
pub struct SafeTensors {
    tensors: BTreeMap<String, RawTensor>,
}

impl SafeTensors {
    /// Reads a `.safetensors` file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ImportError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ImportError::Io { path: path.to_owned(), source })?;
        Self::parse(&bytes).map_err(|e| match e {
            ImportError::Format { message, .. } => ImportError::Format { path: Some(path.to_owned()), message },
            other => other,
        })
    }

    /// Parses the bytes of a safetensors file: an 8-byte little-endian header length, a JSON
    /// header `{name: {dtype, shape, data_offsets}}`, then the raw little-endian data.
    pub fn parse(bytes: &[u8]) -> Result<Self, ImportError> {
        let bad = |message: String| ImportError::Format { path: None, message };
        let header_len = bytes
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize)
            .ok_or_else(|| bad("shorter than its 8-byte header length".into()))?;
        let header = bytes
            .get(8..8usize.saturating_add(header_len))
            .ok_or_else(|| bad(format!("header length {header_len} runs past the end of the file")))?;
        let data = &bytes[8 + header_len..];
        let header: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(header).map_err(|e| bad(format!("header is not JSON: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, info) in header {
            if name == "__metadata__" {
                continue;
            }
            let field = |key: &str| info.get(key).ok_or_else(|| bad(format!("`{name}` has no `{key}`")));
            let dtype = field("dtype")?.as_str().unwrap_or_default().to_string();
            let shape: Vec<usize> = serde_json::from_value(field("shape")?.clone())
                .map_err(|e| bad(format!("`{name}`: bad shape: {e}")))?;
            let [start, end]: [usize; 2] = serde_json::from_value(field("data_offsets")?.clone())
                .map_err(|e| bad(format!("`{name}`: bad data_offsets: {e}")))?;
            let raw = data
                .get(start..end)
                .ok_or_else(|| bad(format!("`{name}`: data_offsets {start}..{end} outside the data")))?;
            let width = match dtype.as_str() {
                "I8" => 1,
                "F32" | "I32" => 4,
                "F64" | "I64" => 8,
                other => return Err(bad(format!("`{name}`: dtype {other} is not supported (use float32)"))),
            };
            let count: usize = shape.iter().product();
            if raw.len() != count * width {
                return Err(bad(format!("`{name}`: {} bytes for shape {shape:?} of {dtype}", raw.len())));
            }
            let values = raw
                .chunks_exact(width)
                .map(|b| match dtype.as_str() {
                    "I8" => f32::from(b[0] as i8),
                    "F32" => f32::from_le_bytes(b.try_into().unwrap()),
                    "I32" => i32::from_le_bytes(b.try_into().unwrap()) as f32,
                    "F64" => f64::from_le_bytes(b.try_into().unwrap()) as f32,
                    _ => i64::from_le_bytes(b.try_into().unwrap()) as f32,
                })
                .collect();
            tensors.insert(name, RawTensor { shape, values });
        }
        Ok(Self { tensors })
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Result<&RawTensor, ImportError> {
        self.tensors.get(name).ok_or_else(|| ImportError::Missing {
            name: name.to_string(),
            available: self.tensors.keys().cloned().collect(),
        })
    }

    /// The tensor called `name`, checked against `expected` shape.
    pub fn get_shaped(&self, name: &str, expected: &[usize]) -> Result<&RawTensor, ImportError> {
        let t = self.get(name)?;
        if t.shape != expected {
            return Err(ImportError::Shape { name: name.into(), expected: expected.to_vec(), found: t.shape.clone() });
        }
        Ok(t)
    }

    /// Names of all tensors, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }
}

/// PyTorch's name of a parameter: `{prefix}{kind}_l{layer}{_reverse}`.
pub fn pytorch_name(prefix: &str, kind: &str, layer: usize, reverse: bool) -> String {
    format!("{prefix}{kind}_l{layer}{}", if reverse { "_reverse" } else { "" })
}

impl<B: Backend> Recurrent<B> {
    /// Replaces every parameter with the PyTorch tensor of the same role, named
    /// `{prefix}weight_ih_l{k}[_reverse]` etc. Shapes are checked against this layer's config;
    /// any mismatch or missing tensor is an error and leaves nothing half-loaded.
    pub fn load_pytorch(mut self, tensors: &SafeTensors, prefix: &str) -> Result<Self, ImportError> {
        let dirs = self.directions();
        let width = self.cell_width();
        // Check everything first, then assign, so an error leaves `self` untouched.
        let mut loaded = Vec::with_capacity(self.weights.len());
        for (index, w) in self.weights.iter().enumerate() {
            let (layer, reverse) = (index / dirs, index % dirs == 1);
            let name = |kind| pytorch_name(prefix, kind, layer, reverse);
            let [d_in, _] = w.weight_ih.dims();
            let weight_ih = tensors.get_shaped(&name("weight_ih"), &[width, d_in])?;
            let weight_hh = tensors.get_shaped(&name("weight_hh"), &[width, self.d_hidden])?;
            let bias_ih = match w.bias_ih {
                Some(_) => Some(tensors.get_shaped(&name("bias_ih"), &[width])?),
                None => None,
            };
            let bias_hh = match w.bias_hh {
                Some(_) => Some(tensors.get_shaped(&name("bias_hh"), &[width])?),
                None => None,
            };
            loaded.push((weight_ih, weight_hh, bias_ih, bias_hh));
        }
        for (w, (w_ih, w_hh, b_ih, b_hh)) in self.weights.iter_mut().zip(loaded) {
            let device = w.weight_ih.device();
            // Transposed on the host so that parameters are contiguous: on burn-wgpu 0.21 with
            // fusion, `sigmoid(linear(x, w.transpose(), b))` with x = [[1, 2]] and a 2×2 `w`
            // computes the product as if `w` were not transposed (see README).
            let matrix = |raw: &RawTensor| raw.transposed().to_tensor::<B, 2>(&device);
            let vector = |raw: &RawTensor| raw.to_tensor::<B, 1>(&device);
            replace(&mut w.weight_ih, matrix(w_ih));
            replace(&mut w.weight_hh, matrix(w_hh));
            if let (Some(p), Some(raw)) = (w.bias_ih.as_mut(), b_ih) {
                replace(p, vector(raw));
            }
            if let (Some(p), Some(raw)) = (w.bias_hh.as_mut(), b_hh) {
                replace(p, vector(raw));
            }
        }
        Ok(self)
    }

    fn cell_width(&self) -> usize {
        self.cell.gates() * self.d_hidden
    }
}

/// Swaps a parameter's value, keeping its identity (so optimiser state stays attached).
fn replace<B: Backend, const D: usize>(param: &mut Param<Tensor<B, D>>, value: Tensor<B, D>) {
    *param = param.clone().map(|old| value.set_require_grad(old.is_require_grad()));
}
