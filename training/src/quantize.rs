//! `quantize`: a trained model's folder rewritten with int8 weights, a folder that `predict`,
//! `evaluate` and `serve` load like any other (see `seqlab_models::quantize` for what is kept
//! in int8 and how the products are computed).
//!
//! The new folder holds the run's files (`run.json`, `metrics.json` of the f32 model, the
//! vocabularies and the label file), `model.json` with `"precision": "int8"`, the weights as
//! [`Artifacts::WEIGHTS_INT8`] instead of `model.mpk`, and a new `manifest.json`. It is written
//! beside its target and renamed into place when complete, so an interrupted run leaves nothing
//! half written.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::tensor::backend::Backend;
use seqlab_models::quantize::int8_file;
use seqlab_models::Precision;

use crate::artifacts::Artifacts;
use crate::durable::{write, write_bytes};
use crate::error::RunError;
use crate::inference::{load, Loaded};

/// What `quantize` wrote.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The new folder.
    pub out: PathBuf,
    /// Bytes of the source folder's model files (weights, config, vocabularies) and of the new
    /// folder's.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// The files copied as they are (those present).
const COPIED: [&str; 7] = [
    Artifacts::RUN,
    Artifacts::VOCAB,
    Artifacts::LABELS,
    Artifacts::TAGS,
    Artifacts::CHARS,
    Artifacts::EMBEDDINGS,
    Artifacts::METRICS,
];

/// Writes the int8 form of the model in `artifacts` to the new folder `out`, which must not
/// exist yet.
pub fn quantize<B: Backend>(artifacts: &Path, out: &Path, device: &B::Device) -> Result<Quantized, RunError> {
    if out.exists() {
        return Err(RunError::Invalid {
            option: "out".into(),
            message: format!("{} exists; quantize writes a new folder", out.display()),
        });
    }
    let loaded = load::<B>(artifacts, device)?;
    let source = Artifacts::at(artifacts);
    let (config, weights) = match &loaded {
        Loaded::Tagger(t) => {
            let config = seqlab_models::TokenClassifierConfig::load(source.file(Artifacts::MODEL_CONFIG))
                .map_err(|e| RunError::damaged(&source.file(Artifacts::MODEL_CONFIG), e.to_string()))?;
            if config.precision == Some(Precision::Int8) {
                return Err(already(artifacts));
            }
            (config.with_precision(Some(Precision::Int8)).to_string(), int8_file(&t.model))
        }
        Loaded::Classifier(c) => {
            let config = seqlab_models::SequenceClassifierConfig::load(source.file(Artifacts::MODEL_CONFIG))
                .map_err(|e| RunError::damaged(&source.file(Artifacts::MODEL_CONFIG), e.to_string()))?;
            if config.precision == Some(Precision::Int8) {
                return Err(already(artifacts));
            }
            (config.with_precision(Some(Precision::Int8)).to_string(), int8_file(&c.model))
        }
    };

    let partial = partial_folder(out);
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(|e| RunError::io(&partial, &e))?;
    let written = (|| {
        let folder = Artifacts::at(&partial);
        for name in COPIED {
            let from = source.file(name);
            if from.is_file() {
                let bytes = std::fs::read(&from).map_err(|e| RunError::io(&from, &e))?;
                write_bytes(&folder.file(name), bytes)?;
            }
        }
        write(&folder.file(Artifacts::MODEL_CONFIG), config)?;
        write_bytes(&folder.file(Artifacts::WEIGHTS_INT8), weights)?;
        folder.write_manifest()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&partial, out).map_err(|e| RunError::io(out, &e))) {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(e);
    }
    Ok(Quantized { out: out.to_path_buf(), bytes_before: model_bytes(artifacts), bytes_after: model_bytes(out) })
}

fn already(artifacts: &Path) -> RunError {
    RunError::Invalid {
        option: "artifacts".into(),
        message: format!("{} already holds an int8 model", artifacts.display()),
    }
}

/// `OUT.partial-PID` beside `out`.
fn partial_folder(out: &Path) -> PathBuf {
    let name = out.file_name().map_or_else(|| "quantized".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!("{name}.partial-{}", std::process::id()))
}

/// Bytes of the files a model is loaded from (weights, config, vocabularies, labels).
fn model_bytes(dir: &Path) -> u64 {
    let folder = Artifacts::at(dir);
    [
        Artifacts::WEIGHTS,
        Artifacts::WEIGHTS_INT8,
        Artifacts::MODEL_CONFIG,
        Artifacts::VOCAB,
        Artifacts::LABELS,
        Artifacts::TAGS,
        Artifacts::CHARS,
    ]
    .iter()
    .filter_map(|name| std::fs::metadata(folder.file(name)).ok())
    .map(|m| m.len())
    .sum()
}
