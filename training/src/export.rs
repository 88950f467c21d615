//! `export`: an artifacts folder's model as a file other tools read —
//!
//! - [`Format::Safetensors`]: the weights in PyTorch's names and layouts (see
//!   `seqlab_models::export`), the model's config in the file's metadata, for
//!   `scripts/pytorch_from_export.py` to rebuild the network in PyTorch;
//! - [`Format::Onnx`]: the whole model, Viterbi decoding included, as one ONNX graph (see
//!   `seqlab_models::onnx`), its metadata naming the labels the output ids stand for.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::backend::Backend;
use seqlab_models::export::safetensors_bytes;
use seqlab_models::Recurrent;

use crate::durable::Protected;
use crate::error::RunError;
use crate::inference::{load, Loaded};

/// The file an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[strum(serialize_all = "lowercase", ascii_case_insensitive)]
pub enum Format {
    /// Weights only, in PyTorch's names and layouts.
    Safetensors,
    /// The whole model as an ONNX graph.
    Onnx,
}

impl Format {
    /// The format to write `out` in: `format` when given, else the one its extension names
    /// (`.onnx`), else safetensors. An extension naming the other format is an error, so that
    /// no file is written under a name that says something else.
    pub fn resolve(format: Option<Format>, out: &Path) -> Result<Format, RunError> {
        let named = match out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("onnx") => Some(Format::Onnx),
            Some("safetensors") => Some(Format::Safetensors),
            _ => None,
        };
        match (format, named) {
            (Some(format), Some(named)) if format != named => Err(RunError::invalid(
                "format",
                format!(
                    "--format {}, but the name {} says {}; give one of the two, or make them agree",
                    <&str>::from(format),
                    out.display(),
                    <&str>::from(named)
                ),
            )),
            (Some(format), _) => Ok(format),
            (None, named) => Ok(named.unwrap_or(Format::Safetensors)),
        }
    }
}

/// What [`export`] wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// `sequence-classifier` or `token-classifier`.
    pub model: String,
    /// The file's format.
    pub format: Format,
    /// The file's size in bytes.
    pub bytes: usize,
    /// What the file holds, in a few words (tensor count; an ONNX graph's inputs and outputs).
    pub summary: String,
}

/// The files of the artifacts folder that an export must not replace: the run's own files and
/// every checkpoint.
fn own_files(artifacts: &Path) -> Vec<Protected> {
    let folder = crate::artifacts::Artifacts::at(artifacts);
    let checkpoints = std::fs::read_dir(artifacts.join(crate::artifacts::Artifacts::CHECKPOINTS))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path());
    crate::artifacts::Artifacts::RUN_FILES
        .iter()
        .map(|name| folder.file(name))
        .chain(checkpoints)
        .map(|path| Protected { role: "the artifacts' own", path })
        .collect()
}

fn is_int8<B: Backend>(rnn: Option<&Recurrent<B>>) -> bool {
    rnn.is_some_and(|r| r.int8.is_some())
}

/// Writes the model in `artifacts` to `out` in `format` (see [`Format::resolve`]; the writing
/// as `crate::durable::write_output`: links are followed, pipes and devices written into, the
/// folder's own files refused). The metadata of either file holds `model`
/// (`sequence-classifier` or `token-classifier`) and `config` (the folder's `model.json`); an
/// ONNX file's also `labels`, the names of the classes or of the tags (in the training scheme)
/// by id, as a JSON list.
pub fn export<B: Backend>(
    artifacts: &Path,
    out: &Path,
    format: Format,
    device: &B::Device,
) -> Result<Exported, RunError> {
    let loaded = load::<B>(artifacts, device)?;
    let (model, labels) = match &loaded {
        Loaded::Classifier(c) => ("sequence-classifier", &c.labels.names),
        Loaded::Tagger(t) => ("token-classifier", &t.tags.names),
    };
    let config_path = artifacts.join(crate::artifacts::Artifacts::MODEL_CONFIG);
    let config = std::fs::read_to_string(&config_path).map_err(|e| RunError::io(&config_path, &e))?;
    let mut metadata = BTreeMap::from([("model".to_string(), model.to_string()), ("config".to_string(), config)]);
    let (bytes, summary) = match format {
        Format::Safetensors => {
            let tensors = match &loaded {
                Loaded::Classifier(c) => c.model.pytorch_tensors(),
                Loaded::Tagger(t) => t.model.pytorch_tensors(),
            };
            let values: usize = tensors.values().map(|t| t.values.len()).sum();
            (safetensors_bytes(&tensors, &metadata), format!("{} tensors, {values} values", tensors.len()))
        }
        Format::Onnx => {
            let onnx = match &loaded {
                Loaded::Classifier(c) if is_int8(c.model.encoder.recurrent.as_ref()) => None,
                Loaded::Tagger(t) if is_int8(t.model.encoder.recurrent.as_ref()) => None,
                Loaded::Classifier(c) => Some(c.model.to_onnx()),
                Loaded::Tagger(t) => {
                    let casing = ("casing", "casing class ids `[batch, seq]` int64 (see docs/onnx.md), 0 for padding");
                    Some(t.model.to_onnx(&vec![casing; t.model.features.len()]))
                }
            };
            let onnx = onnx.ok_or_else(|| {
                RunError::invalid(
                    "format",
                    format!(
                        "{} holds an int8 model, which ONNX export does not write; export the folder it was \
                         quantized from",
                        artifacts.display()
                    ),
                )
            })?;
            let (inputs, outputs) = (onnx.inputs().join(", "), onnx.outputs().join(", "));
            let summary = format!("opset {}, inputs {inputs}; outputs {outputs}", seqlab_models::onnx::OPSET);
            metadata.insert("labels".to_string(), serde_json::to_string(labels).expect("names serialise"));
            (onnx.to_bytes(&metadata), summary)
        }
    };
    let size = bytes.len();
    crate::durable::write_output("out", out, bytes, &own_files(artifacts))?;
    Ok(Exported { model: model.into(), format, bytes: size, summary })
}
