//! The single place where cargo features choose the backend, and the commands' entry points
//! instantiated on it once.
//!
//! `ndarray` (the default) runs on the CPU; `wgpu` (`--features wgpu`) runs on a GPU through
//! WebGPU/Vulkan (or on the CPU through Mesa's lavapipe) and wins when both are enabled.
//! Everything else in seqlab is generic over `B: Backend` and names these aliases only at the
//! edges (binaries and tests).
//!
//! The functions at the end are the generic entry points (`train_tagger::<Autodiff>`, …)
//! compiled here, in this crate, for the selected backend: a binary that calls them links code
//! already built instead of instantiating Burn's and burn-train's generics again, so editing
//! one binary recompiles a few dozen lines, not the training stack.

#[cfg(not(any(feature = "ndarray", feature = "wgpu")))]
compile_error!("seqlab-training needs a backend feature: `ndarray` (default) or `wgpu`");

/// The inference backend selected by cargo features.
#[cfg(feature = "wgpu")]
pub type Inner = burn::backend::Wgpu;
/// The inference backend selected by cargo features.
#[cfg(all(feature = "ndarray", not(feature = "wgpu")))]
pub type Inner = burn::backend::NdArray;

/// The training backend: [`Inner`] with automatic differentiation.
pub type Autodiff = burn::backend::Autodiff<Inner>;

/// The device of [`Inner`] (and [`Autodiff`]).
pub type Device = burn::tensor::Device<Inner>;

/// Human-readable name of the selected backend, for logs.
pub fn name() -> &'static str {
    if cfg!(feature = "wgpu") {
        "wgpu"
    } else {
        "ndarray"
    }
}

/// The device of index `index` (`--devices`): on wgpu the discrete GPU of that index (none
/// given: the default device); on ndarray the CPU, whatever the index.
pub fn device(index: Option<u16>) -> Device {
    #[cfg(feature = "wgpu")]
    if let Some(i) = index {
        return burn::backend::wgpu::WgpuDevice::DiscreteGpu(i as usize);
    }
    let _ = index;
    Device::default()
}

use std::path::Path;

use crate::classifier::{ClassifierReport, ClassifierRunConfig};
use crate::error::RunError;
use crate::inference::{Evaluation, LabelPrediction, Loaded, LoadedClassifier, LoadedTagger, TagPrediction};
use crate::tagger::{TaggerReport, TaggerRunConfig};

/// [`crate::tagger::train_tagger`] on [`Autodiff`].
pub fn train_tagger(config: &TaggerRunConfig, device: &Device) -> Result<TaggerReport, RunError> {
    crate::tagger::train_tagger::<Autodiff>(config, device)
}

/// [`crate::classifier::train_classifier`] on [`Autodiff`].
pub fn train_classifier(config: &ClassifierRunConfig, device: &Device) -> Result<ClassifierReport, RunError> {
    crate::classifier::train_classifier::<Autodiff>(config, device)
}

/// [`crate::inference::load`] on [`Inner`].
pub fn load(dir: &Path, device: &Device) -> Result<Loaded<Inner>, RunError> {
    crate::inference::load::<Inner>(dir, device)
}

/// [`crate::inference::evaluate`] on [`Inner`].
pub fn evaluate(loaded: &Loaded<Inner>, path: &str, device: &Device) -> Result<Evaluation, RunError> {
    crate::inference::evaluate(loaded, path, device)
}

/// [`crate::inference::LoadedClassifier::predict`] on [`Inner`].
pub fn predict_labels(
    model: &LoadedClassifier<Inner>,
    texts: &[String],
    device: &Device,
) -> Result<Vec<LabelPrediction>, RunError> {
    model.predict(texts, device)
}

/// [`crate::inference::LoadedClassifier::predict_tokens`] on [`Inner`].
pub fn predict_label_tokens(
    model: &LoadedClassifier<Inner>,
    tokens: Vec<Vec<String>>,
    device: &Device,
) -> Vec<LabelPrediction> {
    model.predict_tokens(tokens, device)
}

/// [`crate::inference::LoadedTagger::predict`] on [`Inner`].
pub fn predict_tags(
    model: &LoadedTagger<Inner>,
    sentences: &[String],
    nbest: usize,
    device: &Device,
) -> Result<Vec<TagPrediction>, RunError> {
    model.predict(sentences, nbest, device)
}

/// [`crate::inference::LoadedTagger::predict_tokens`] on [`Inner`].
pub fn predict_token_lists(
    model: &LoadedTagger<Inner>,
    tokens: &[Vec<String>],
    nbest: usize,
    device: &Device,
) -> Result<Vec<TagPrediction>, RunError> {
    model.predict_tokens(tokens, nbest, device)
}

/// [`crate::inference::LoadedTagger::predict_read`] on [`Inner`].
pub fn predict_read(
    model: &LoadedTagger<Inner>,
    texts: &[crate::inference::ReadText],
    nbest: usize,
    device: &Device,
) -> Result<Vec<TagPrediction>, RunError> {
    model.predict_read(texts, nbest, device)
}

/// [`crate::inference::LoadedTagger::tag_tokens`] on [`Inner`].
pub fn tag_token_lists(model: &LoadedTagger<Inner>, tokens: &[Vec<String>], device: &Device) -> Vec<Vec<String>> {
    model.tag_tokens(tokens, device)
}

/// [`crate::report::report`] on [`Inner`].
pub fn report(
    loaded: &Loaded<Inner>,
    artifacts: &Path,
    path: &str,
    device: &Device,
) -> Result<crate::report::Report, RunError> {
    crate::report::report(loaded, artifacts, path, device)
}

/// [`crate::export::export`] on [`Inner`].
pub fn export(
    artifacts: &Path,
    out: &Path,
    format: crate::export::Format,
    device: &Device,
) -> Result<crate::export::Exported, RunError> {
    crate::export::export::<Inner>(artifacts, out, format, device)
}

/// `crate::quantize::quantize` on [`Inner`].
pub fn quantize(artifacts: &Path, out: &Path, device: &Device) -> Result<crate::quantize::Quantized, RunError> {
    crate::quantize::quantize::<Inner>(artifacts, out, device)
}
