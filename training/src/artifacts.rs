//! The artifacts folder of a run: [`Artifacts`] names every file in it, and this file writes
//! and checks the ones a trained model is rebuilt from (`run.json`, `model.json`, `vocab.json`,
//! the label map, the weights, `manifest.json`).
//!
//! | file | written by | what it holds |
//! | --- | --- | --- |
//! | `run.json` | [`write_setup`] | the resolved options of the run (`--resume` compares them) |
//! | `model.json` | [`write_setup`] | the model's config (the heads' `*Config`) |
//! | `vocab.json` | [`write_setup`] | the word vocabulary |
//! | `labels.json` / `tags.json` | [`write_setup`] | the classifier's labels / the tagger's tags: which one exists says the task |
//! | `chars.json` | the tagger | the character vocabulary (character features only) |
//! | `embeddings.json` | `crate::vectors` | how the pretrained vectors matched the vocabulary |
//! | `model.mpk` | [`write_results`] | the best epoch's weights |
//! | `model.int8.safetensors` | `crate::quantize` | an int8 model's weights, in place of `model.mpk` |
//! | `metrics.json` | [`write_results`] | the scores and the [`crate::learner::TrainingSummary`] |
//! | `manifest.json` | [`write_setup`], [`write_results`] | checksums of the files above, checked on loading |
//! | `log.csv`, `progress.json`, `curves.svg` | `crate::epochs::AfterEpoch`, `crate::curves` | one line per epoch; the resumable state; the learning curves |
//! | `checkpoint/` | burn-train, [`crate::durable::AtomicRecorder`] | `model-N.mpk`, `optim-N.mpk`, `scheduler-N.mpk` |
//! | `train/`, `valid/` | burn-train | its own metric logs |
//! | `experiment.log` | burn-train | its application log |
//! | `.lock` | `crate::lock` | held while a run trains |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;

use crate::durable::{write, AtomicRecorder};
use crate::error::RunError;
use seqlab_datasets::chunks::Fingerprint;
use seqlab_datasets::{Task, Validation};

/// An artifacts folder, and the name of every file a run writes in it.
#[derive(Debug, Clone)]
pub struct Artifacts {
    dir: PathBuf,
}

impl Artifacts {
    pub const RUN: &'static str = "run.json";
    pub const MODEL_CONFIG: &'static str = "model.json";
    pub const VOCAB: &'static str = "vocab.json";
    pub const LABELS: &'static str = "labels.json";
    pub const TAGS: &'static str = "tags.json";
    pub const CHARS: &'static str = "chars.json";
    pub const EMBEDDINGS: &'static str = "embeddings.json";
    pub const MANIFEST: &'static str = "manifest.json";
    /// The weights, as Burn's recorder names them (it adds `.mpk`).
    pub const WEIGHTS_STEM: &'static str = "model";
    pub const WEIGHTS: &'static str = "model.mpk";
    /// An int8 model's weights (written by `crate::quantize` in place of `model.mpk`).
    pub const WEIGHTS_INT8: &'static str = "model.int8.safetensors";
    pub const METRICS: &'static str = "metrics.json";
    pub const LOG: &'static str = "log.csv";
    pub const PROGRESS: &'static str = "progress.json";
    pub const CURVES: &'static str = "curves.svg";
    pub const CHECKPOINTS: &'static str = "checkpoint";
    /// The encoded training split (see `crate::corpus_cache`).
    pub const CORPUS: &'static str = "corpus";
    pub const LOCK: &'static str = ".lock";
    /// burn-train's metric logs and application log.
    pub const BURN_TRAIN: [&'static str; 3] = ["train", "valid", "experiment.log"];

    /// Everything a training run writes (what `--overwrite` removes), the lock aside.
    pub const RUN_FILES: [&'static str; 18] = [
        Self::RUN,
        Self::MODEL_CONFIG,
        Self::VOCAB,
        Self::LABELS,
        Self::TAGS,
        Self::CHARS,
        Self::EMBEDDINGS,
        Self::MANIFEST,
        Self::WEIGHTS,
        Self::METRICS,
        Self::LOG,
        Self::PROGRESS,
        Self::CHECKPOINTS,
        Self::CURVES,
        Self::CORPUS,
        Self::BURN_TRAIN[0],
        Self::BURN_TRAIN[1],
        Self::BURN_TRAIN[2],
    ];

    /// The files a trained model is rebuilt from, checksummed by `manifest.json` when present.
    const MANIFESTED: [&'static str; 7] =
        [Self::MODEL_CONFIG, Self::VOCAB, Self::LABELS, Self::TAGS, Self::CHARS, Self::WEIGHTS, Self::WEIGHTS_INT8];

    /// The folder `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file (or folder) `name` of this folder; `name` is one of the constants above.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Checkpoint file `kind` (`model`, `optim` or `scheduler`) of epoch `epoch`.
    pub fn checkpoint(&self, kind: &str, epoch: usize) -> PathBuf {
        self.dir.join(Self::CHECKPOINTS).join(format!("{kind}-{epoch}.mpk"))
    }

    /// The file of a `task`'s labels: [`Self::TAGS`] for a tagger, [`Self::LABELS`] for a
    /// classifier.
    pub fn labels_file(task: Task) -> &'static str {
        match task {
            Task::Tagging => Self::TAGS,
            Task::Classification => Self::LABELS,
        }
    }

    /// The task the folder's model was trained for: a tagger's folder has `tags.json`; any
    /// other is taken for a classifier's (whose loading then names a missing `labels.json`).
    pub fn task(&self) -> Task {
        if self.file(Self::TAGS).exists() {
            Task::Tagging
        } else {
            Task::Classification
        }
    }

    /// Records the checksums of the files a model is rebuilt from (those present) in
    /// `manifest.json`.
    pub fn write_manifest(&self) -> Result<(), RunError> {
        let mut files = BTreeMap::new();
        for name in Self::MANIFESTED {
            let path = self.file(name);
            if path.exists() {
                files.insert(name.to_string(), checksum(&read(&path)?));
            }
        }
        write(&self.file(Self::MANIFEST), serde_json::to_string_pretty(&Manifest { files }).unwrap())
    }

    /// Checks the files against `manifest.json`, so that an edited, shuffled or swapped
    /// `vocab.json`, or another run's `model.mpk` of the same shapes (which no shape check can
    /// see), is an error instead of silently wrong predictions. A folder without a manifest
    /// (written before it existed, or with the file removed) passes with a warning, once per
    /// folder and process.
    pub fn check_manifest(&self) -> Result<(), RunError> {
        let path = self.file(Self::MANIFEST);
        if !path.exists() {
            static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
            let mut warned = WARNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if !warned.contains(&path) {
                crate::note!(
                    "warning: {} is missing (a folder written before seqlab recorded one, or the file was removed): \
                     the model's files cannot be checked against each other",
                    path.display()
                );
                warned.push(path);
            }
            return Ok(());
        }
        let manifest: Manifest = serde_json::from_slice(&read(&path)?)
            .map_err(|e| RunError::damaged(&path, format!("not a manifest: {e}")))?;
        for (name, expected) in &manifest.files {
            let file = self.file(name);
            if !file.exists() {
                let message = format!("missing ({} lists it)", Self::MANIFEST);
                return Err(RunError::Missing { path: file, message });
            }
            let found = checksum(&read(&file)?);
            if &found != expected {
                return Err(RunError::mismatch(
                    &file,
                    format!(
                        "changed since training (checksum {found}, {} recorded {expected}); the weights were trained \
                         with the original file",
                        Self::MANIFEST
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `manifest.json`: file name → checksum (`fnv1a64:` and 16 hex digits).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Manifest {
    files: BTreeMap<String, String>,
}

/// The 64-bit FNV-1a hash of `bytes`, as `manifest.json` writes it.
pub fn checksum(bytes: &[u8]) -> String {
    format!("fnv1a64:{:016x}", fnv1a64(bytes))
}

/// The 64-bit FNV-1a hash of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn read(path: &Path) -> Result<Vec<u8>, RunError> {
    seqlab_datasets::regular::read(path).map_err(|e| RunError::io(path, &e))
}

/// The recorder of `model.mpk`: named MessagePack at full precision.
pub fn weights_recorder() -> AtomicRecorder {
    AtomicRecorder::default()
}

/// What a run writes into its folder before training ([`write_setup`]).
pub struct Setup<'a, R, M> {
    /// The run's options, resolved.
    pub run: &'a R,
    /// Its input files' fingerprints ([`input_fingerprints`]).
    pub data: &'a [(&'static str, Option<Fingerprint>)],
    /// The network's config.
    pub model: &'a M,
    /// The vocabulary.
    pub vocab: &'a seqlab_datasets::text::Vocab,
    /// The labels or tags.
    pub labels: &'a seqlab_datasets::LabelMap,
    /// The task, which names their file ([`Artifacts::labels_file`]).
    pub task: Task,
}

/// The input files a run records in `run.json` (which `--resume` checks): the training split's
/// size and CRC-32 as it was read, and the validation and test files' (none for a share held
/// out, an embedded corpus, or what cannot be read twice).
pub fn input_fingerprints(
    train: Fingerprint,
    valid: &Validation,
    test: Option<&str>,
) -> [(&'static str, Option<Fingerprint>); 3] {
    [
        ("train", Some(train)),
        ("valid", valid.file().and_then(input_fingerprint)),
        ("test", test.and_then(input_fingerprint)),
    ]
}

/// Creates the artifacts folder and writes what a trained model is rebuilt from:
/// `run.json` (the run and its input files), `model.json`, `vocab.json` and the label map.
///
/// With `resume`, the folder must hold the same run (see [`check_resumable`]) with the same
/// vocabulary and labels; nothing is overwritten.
pub fn write_setup<R: serde::Serialize, M: burn::config::Config>(
    dir: &Path,
    resume: bool,
    setup: &Setup<'_, R, M>,
) -> Result<(), RunError> {
    let Setup { run, data, model, vocab, labels, task } = *setup;
    let labels_file = Artifacts::labels_file(task);
    let run = &run_record(run, data);
    if resume {
        check_resumable(dir, run)?;
        let same = |file: &str, now: serde_json::Value| -> Result<(), RunError> {
            let path = dir.join(file);
            let saved: serde_json::Value = seqlab_datasets::regular::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| RunError::damaged(&path, "missing or unreadable (--resume needs it)"))?;
            if saved != now {
                let message = "differs from the one built from the training data now (did the data change?); --resume \
                               continues only the same run";
                return Err(RunError::mismatch(&path, message));
            }
            Ok(())
        };
        same(Artifacts::VOCAB, serde_json::to_value(vocab).unwrap())?;
        return same(labels_file, serde_json::to_value(labels).unwrap());
    }
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, &e))?;
    let folder = Artifacts::at(dir);
    write(&folder.file(Artifacts::RUN), serde_json::to_string_pretty(run).unwrap())?;
    write(&folder.file(Artifacts::MODEL_CONFIG), serde_json::to_string_pretty(model).unwrap())?;
    write(&folder.file(Artifacts::VOCAB), serde_json::to_string(vocab).unwrap())?;
    write(&folder.file(labels_file), serde_json::to_string_pretty(labels).unwrap())?;
    folder.write_manifest()
}

/// Writes the trained weights (`model.mpk`) and the scores (`metrics.json`).
pub fn write_results<B: Backend, M: burn::module::Module<B>>(
    dir: &Path,
    model: &M,
    report: &impl serde::Serialize,
) -> Result<(), RunError> {
    let folder = Artifacts::at(dir);
    model
        .clone()
        .save_file(folder.file(Artifacts::WEIGHTS_STEM), &weights_recorder())
        .map_err(|e| RunError::Other(format!("saving the model: {e}")))?;
    write(&folder.file(Artifacts::METRICS), serde_json::to_string_pretty(report).unwrap())?;
    folder.write_manifest()
}

/// The size and CRC-32 of an input file for `run.json`, or `None` for what cannot be read twice
/// (a pipe, a device) or read at all (the reading pass already named that error).
fn input_fingerprint(path: &str) -> Option<Fingerprint> {
    let path = Path::new(path);
    std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    Fingerprint::of_file(path).ok()
}

/// A run's options as `run.json` records them: `run` plus `data`, the size and CRC-32 of each
/// input file by option (`"train": {"bytes": .., "crc32": ..}`), which `--resume` checks.
fn run_record(run: &impl serde::Serialize, data: &[(&str, Option<Fingerprint>)]) -> serde_json::Value {
    let mut record = serde_json::to_value(run).unwrap();
    let files: serde_json::Map<String, serde_json::Value> =
        data.iter().map(|(option, print)| ((*option).to_string(), serde_json::to_value(print).unwrap())).collect();
    if let Some(object) = record.as_object_mut() {
        object.insert(DATA.into(), serde_json::Value::Object(files));
    }
    record
}

/// The key of `run.json` that holds the input files' fingerprints.
const DATA: &str = "data";

/// Checks that every input file `--resume` is given is the one the run began with, by size and
/// CRC-32 (folders written before `data` was recorded are not checked).
fn check_same_data(
    path: &Path,
    saved: Option<serde_json::Value>,
    now: Option<serde_json::Value>,
) -> Result<(), RunError> {
    let (Some(serde_json::Value::Object(saved)), Some(serde_json::Value::Object(now))) = (saved, now) else {
        return Ok(());
    };
    for (option, print) in &now {
        let then =
            saved.get(option).and_then(|v| serde_json::from_value::<Option<Fingerprint>>(v.clone()).ok()).flatten();
        let print = serde_json::from_value::<Option<Fingerprint>>(print.clone()).ok().flatten();
        if let (Some(then), Some(print)) = (then, print) {
            if then != print {
                return Err(RunError::mismatch(
                    path,
                    format!(
                        "--{option} changed since this run began ({} bytes, CRC-32 {:08x} then; {} bytes, {:08x} now); \
                         --resume continues only the same data: restore the file, or start again with --overwrite",
                        then.bytes, then.crc32, print.bytes, print.crc32
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Creates the artifacts folder `dir` (and its parents), naming `--artifacts` when the path is
/// taken by something that is not a folder.
pub fn create_folder(dir: &Path) -> Result<(), RunError> {
    if let Ok(meta) = std::fs::metadata(dir) {
        if !meta.is_dir() {
            return Err(RunError::invalid(
                "artifacts",
                format!("{} is a file, not a folder; name a folder (it is created if missing)", dir.display()),
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, &e))
}

/// Checks, for `--resume`, that the artifacts folder was written by the same run: its
/// `run.json` must equal `resolved` except for the epochs, the resume/overwrite/dashboard
/// switches and the folder's own path. A difference is named by its option (`--hidden`).
pub fn check_resumable<R: serde::Serialize>(artifacts: &Path, resolved: &R) -> Result<(), RunError> {
    let path = artifacts.join(Artifacts::RUN);
    let text = seqlab_datasets::regular::read_to_string(&path)
        .map_err(|e| RunError::Missing { path: path.clone(), message: format!("{e} (--resume: nothing to resume)") })?;
    let mut saved: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| RunError::damaged(&path, format!("not a run.json: {e}")))?;
    let mut now = serde_json::to_value(resolved).unwrap();
    let take_data = |v: &mut serde_json::Value| v.as_object_mut().and_then(|o| o.remove(DATA));
    let (saved_data, now_data) = (take_data(&mut saved), take_data(&mut now));
    check_same_data(&path, saved_data, now_data)?;
    for v in [&mut saved, &mut now] {
        if let Some(t) = v.get_mut("training").and_then(|t| t.as_object_mut()) {
            for volatile in ["epochs", "resume", "overwrite", "tui", "devices"] {
                t.remove(volatile);
            }
        }
        if let Some(o) = v.as_object_mut() {
            o.remove("artifacts");
            // Folders written before paths were stored canonical hold them as given.
            for key in ["train", "valid", "test", "embeddings"] {
                if let Some(serde_json::Value::String(p)) = o.get_mut(key) {
                    *p = canonical(p);
                }
            }
        }
    }
    let mut differ = Vec::new();
    differences("", &saved, &now, &mut differ);
    if !differ.is_empty() {
        return Err(RunError::mismatch(
            &path,
            format!(
                "written by a different run: {}; resume with the same options, or use a new --artifacts folder",
                differ.join("; ")
            ),
        ));
    }
    Ok(())
}

/// The leaves where `a` (run.json) and `b` (now) differ, as `--option (run.json: x, now: y)`.
fn differences(at: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
                differences(
                    &path,
                    x.get(key.as_str()).unwrap_or(&Value::Null),
                    y.get(key.as_str()).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if a != b => {
            let leaf = at.rsplit('.').next().unwrap_or(at);
            let option = match leaf {
                "learning_rate" => "lr".to_string(),
                _ => leaf.replace('_', "-"),
            };
            out.push(format!("--{option} (run.json: {a}, now: {b})"));
        }
        _ => {}
    }
}

/// `path` as an absolute, canonical path when it names a file or folder on disk (so that a run
/// started from another directory, or with `./x` for `x`, is recognised), else unchanged.
pub fn canonical(path: &str) -> String {
    std::fs::canonicalize(path).map_or_else(|_| path.to_string(), |p| p.display().to_string())
}

/// Validation data as `run.json` records it: a file's path made canonical, a holdout as it is.
fn canonical_valid(valid: &Validation) -> Validation {
    match valid {
        Validation::File(path) => Validation::File(canonical(path)),
        Validation::HeldOut(h) => Validation::HeldOut(*h),
    }
}

/// The files a run's config names, as both tasks' configs name them: written canonical to
/// `run.json` ([`RunFiles::make_canonical`]), and left out of what the ranks of a job must agree
/// on ([`RunFiles::blank`]), since paths differ between machines (the data files count by their
/// contents).
pub struct RunFiles<'a> {
    /// `--train`.
    pub train: &'a mut String,
    /// `--valid` or `--valid-fraction`.
    pub valid: &'a mut Validation,
    /// `--test`.
    pub test: &'a mut Option<String>,
    /// `--artifacts`.
    pub artifacts: &'a mut PathBuf,
    /// `--embeddings`.
    pub embeddings: &'a mut Option<PathBuf>,
}

impl RunFiles<'_> {
    /// The data and vectors files' paths made canonical (the artifacts folder as given).
    pub fn make_canonical(self) {
        *self.train = canonical(self.train);
        *self.valid = canonical_valid(self.valid);
        *self.test = self.test.as_deref().map(canonical);
        *self.embeddings = self.embeddings.as_deref().map(|p| canonical(&p.display().to_string()).into());
    }

    /// Every path blank, keeping whether validation is a file or a held-out share and whether
    /// there are vectors; no test file (it is scored after training, by each rank alone).
    pub fn blank(self) {
        self.train.clear();
        if let Validation::File(path) = self.valid {
            path.clear();
        }
        *self.test = None;
        *self.artifacts = PathBuf::new();
        if let Some(path) = self.embeddings {
            *path = PathBuf::new();
        }
    }
}

/// What the encoded training split is made from: the training file, less the share held out
/// for validation when there is one (so that a cached corpus of another share is not reused).
pub fn training_source(train: &str, valid: &Validation) -> String {
    match valid.holdout() {
        Some(h) => format!("{train} less {h}"),
        None => train.to_string(),
    }
}
