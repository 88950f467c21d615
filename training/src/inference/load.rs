//! Loading a trained model from its artifacts folder alone: the folder says which task it holds
//! (`labels.json` for a classifier, `tags.json` for a tagger); sizes, weight shapes and the
//! manifest's checksums are checked, so files from different runs are refused by name.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::backend::Backend;
use seqlab_datasets::regular;
use seqlab_datasets::text::Vocab;
use seqlab_datasets::{LabelMap, Task};
use seqlab_models::{Precision, SequenceClassifierConfig, TokenClassifierConfig};

use crate::artifacts::{weights_recorder, Artifacts};
use crate::error::RunError;

use super::{Loaded, LoadedClassifier, LoadedTagger};

fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RunError> {
    let text = regular::read_to_string(path).map_err(|e| RunError::io(path, &e))?;
    serde_json::from_str(&text).map_err(|e| RunError::damaged(path, e.to_string()))
}

/// Every float parameter's path and shape, in module order.
#[derive(Default)]
struct Shapes {
    path: Vec<String>,
    shapes: Vec<(String, Vec<usize>)>,
}

impl<B: Backend> burn::module::ModuleVisitor<B> for Shapes {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::tensor::Tensor<B, D>>) {
        self.shapes.push((self.path.join("."), param.val().dims().to_vec()));
    }
}

fn shapes<B: Backend, M: Module<B>>(model: &M) -> Vec<(String, Vec<usize>)> {
    let mut visitor = Shapes::default();
    model.visit(&mut visitor);
    visitor.shapes
}

/// Loads `model.mpk` into a model built from `model.json`; a damaged file, or weights of
/// other shapes than the config's (an edited `model.json`, another run's `model.mpk`), is an
/// error naming the file and the first differing weight.
fn load_weights<B: Backend, M: Module<B>>(model: M, dir: &Path, device: &B::Device) -> Result<M, RunError> {
    let file = dir.join(Artifacts::WEIGHTS);
    let expected = shapes(&model);
    // The recorder's error does not keep the OS error's kind, and it would wait on a pipe: look
    // at the file first.
    if let Err(e) = regular::open(&file) {
        return Err(RunError::io(&file, &e));
    }
    let loaded = model.load_file(dir.join(Artifacts::WEIGHTS_STEM), &weights_recorder(), device).map_err(|e| {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default().split("\\n").next().unwrap_or_default();
        RunError::damaged(&file, format!("damaged or truncated, or not a seqlab model ({first})"))
    })?;
    let found = shapes(&loaded);
    if found.len() != expected.len() {
        return Err(RunError::mismatch(
            &file,
            format!("{} weights where model.json describes {}", found.len(), expected.len()),
        ));
    }
    if let Some(((name, want), (_, got))) = expected.iter().zip(&found).find(|((_, a), (_, b))| a != b) {
        return Err(RunError::mismatch(
            &file,
            format!(
                "weight {name} has shape {got:?} where model.json (with vocab.json and the label file) gives \
                 {want:?}; the files come from different runs or were edited"
            ),
        ));
    }
    Ok(loaded)
}

/// Loads an int8 model's weights ([`Artifacts::WEIGHTS_INT8`]) into a model built from
/// `model.json`; says once per process when this CPU computes int8 products without VNNI.
fn load_int8<B: Backend, M: Module<B>>(model: M, dir: &Path) -> Result<M, RunError> {
    let file = dir.join(Artifacts::WEIGHTS_INT8);
    let bytes = regular::read(&file).map_err(|e| RunError::io(&file, &e))?;
    static SLOW: std::sync::Once = std::sync::Once::new();
    if !seqlab_models::recurrent::kernel::int8::vnni() {
        SLOW.call_once(|| {
            crate::note!(
                "warning: this CPU lacks AVX-512 VNNI: the int8 model's products run on the scalar fallback, \
                 slower than the f32 model"
            );
        });
    }
    seqlab_models::quantize::load_int8_file(model, &bytes).map_err(|e| RunError::damaged(&file, e.to_string()))
}

fn check_sizes(dir: &Path, what: &str, config: usize, files: usize) -> Result<(), RunError> {
    if config == files {
        Ok(())
    } else {
        Err(RunError::mismatch(dir, format!("model.json expects {config} {what}, the folder's files have {files}")))
    }
}

/// Loads an artifacts folder written by `train-classifier` or `train-tagger`.
pub fn load<B: Backend>(dir: &Path, device: &B::Device) -> Result<Loaded<B>, RunError> {
    if !dir.is_dir() {
        return Err(RunError::Missing { path: dir.into(), message: "no such artifacts folder".into() });
    }
    let loaded = load_unchecked(dir, device)?;
    // Sizes and shapes agree; the checksums catch what they cannot (a shuffled vocabulary).
    Artifacts::at(dir).check_manifest()?;
    Ok(loaded)
}

fn load_unchecked<B: Backend>(dir: &Path, device: &B::Device) -> Result<Loaded<B>, RunError> {
    let folder = Artifacts::at(dir);
    let vocab = Vocab::load(folder.file(Artifacts::VOCAB))?;
    let model_config = folder.file(Artifacts::MODEL_CONFIG);
    let config_error = |e: burn::config::ConfigError| RunError::damaged(&model_config, e.to_string());
    if folder.task() == Task::Tagging {
        let tags = LabelMap::load(folder.file(Artifacts::TAGS))?;
        let config = TokenClassifierConfig::load(&model_config).map_err(config_error)?;
        check_sizes(dir, "words", config.vocab_size, vocab.len())?;
        check_sizes(dir, "tags", config.num_tags, tags.len())?;
        let char_ids = config.chars.as_ref().map(|c| c.vocab_size).or(config.char_lstm.as_ref().map(|c| c.vocab_size));
        let chars = match char_ids {
            Some(size) => {
                let chars = Vocab::load(folder.file(Artifacts::CHARS))?;
                check_sizes(dir, "characters", size, chars.len())?;
                Some(chars)
            }
            None => None,
        };
        let model = match config.precision.unwrap_or_default() {
            Precision::F32 => load_weights(config.init::<B>(device), dir, device)?,
            Precision::Int8 => load_int8(config.init::<B>(device), dir)?.quantize_int8(),
        };
        Ok(Loaded::Tagger(LoadedTagger { model, vocab, tags, chars, run: load_json(&folder.file(Artifacts::RUN))? }))
    } else {
        let labels = LabelMap::load(folder.file(Artifacts::LABELS))?;
        let config = SequenceClassifierConfig::load(&model_config).map_err(config_error)?;
        check_sizes(dir, "words", config.vocab_size, vocab.len())?;
        check_sizes(dir, "labels", config.num_classes, labels.len())?;
        let model = match config.precision.unwrap_or_default() {
            Precision::F32 => load_weights(config.init::<B>(device), dir, device)?,
            Precision::Int8 => load_int8(config.init::<B>(device), dir)?.quantize_int8(),
        };
        Ok(Loaded::Classifier(LoadedClassifier { model, vocab, labels, run: load_json(&folder.file(Artifacts::RUN))? }))
    }
}
