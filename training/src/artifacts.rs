//! What every training run shares: its error type, artifact writing, and the length-bucketed
//! data loaders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::tensor::backend::Backend;
use seqlab_datasets::batch::{bucket_batches, BucketedDataset, Flatten};
use seqlab_datasets::DataError;

use crate::checkpoint::{AtomicRecorder, EpochWatch, KeepBestAndLast, Progress, Selection};
use crate::optim::{OptimConfig, OptimizerKind, Schedule, ScheduleKind};

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// Bad or missing data.
    Data(DataError),
    /// Anything else, with a message.
    Other(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Data(e) => e.fmt(f),
            Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

impl From<DataError> for RunError {
    fn from(e: DataError) -> Self {
        Self::Data(e)
    }
}

/// The recorder of `model.mpk`: named MessagePack at full precision.
pub fn weights_recorder() -> AtomicRecorder {
    AtomicRecorder::default()
}

/// Creates the artifacts folder and writes what a trained model is rebuilt from:
/// `run.json`, `model.json`, `vocab.json` and the label map as `labels_file`.
///
/// With `resume`, the folder must hold the same run (see [`check_resumable`]) with the same
/// vocabulary and labels; nothing is overwritten.
pub fn write_setup(
    dir: &Path,
    run: &impl serde::Serialize,
    resume: bool,
    model: &impl burn::config::Config,
    vocab: &seqlab_datasets::text::Vocab,
    labels: &seqlab_datasets::LabelMap,
    labels_file: &str,
) -> Result<(), RunError> {
    if resume {
        check_resumable(dir, run)?;
        let same = |file: &str, now: serde_json::Value| -> Result<(), RunError> {
            let path = dir.join(file);
            let saved: serde_json::Value = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| RunError::Other(format!("--resume: {} is missing or unreadable", path.display())))?;
            if saved != now {
                return Err(RunError::Other(format!(
                    "--resume: {} differs from the one built from the training data now (did the data change?)",
                    path.display()
                )));
            }
            Ok(())
        };
        same("vocab.json", serde_json::to_value(vocab).unwrap())?;
        return same(labels_file, serde_json::to_value(labels).unwrap());
    }
    std::fs::create_dir_all(dir).map_err(|e| RunError::Other(format!("{}: cannot create: {e}", dir.display())))?;
    write(&dir.join("run.json"), serde_json::to_string_pretty(run).unwrap())?;
    model.save(dir.join("model.json")).map_err(|e| RunError::Other(e.to_string()))?;
    vocab.save(dir.join("vocab.json"))?;
    labels.save(dir.join(labels_file))?;
    Ok(())
}

/// Writes the trained weights (`model.mpk`) and the scores (`metrics.json`).
pub fn write_results<B: Backend, M: burn::module::Module<B>>(dir: &Path, model: &M, report: &impl serde::Serialize) -> Result<(), RunError> {
    model
        .clone()
        .save_file(dir.join("model"), &weights_recorder())
        .map_err(|e| RunError::Other(format!("saving the model: {e}")))?;
    write(&dir.join("metrics.json"), serde_json::to_string_pretty(report).unwrap())
}

/// Writes a text file of the artifacts atomically (a temporary file, then rename).
pub fn write(path: &Path, text: String) -> Result<(), RunError> {
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| RunError::Other(format!("{}: cannot write: {e}", path.display())))
}

/// A data loader over length-bucketed batches of `items` (see
/// [`bucket_batches`]); `shuffle` reorders the batches every epoch.
pub fn bucketed_loader<B, I, O, Bt>(
    items: Vec<I>,
    batcher: Bt,
    length: impl Fn(&I) -> usize,
    batch_size: usize,
    seed: u64,
    shuffle: bool,
) -> Arc<dyn DataLoader<B, O>>
where
    B: Backend,
    I: Clone + Send + Sync + std::fmt::Debug + 'static,
    O: Clone + Send + Sync + std::fmt::Debug + 'static,
    Bt: Batcher<B, I, O> + 'static,
{
    let lengths: Vec<usize> = items.iter().map(length).collect();
    let plan = bucket_batches(&lengths, batch_size, 50, seed);
    let builder = DataLoaderBuilder::new(Flatten(batcher)).batch_size(1);
    let builder = if shuffle { builder.shuffle(seed) } else { builder };
    builder.build(BucketedDataset::new(Arc::new(items), plan))
}

/// The learner's options, the same for both tasks (serialised into `run.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingConfig {
    /// Epochs (a resumed run continues up to this).
    pub epochs: usize,
    /// Examples (sentences) per batch.
    pub batch_size: usize,
    /// Optimiser, weight decay, clipping and learning-rate schedule.
    pub optim: OptimConfig,
    /// The validation metric that picks the best epoch: `auto` (entity F1 for taggers,
    /// accuracy for classifiers), `accuracy`, `loss` or `f1`.
    pub select: String,
    /// Early stopping: epochs without improvement of `select` (`None`: never).
    pub patience: Option<usize>,
    /// Seed of initialisation, shuffling and dropout.
    pub seed: u64,
    /// Continue from the last completed epoch in the artifacts folder.
    pub resume: bool,
    /// burn-train's terminal dashboard (when stdout is a terminal).
    pub tui: bool,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 5,
            batch_size: 32,
            optim: OptimConfig::default(),
            select: "auto".into(),
            patience: None,
            seed: 42,
            resume: false,
            tui: false,
        }
    }
}

impl TrainingConfig {
    /// The [`FitOptions`] of a run writing to `artifacts` with `train_examples` examples.
    /// `entity_tags`: the tag names of a tagger (entity F1 per epoch; `auto` selects by it),
    /// `None` for a classifier (`auto` selects by accuracy).
    pub fn fit_options(&self, artifacts: &Path, train_examples: usize, entity_tags: Option<Vec<String>>) -> Result<FitOptions, RunError> {
        let select = match (self.select.as_str(), &entity_tags) {
            ("auto", Some(_)) => "f1",
            ("auto", None) => "accuracy",
            ("f1", None) => return Err(RunError::Other("--select f1 is for taggers; expected accuracy or loss".into())),
            (other, _) => other,
        };
        Ok(FitOptions {
            artifacts: artifacts.to_path_buf(),
            epochs: self.epochs,
            optim: self.optim.clone(),
            selection: Selection::from_name(select)
                .ok_or_else(|| RunError::Other(format!("unknown selection metric {:?}; expected auto, accuracy, loss or f1", self.select)))?,
            patience: self.patience,
            resume: self.resume,
            tui: self.tui,
            train_examples,
            steps_per_epoch: train_examples.div_ceil(self.batch_size.max(1)),
            entity_tags,
        })
    }
}

/// Checks, for `--resume`, that the artifacts folder was written by the same run: its
/// `run.json` must equal `resolved` except for the epochs, resume and dashboard options.
pub fn check_resumable<R: serde::Serialize>(artifacts: &Path, resolved: &R) -> Result<(), RunError> {
    let path = artifacts.join("run.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| RunError::Other(format!("--resume: {}: {e} (nothing to resume)", path.display())))?;
    let mut saved: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| RunError::Other(format!("{}: not a run.json: {e}", path.display())))?;
    let mut now = serde_json::to_value(resolved).unwrap();
    for v in [&mut saved, &mut now] {
        if let Some(t) = v.get_mut("training").and_then(|t| t.as_object_mut()) {
            for volatile in ["epochs", "resume", "tui"] {
                t.remove(volatile);
            }
        }
    }
    if saved != now {
        let (a, b) = (saved.as_object().cloned().unwrap_or_default(), now.as_object().cloned().unwrap_or_default());
        let differ: Vec<String> = a.keys().chain(b.keys()).filter(|k| a.get(*k) != b.get(*k)).cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        return Err(RunError::Other(format!(
            "--resume: {} was written by a different run (differs in: {}); use a new --artifacts folder or the same options",
            path.display(),
            differ.join(", ")
        )));
    }
    Ok(())
}

/// How [`fit`] trains.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// The artifacts folder (checkpoints, `log.csv`, `progress.json`, burn-train's logs).
    pub artifacts: PathBuf,
    /// Total epochs (a resumed run continues up to this).
    pub epochs: usize,
    /// Optimiser and schedule.
    pub optim: OptimConfig,
    /// The validation metric that picks the best epoch.
    pub selection: Selection,
    /// Early stopping: epochs without improvement (`None`: never stop early).
    pub patience: Option<usize>,
    /// Continue from the last completed epoch's checkpoint.
    pub resume: bool,
    /// burn-train's terminal dashboard instead of the plain per-epoch lines.
    pub tui: bool,
    /// Training examples per epoch.
    pub train_examples: usize,
    /// Optimiser steps per epoch (batches).
    pub steps_per_epoch: usize,
    /// Tagging: the tag names (by id), for entity F1 on the validation split each epoch.
    pub entity_tags: Option<Vec<String>>,
}

/// How training went, in both tasks' `metrics.json` (flattened beside the scores).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingSummary {
    /// Wall time of training, in seconds (all epochs, resumed ones included).
    pub train_seconds: f64,
    /// The epoch whose weights were kept (best by the selection metric).
    #[serde(default)]
    pub best_epoch: usize,
    /// Epochs completed.
    #[serde(default)]
    pub epochs_completed: usize,
    /// Why training stopped early (NaN loss, patience), if it did.
    #[serde(default)]
    pub stopped: Option<String>,
}

impl From<&Progress> for TrainingSummary {
    fn from(p: &Progress) -> Self {
        Self { train_seconds: p.seconds, best_epoch: p.best_epoch, epochs_completed: p.last_epoch, stopped: p.stopped.clone() }
    }
}

/// What [`fit`] returns.
pub struct Fitted<M> {
    /// The model of the best epoch by the selection metric (the last one if none was finite).
    pub model: M,
    /// Epochs, best epoch, early stop.
    pub progress: Progress,
}

/// Trains `model` with burn-train: the chosen optimiser and schedule, loss, accuracy, learning
/// rate and speed on the dashboard (or the plain per-epoch renderer), a checkpoint every epoch
/// (the last and the best kept), `log.csv`, early stopping, a stop on NaN/inf, and `--resume`.
/// Returns the best epoch's model on the inference backend.
pub fn fit<B, M, I>(
    model: M,
    train: Arc<dyn DataLoader<B, I>>,
    valid: Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>,
    options: &FitOptions,
) -> Result<Fitted<M::InnerModule>, RunError>
where
    B: burn::tensor::backend::AutodiffBackend,
    I: InnerBatch<B> + Send + 'static,
    M: burn::train::TrainStep<Input = I, Output = burn::train::ClassificationOutput<B>>
        + burn::module::AutodiffModule<B>
        + std::fmt::Display
        + 'static,
    M::InnerModule: burn::train::InferenceStep<Input = I::InnerBatch, Output = burn::train::ClassificationOutput<B::InnerBackend>>,
{
    use burn::module::Module;
    let dir = &options.artifacts;
    let progress = if options.resume {
        let mut p = Progress::load(dir)?.ok_or_else(|| {
            RunError::Other(format!("--resume: {} has no progress.json (no completed epoch to resume from)", dir.display()))
        })?;
        p.stopped = None;
        println!("resuming after epoch {} (best so far: epoch {})", p.last_epoch, p.best_epoch);
        p
    } else {
        for stale in ["log.csv", "progress.json"] {
            let _ = std::fs::remove_file(dir.join(stale));
        }
        for stale in ["checkpoint", "train", "valid"] {
            let _ = std::fs::remove_dir_all(dir.join(stale));
        }
        Progress::default()
    };
    let shared = Arc::new(std::sync::Mutex::new(progress.clone()));
    let (last, progress) = if progress.last_epoch < options.epochs {
        let schedule = Schedule::new(&options.optim, options.steps_per_epoch, options.epochs);
        let watch = EpochWatch {
            artifacts: dir.clone(),
            selection: options.selection.clone(),
            patience: options.patience,
            plateau: (options.optim.schedule == ScheduleKind::Plateau).then_some((options.optim.plateau_patience, options.optim.gamma)),
            plateau_factor: schedule.plateau_factor(),
            learning_rate: schedule.current(),
            train_examples: options.train_examples,
            progress: shared.clone(),
            resumed_from: progress.last_epoch,
            epoch_started: Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
        };
        let keep = KeepBestAndLast { selection: options.selection.clone(), resumed_from: progress.last_epoch, progress: shared.clone() };
        // burn-train's store will write the first resumed epoch's logs over epoch 1's (see
        // `store_epoch`): set epoch 1's aside, and put both where they belong afterwards.
        let resumed_from = progress.last_epoch;
        let aside = |split: &str| (dir.join(split).join("epoch-1"), dir.join(split).join("epoch-1.before-resume"));
        if resumed_from > 0 {
            for split in ["train", "valid"] {
                let (epoch_1, kept) = aside(split);
                let _ = std::fs::rename(&epoch_1, &kept);
            }
        }
        let o = &options.optim;
        let last = match o.optimizer {
            OptimizerKind::Adam => launch(model, o.adam().init(), schedule, train, valid, options, progress.last_epoch, keep, watch),
            OptimizerKind::AdamW => launch(model, o.adamw().init(), schedule, train, valid, options, progress.last_epoch, keep, watch),
            OptimizerKind::Sgd => launch(model, o.sgd().init(), schedule, train, valid, options, progress.last_epoch, keep, watch),
        };
        if resumed_from > 0 {
            for split in ["train", "valid"] {
                let (epoch_1, kept) = aside(split);
                let _ = std::fs::rename(&epoch_1, dir.join(split).join(format!("epoch-{}", resumed_from + 1)));
                let _ = std::fs::rename(&kept, &epoch_1);
            }
        }
        (last, shared.lock().unwrap().clone())
    } else {
        println!("nothing to train: {} epochs already completed", progress.last_epoch);
        (model.valid(), progress)
    };
    if progress.last_epoch == 0 {
        return Ok(Fitted { model: last, progress });
    }
    // The best epoch's weights (the last epoch's when no validation value was finite).
    let epoch = if progress.best_epoch > 0 { progress.best_epoch } else { progress.last_epoch };
    let path = dir.join("checkpoint").join(format!("model-{epoch}"));
    let device = last.devices()[0].clone();
    let model = last
        .load_file(&path, &AtomicRecorder::default(), &device)
        .map_err(|e| RunError::Other(format!("{}.mpk: cannot load the checkpoint of epoch {epoch}: {e}", path.display())))?;
    Ok(Fitted { model, progress })
}

/// [`fit`] for one optimiser type: burn-train's supervised training from `start_epoch`.
#[allow(clippy::too_many_arguments)]
fn launch<B, M, I, O>(
    model: M,
    optim: O,
    schedule: Schedule,
    train: Arc<dyn DataLoader<B, I>>,
    valid: Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>,
    options: &FitOptions,
    start_epoch: usize,
    keep: KeepBestAndLast,
    watch: EpochWatch,
) -> M::InnerModule
where
    B: burn::tensor::backend::AutodiffBackend,
    I: InnerBatch<B> + Send + 'static,
    M: burn::train::TrainStep<Input = I, Output = burn::train::ClassificationOutput<B>>
        + burn::module::AutodiffModule<B>
        + std::fmt::Display
        + 'static,
    M::InnerModule: burn::train::InferenceStep<Input = I::InnerBatch, Output = burn::train::ClassificationOutput<B::InnerBackend>>,
    O: burn::optim::Optimizer<M, B> + 'static,
{
    use burn::train::metric::{AccuracyMetric, IterationSpeedMetric, LearningRateMetric, LossMetric};
    let training = burn::train::SupervisedTraining::new(&options.artifacts, train, valid)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .metric_train_numeric(LearningRateMetric::new())
        .metric_train_numeric(IterationSpeedMetric::new())
        .with_application_logger(None)
        // Read synchronously by the checkpointer and the epoch watch (see `EpochLogger`); the
        // file logger keeps burn-train's per-iteration logs on disk.
        .with_metric_logger(crate::checkpoint::EpochLogger::default())
        .with_metric_logger(burn::train::logger::FileMetricLogger::new(&options.artifacts))
        .with_file_checkpointer(AtomicRecorder::default())
        .with_checkpointing_strategy(keep)
        .early_stopping(watch)
        .num_epochs(options.epochs);
    let training = match &options.entity_tags {
        Some(tags) => training.metric_valid_numeric(crate::entity_metric::EntityF1Metric::new(tags.clone())),
        None => training,
    };
    let training = if start_epoch > 0 { training.checkpoint(start_epoch) } else { training };
    let training = if options.tui { training } else { training.renderer(crate::render::PlainRenderer::default()) };
    let result = training.launch(burn::train::Learner::new(model, optim, schedule));
    drop(result.renderer); // gives the terminal back before the summary
    result.model
}
/// Names a batch type's counterpart on the inference backend (`TaggingBatch<B>` →
/// `TaggingBatch<B::InnerBackend>`), which the validation loader yields.
pub trait InnerBatch<B: burn::tensor::backend::AutodiffBackend> {
    /// The same batch on `B::InnerBackend`.
    type InnerBatch: Send + 'static;
}

impl<B: burn::tensor::backend::AutodiffBackend> InnerBatch<B> for seqlab_datasets::batch::ClassificationBatch<B> {
    type InnerBatch = seqlab_datasets::batch::ClassificationBatch<B::InnerBackend>;
}

impl<B: burn::tensor::backend::AutodiffBackend> InnerBatch<B> for seqlab_datasets::batch::TaggingBatch<B> {
    type InnerBatch = seqlab_datasets::batch::TaggingBatch<B::InnerBackend>;
}
