//! `seqlab._seqlab`: the compiled half of the Python package. A [`Model`] is a trained
//! artifacts folder loaded once; its answers are the objects `predict --json` writes (less their
//! `line`), handed to Python as JSON text that `seqlab/__init__.py` turns into dicts. The GIL is
//! released while the model computes, so other Python threads run meanwhile; calls from several
//! threads at once take turns on the one model. [`train`] runs `train-tagger` or
//! `train-classifier` with options given as a table, through the command line's own parsing,
//! checks and messages.

use std::path::PathBuf;
use std::sync::Mutex;

use clap::{CommandFactory, FromArgMatches};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use seqlab_bins::args::training::CommandDefaults;
use seqlab_bins::args::{train_classifier, train_tagger};
use seqlab_bins::cli::TrainerArgs;
use seqlab_bins::config_file::table_arguments;
use seqlab_datasets::text::{Normalisation, Tokenizer};
use seqlab_training::backend::{self, Device, Inner};
use seqlab_training::error::RunError;
use seqlab_training::inference::{Loaded, TextReading};

create_exception!(
    _seqlab,
    ArtifactsError,
    PyException,
    "An artifacts folder that cannot be loaded: missing, damaged, or written by something else."
);

/// Texts as a caller gives them: raw strings, or sentences already split into tokens.
#[derive(FromPyObject)]
enum Texts {
    #[pyo3(transparent)]
    Raw(Vec<String>),
    #[pyo3(transparent)]
    Tokens(Vec<Vec<String>>),
}

/// A trained model loaded from its artifacts folder.
#[pyclass(frozen, module = "seqlab._seqlab")]
struct Model {
    loaded: Mutex<Loaded<Inner>>,
    device: Device,
    path: PathBuf,
}

/// The error of a model call: a bad option or text is Python's `ValueError`, anything else the
/// folder's `ArtifactsError`.
fn error(e: RunError) -> PyErr {
    match e {
        RunError::Invalid { .. } | RunError::Input(_) => PyValueError::new_err(e.to_string()),
        _ => ArtifactsError::new_err(e.to_string()),
    }
}

/// A tokenizer by its name, or `ValueError` listing the names.
fn tokenizer(name: Option<&str>) -> PyResult<Option<Tokenizer>> {
    name.map(|n| {
        n.parse::<Tokenizer>()
            .map_err(|_| PyValueError::new_err(format!("tokenizer: {n:?} is none of whitespace, basic, ptb, words")))
    })
    .transpose()
}

/// Answers as JSON text, one per text.
fn json<T: serde::Serialize>(answers: &[T]) -> Vec<String> {
    answers.iter().map(|a| serde_json::to_string(a).expect("an answer serialises")).collect()
}

#[pymethods]
impl Model {
    /// `"tagger"` or `"classifier"`.
    #[getter]
    fn task(&self) -> &'static str {
        match &*self.lock() {
            Loaded::Classifier(_) => "classifier",
            Loaded::Tagger(_) => "tagger",
        }
    }

    /// A classifier's labels, or a tagger's tags (in the training scheme), in id order.
    #[getter]
    fn labels(&self) -> Vec<String> {
        match &*self.lock() {
            Loaded::Classifier(c) => c.labels.names.clone(),
            Loaded::Tagger(t) => t.tags.names.iter().filter(|n| !n.starts_with('<')).cloned().collect(),
        }
    }

    /// The folder's `run.json`: every option of the training run, as JSON text.
    #[getter]
    fn config(&self) -> String {
        match &*self.lock() {
            Loaded::Classifier(c) => serde_json::to_string(&c.run),
            Loaded::Tagger(t) => serde_json::to_string(&t.run),
        }
        .expect("a run config serialises")
    }

    /// The folder it was loaded from.
    #[getter]
    fn path(&self) -> String {
        self.path.display().to_string()
    }

    /// The answers to `texts`, as JSON text, one per text.
    #[pyo3(signature = (texts, *, nbest = 0, sentences = false, tokenizer = None))]
    fn predict_json(
        &self,
        py: Python<'_>,
        texts: Texts,
        nbest: usize,
        sentences: bool,
        tokenizer: Option<&str>,
    ) -> PyResult<Vec<String>> {
        let tokenizer = self::tokenizer(tokenizer)?;
        py.detach(|| self.predict(texts, nbest, sentences, tokenizer))
    }
}

impl Model {
    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded<Inner>> {
        // A panic inside a model call leaves nothing half-changed: the model is only read.
        self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn predict(
        &self,
        texts: Texts,
        nbest: usize,
        sentences: bool,
        tokenizer: Option<Tokenizer>,
    ) -> PyResult<Vec<String>> {
        let loaded = self.lock();
        match (&*loaded, texts) {
            (Loaded::Classifier(_), _) if nbest > 0 => {
                Err(PyValueError::new_err("nbest: the model is a classifier; n best taggings are a CRF tagger's"))
            }
            (Loaded::Classifier(_), _) if sentences => {
                Err(PyValueError::new_err("sentences: the model is a classifier, which reads each text whole"))
            }
            (Loaded::Classifier(c), texts) => {
                let own = c.run.normalisation();
                let norm = Normalisation { tokenizer: tokenizer.unwrap_or(own.tokenizer), ..own };
                let tokens: Vec<Vec<String>> = match texts {
                    Texts::Raw(raw) => raw.iter().map(|t| norm.tokens(t)).collect(),
                    Texts::Tokens(lists) if norm.lowercase => {
                        lists.into_iter().map(|l| l.iter().map(|t| t.to_lowercase()).collect()).collect()
                    }
                    Texts::Tokens(lists) => lists,
                };
                if let Some(i) = tokens.iter().position(Vec::is_empty) {
                    return Err(PyValueError::new_err(format!(
                        "texts[{i}]: no tokens; a classifier needs at least one word"
                    )));
                }
                Ok(json(&backend::predict_label_tokens(c, tokens, &self.device)))
            }
            (Loaded::Tagger(t), Texts::Raw(raw)) => {
                let reading = TextReading { tokenizer: tokenizer.unwrap_or(t.tokenizer()), sentences };
                let read: Vec<_> = raw.iter().map(|text| reading.read(text)).collect();
                Ok(json(&backend::predict_read(t, &read, nbest, &self.device).map_err(error)?))
            }
            (Loaded::Tagger(t), Texts::Tokens(lists)) => {
                Ok(json(&backend::predict_token_lists(t, &lists, nbest, &self.device).map_err(error)?))
            }
        }
    }
}

/// Loads the trained model in the artifacts folder `path`.
#[pyfunction]
fn load(py: Python<'_>, path: PathBuf) -> PyResult<Model> {
    py.detach(|| {
        let device = Device::default();
        let loaded = backend::load(&path, &device).map_err(|e| ArtifactsError::new_err(e.to_string()))?;
        Ok(Model { loaded: Mutex::new(loaded), device, path })
    })
}

/// The arguments of `command` (with its recipe's defaults) that give `options`, parsed as the
/// command line parses them; an error is clap's message.
fn parse<A: CommandFactory + FromArgMatches>(
    recipe: &CommandDefaults,
    mut options: serde_json::Map<String, serde_json::Value>,
) -> PyResult<A> {
    let command = recipe.shown_in(A::command());
    // No dashboard inside Python: the epochs' lines instead.
    options.retain(|key, _| key.replace('_', "-") != "no-tui");
    let argv = table_arguments(&command, &options).map_err(PyValueError::new_err)?;
    let name = command.get_name().to_string();
    let all = std::iter::once(name.into()).chain(argv).chain(["--no-tui".into()]);
    let matches = command
        .try_get_matches_from(all)
        .map_err(|e| PyValueError::new_err(e.render().to_string().trim_end().to_string()))?;
    A::from_arg_matches(&matches).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Trains as `command` (`train-tagger` or `train-classifier`) does with `options` (JSON: the
/// long options as keys) and returns its `metrics.json` as JSON text.
#[pyfunction]
fn train(py: Python<'_>, command: &str, options: &str) -> PyResult<String> {
    let options: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(options).map_err(|e| PyValueError::new_err(format!("options: {e}")))?;
    match command {
        "train-tagger" => {
            let args = parse::<train_tagger::Args>(&train_tagger::RECIPE, options)?;
            run(py, args.run_config(), backend::train_tagger)
        }
        "train-classifier" => {
            let args = parse::<train_classifier::Args>(&train_classifier::RECIPE, options)?;
            run(py, args.run_config(), backend::train_classifier)
        }
        other => Err(PyValueError::new_err(format!("{other:?} is neither train-tagger nor train-classifier"))),
    }
}

/// Trains `config` (an option error as `ValueError`) with the GIL released; the report as JSON.
fn run<C: Sync, R: serde::Serialize + Send>(
    py: Python<'_>,
    config: Result<C, String>,
    train: fn(&C, &Device) -> Result<R, RunError>,
) -> PyResult<String> {
    let config = config.map_err(PyValueError::new_err)?;
    let report = py.detach(|| train(&config, &Device::default())).map_err(error)?;
    Ok(serde_json::to_string(&report).expect("a report serialises"))
}

#[pymodule]
fn _seqlab(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Training's lines go to the process's streams and never panic when one is closed.
    seqlab_training::console::write_directly();
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_class::<Model>()?;
    m.add("ArtifactsError", m.py().get_type::<ArtifactsError>())?;
    Ok(())
}
