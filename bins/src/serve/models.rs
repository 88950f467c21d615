//! What the server knows of each model without asking its worker: its name, task, labels or
//! entity types, whether it gives n best taggings, how it reads raw text (read once: the tokens
//! are checked against the limit and then queued for the worker), and what `GET /v1/models`
//! shows of it.

use std::path::{Path, PathBuf};

use seqlab_datasets::text::{Normalisation, Tokenizer};
use seqlab_training::inference::{Loaded, ReadText, TextReading};
use seqlab_training::Artifacts;
use serde_json::Value;

/// A model to serve: its name in the URL and its artifacts folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// The name (`/v1/models/{name}/predict`).
    pub name: String,
    /// The training run's artifacts folder.
    pub dir: PathBuf,
}

impl std::str::FromStr for ModelSpec {
    type Err = String;

    /// `NAME=DIR`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, dir) = text.split_once('=').ok_or_else(|| format!("{text:?} is not NAME=DIR"))?;
        // `.` and `..` are path segments a URL resolves away: no request could reach them.
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && name.chars().any(|c| c != '.');
        if !valid {
            return Err(format!("model name {name:?}: use letters, digits, '-', '_' and '.' (not dots alone)"));
        }
        Ok(Self { name: name.to_string(), dir: dir.into() })
    }
}

/// How a model turns raw text into tokens (as its training run did).
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// A classifier's tokenizer and casing.
    Classifier(Normalisation),
    /// A tagger's tokenizer.
    Tagger(Tokenizer),
}

impl Reader {
    /// The model's tokenizer.
    pub fn tokenizer(&self) -> Tokenizer {
        match self {
            Reader::Classifier(n) => n.tokenizer,
            Reader::Tagger(t) => *t,
        }
    }

    /// `text` as the model will read it, with `tokenizer` instead of the model's when given,
    /// cut into sentences when `sentences` is set (a tagger's; the caller has refused it for a
    /// classifier). A classifier's tokens are lower-cased when its training run's were.
    pub fn read(&self, text: &str, tokenizer: Option<Tokenizer>, sentences: bool) -> ReadText {
        let tokenizer = tokenizer.unwrap_or(self.tokenizer());
        let mut read = TextReading { tokenizer, sentences }.read(text);
        if let Reader::Classifier(Normalisation { lowercase: true, .. }) = self {
            read.tokens.iter_mut().for_each(|t| t.token = t.token.to_lowercase());
        }
        read
    }
}

/// A served model, as the HTTP side sees it.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// Its name.
    pub name: String,
    /// How it reads raw text.
    pub reader: Reader,
    /// Whether it can give n best taggings (a CRF tagger).
    pub nbest: bool,
    /// What `GET /v1/models` lists for it.
    pub summary: Value,
}

impl ModelInfo {
    /// Whether the model is a tagger (which answers an empty sentence with an empty tagging).
    pub fn tags(&self) -> bool {
        matches!(self.reader, Reader::Tagger(_))
    }

    /// The info of a loaded model from `dir`.
    pub fn of<B: burn::tensor::backend::Backend>(name: &str, dir: &Path, loaded: &Loaded<B>) -> Self {
        let artifacts = Artifacts::at(dir);
        let json = |file: &str| -> Value {
            std::fs::read_to_string(artifacts.file(file))
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null)
        };
        let (reader, nbest, task) = match loaded {
            Loaded::Classifier(c) => (
                Reader::Classifier(c.run.normalisation()),
                false,
                serde_json::json!({ "task": "classifier", "labels": c.labels.names }),
            ),
            Loaded::Tagger(t) => (
                Reader::Tagger(t.run.tokenizer.unwrap_or(Tokenizer::Whitespace)),
                t.model.crf.is_some(),
                serde_json::json!({
                    "task": "tagger",
                    "tags": t.tags.names,
                    "entity_types": t.tags.entity_types(),
                    "scheme": t.file_scheme(),
                }),
            ),
        };
        let mut summary = serde_json::json!({ "name": name, "nbest": nbest });
        summary.as_object_mut().expect("an object").extend(task.as_object().expect("an object").clone());
        summary["config"] = json(Artifacts::MODEL_CONFIG);
        summary["training"] = json(Artifacts::METRICS);
        Self { name: name.to_string(), reader, nbest, summary }
    }
}
