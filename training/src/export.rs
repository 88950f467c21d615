//! `export`: an artifacts folder's weights as a safetensors file in PyTorch's names and layouts
//! (see `seqlab_models::export`), with the model's config in the file's metadata, for
//! `scripts/pytorch_from_export.py` to rebuild the network in PyTorch.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::backend::Backend;
use seqlab_models::export::{safetensors_bytes, Tensors};

use crate::error::RunError;
use crate::inference::{load, Loaded};

/// What [`export`] wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// `sequence-classifier` or `token-classifier`.
    pub model: String,
    /// The tensors, by name.
    pub tensors: Tensors,
}

/// Writes the weights of the model in `artifacts` to `out` (metadata: `model`, and `config`,
/// the folder's `model.json`).
pub fn export<B: Backend>(artifacts: &Path, out: &Path, device: &B::Device) -> Result<Exported, RunError> {
    let (model, tensors) = match load::<B>(artifacts, device)? {
        Loaded::Classifier(c) => ("sequence-classifier", c.model.pytorch_tensors()),
        Loaded::Tagger(t) => ("token-classifier", t.model.pytorch_tensors()),
    };
    let config_path = artifacts.join(crate::artifacts::Artifacts::MODEL_CONFIG);
    let config = std::fs::read_to_string(&config_path)
        .map_err(|e| RunError::Other(format!("{}: {e}", config_path.display())))?;
    let metadata = BTreeMap::from([("model".to_string(), model.to_string()), ("config".to_string(), config)]);
    crate::durable::write_bytes(out, safetensors_bytes(&tensors, &metadata))?;
    Ok(Exported { model: model.into(), tensors })
}
