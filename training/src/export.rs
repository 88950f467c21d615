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

/// The files of the artifacts folder that an export must not replace: the run's own files and
/// every checkpoint.
fn own_files(artifacts: &Path) -> Vec<std::path::PathBuf> {
    let folder = crate::artifacts::Artifacts::at(artifacts);
    let checkpoints = std::fs::read_dir(artifacts.join(crate::artifacts::Artifacts::CHECKPOINTS))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path());
    crate::artifacts::Artifacts::RUN_FILES.iter().map(|name| folder.file(name)).chain(checkpoints).collect()
}

/// Writes the weights of the model in `artifacts` to `out` (see [`crate::durable::write_output`]:
/// links are followed, pipes and devices written into, the folder's own files refused) (metadata: `model`, and `config`,
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
    crate::durable::write_output("out", out, safetensors_bytes(&tensors, &metadata), &own_files(artifacts))?;
    Ok(Exported { model: model.into(), tensors })
}
