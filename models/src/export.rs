//! Exporting weights to PyTorch: a safetensors file whose tensors carry PyTorch's names and
//! layouts, the inverse of [`crate::import`].
//!
//! | seqlab | exported as | PyTorch module |
//! | --- | --- | --- |
//! | recurrent layer `k` (backward direction: `_reverse`) | `{prefix}weight_ih_l{k}` `[gates·H, H_in]`, `weight_hh_l{k}` `[gates·H, H]`, `bias_ih_l{k}`, `bias_hh_l{k}` (gates LSTM `i, f, g, o`, GRU `r, z, n`) | `nn.LSTM`/`nn.GRU`/`nn.RNN(batch_first=True)` |
//! | word embedding | `embedding.weight` `[V, D]` | `nn.Embedding` |
//! | linear layer | `….weight` `[out, in]`, `….bias` `[out]` | `nn.Linear` |
//! | feature embedding `i` (tagger: casing) | `features.{i}.weight` | `nn.Embedding` |
//! | character CNN | `chars.embedding.weight` `[C, d]`, `chars.conv.weight` `[filters, width·d]` (window position-major: `[c−w/2 … c+w/2] × d`), `chars.conv.bias` | `nn.Embedding` + `nn.Linear` |
//! | character BiLSTM | `char_lstm.embedding.weight`, `char_lstm.lstm.weight_ih_l0`, … | `nn.Embedding` + `nn.LSTM` |
//! | CRF | `crf.transitions` `[K, K]` (from row, to column), `crf.start`, `crf.end` | — |
//!
//! Names: a classifier's encoder is `rnn.`, its output network `ffn.hidden.{i}.` and
//! `ffn.output.`; a tagger's encoder is `rnn.`, its output layer `output.`. The file's
//! `__metadata__` holds the model's config as JSON under `config` and the model kind under
//! `model` (`sequence-classifier` or `token-classifier`), so a script can rebuild the network
//! (`scripts/pytorch_from_export.py`).

use std::collections::BTreeMap;

use burn::nn::{Embedding, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::import::{pytorch_name, RawTensor};
use crate::{Recurrent, SequenceClassifier, TokenClassifier};

/// Named tensors, in PyTorch's names and layouts.
pub type Tensors = BTreeMap<String, RawTensor>;

fn raw<B: Backend, const D: usize>(t: &Tensor<B, D>) -> RawTensor {
    let shape = t.dims().to_vec();
    RawTensor { shape, values: t.clone().into_data().convert::<f32>().to_vec().expect("float tensor") }
}

fn linear<B: Backend>(out: &mut Tensors, name: &str, layer: &Linear<B>) {
    // Burn stores `[in, out]`, PyTorch `[out, in]`.
    out.insert(format!("{name}.weight"), raw(&layer.weight.val()).transposed());
    if let Some(bias) = &layer.bias {
        out.insert(format!("{name}.bias"), raw(&bias.val()));
    }
}

fn embedding<B: Backend>(out: &mut Tensors, name: &str, layer: &Embedding<B>) {
    out.insert(format!("{name}.weight"), raw(&layer.weight.val()));
}

impl<B: Backend> Recurrent<B> {
    /// The layer's parameters under PyTorch's names (`{prefix}weight_ih_l0`, …,
    /// `bias_hh_l1_reverse`) and layouts (weights `[gates·hidden, d_in]`); what
    /// [`Recurrent::load_pytorch`] reads back.
    pub fn pytorch_tensors(&self, prefix: &str) -> Tensors {
        let dirs = self.directions();
        let mut out = Tensors::new();
        for (index, w) in self.weights.iter().enumerate() {
            let name = |kind| pytorch_name(prefix, kind, index / dirs, index % dirs == 1);
            out.insert(name("weight_ih"), raw(&w.weight_ih.val()).transposed());
            out.insert(name("weight_hh"), raw(&w.weight_hh.val()).transposed());
            if let Some(b) = &w.bias_ih {
                out.insert(name("bias_ih"), raw(&b.val()));
            }
            if let Some(b) = &w.bias_hh {
                out.insert(name("bias_hh"), raw(&b.val()));
            }
        }
        out
    }
}

impl<B: Backend> SequenceClassifier<B> {
    /// Every parameter under the names of the module docs.
    pub fn pytorch_tensors(&self) -> Tensors {
        let mut out = Tensors::new();
        embedding(&mut out, "embedding", &self.embedding);
        if let Some(rnn) = &self.encoder.recurrent {
            out.extend(rnn.pytorch_tensors("rnn."));
        }
        for (i, layer) in self.ffn.hidden.iter().enumerate() {
            linear(&mut out, &format!("ffn.hidden.{i}"), layer);
        }
        linear(&mut out, "ffn.output", &self.ffn.output);
        out
    }
}

impl<B: Backend> TokenClassifier<B> {
    /// Every parameter under the names of the module docs.
    pub fn pytorch_tensors(&self) -> Tensors {
        let mut out = Tensors::new();
        embedding(&mut out, "embedding", &self.embedding);
        for (i, feature) in self.features.iter().enumerate() {
            embedding(&mut out, &format!("features.{i}"), feature);
        }
        if let Some(chars) = &self.chars {
            embedding(&mut out, "chars.embedding", &chars.embedding);
            linear(&mut out, "chars.conv", &chars.conv);
        }
        if let Some(chars) = &self.char_lstm {
            embedding(&mut out, "char_lstm.embedding", &chars.embedding);
            out.extend(chars.lstm.pytorch_tensors("char_lstm.lstm."));
        }
        if let Some(rnn) = &self.encoder.recurrent {
            out.extend(rnn.pytorch_tensors("rnn."));
        }
        linear(&mut out, "output", &self.output);
        if let Some(crf) = &self.crf {
            out.insert("crf.transitions".into(), raw(&crf.transitions.val()));
            out.insert("crf.start".into(), raw(&crf.start.val()));
            out.insert("crf.end".into(), raw(&crf.end.val()));
        }
        out
    }
}

/// The bytes of a safetensors file holding `tensors` as little-endian F32 and `metadata` as
/// its `__metadata__` (string to string), readable by `safetensors.torch.load_file`.
pub fn safetensors_bytes(tensors: &Tensors, metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let entries: Vec<Entry> =
        tensors.iter().map(|(name, t)| Entry::f32(name.clone(), t.shape.clone(), t.values.clone())).collect();
    safetensors_entries(&entries, metadata)
}

/// One tensor of a safetensors file: its name, shape, dtype and little-endian bytes.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub shape: Vec<usize>,
    dtype: &'static str,
    bytes: Vec<u8>,
}

impl Entry {
    /// An `F32` tensor.
    pub fn f32(name: String, shape: Vec<usize>, values: Vec<f32>) -> Self {
        Self { name, shape, dtype: "F32", bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }

    /// An `I8` tensor.
    pub fn i8(name: String, shape: Vec<usize>, values: Vec<i8>) -> Self {
        Self { name, shape, dtype: "I8", bytes: values.iter().map(|&v| v as u8).collect() }
    }
}

/// The bytes of a safetensors file holding `entries` (in their order) and `metadata`.
pub fn safetensors_entries(entries: &[Entry], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), serde_json::to_value(metadata).unwrap());
    }
    let mut offset = 0usize;
    for e in entries {
        let end = offset + e.bytes.len();
        header.insert(
            e.name.clone(),
            serde_json::json!({ "dtype": e.dtype, "shape": e.shape, "data_offsets": [offset, end] }),
        );
        offset = end;
    }
    let mut json = serde_json::to_string(&header).unwrap().into_bytes();
    // The data starts 8-byte aligned (the format pads the header with spaces).
    while !(8 + json.len()).is_multiple_of(8) {
        json.push(b' ');
    }
    let mut bytes = Vec::with_capacity(8 + json.len() + offset);
    bytes.extend((json.len() as u64).to_le_bytes());
    bytes.extend(json);
    for e in entries {
        bytes.extend(&e.bytes);
    }
    bytes
}
