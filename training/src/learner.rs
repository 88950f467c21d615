//! The learner both tasks share: its options ([`TrainingConfig`], resolved into [`FitOptions`]),
//! the length-bucketed data loaders, and [`fit`], which launches burn-train's supervised
//! training with this project's optimisers, schedule, metrics, checkpoints and epoch hooks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::tensor::backend::Backend;
use seqlab_datasets::batch::{bucket_batches, BucketedDataset, Flatten};

use crate::artifacts::Artifacts;
use crate::devices::MeanOfDevices;
use crate::durable::AtomicRecorder;
use crate::epochs::{EpochMetrics, EpochWatch, Judge, KeepBestAndLast, Progress, Selection};
use crate::error::RunError;
use crate::optim::{OptimConfig, OptimizerKind, Schedule, ScheduleKind};

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

/// The two loaders of a run: `train` in length-bucketed batches reshuffled every epoch,
/// `valid` in the same kind of batches in a fixed order (on the inference backend).
#[allow(clippy::type_complexity)]
pub fn loaders<B, T, I, Bt>(
    train: Vec<T>,
    valid: Vec<T>,
    batcher: Bt,
    length: fn(&T) -> usize,
    training: &TrainingConfig,
) -> (Arc<dyn DataLoader<B, I>>, Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>)
where
    B: burn::tensor::backend::AutodiffBackend,
    T: Clone + Send + Sync + std::fmt::Debug + 'static,
    I: InnerBatch<B> + Clone + Send + Sync + std::fmt::Debug + 'static,
    I::InnerBatch: Clone + Sync + std::fmt::Debug,
    Bt: Batcher<B, T, I> + Batcher<B::InnerBackend, T, I::InnerBatch> + Clone + 'static,
{
    let (size, seed) = (training.batch_size, training.seed);
    (
        bucketed_loader::<B, _, _, _>(train, batcher.clone(), length, size, seed, true),
        bucketed_loader::<B::InnerBackend, _, _, _>(valid, batcher, length, size, seed, false),
    )
}

/// Seeds the random streams of a run: the backend's (initialisation) and the dropout masks'.
pub fn seed<B: Backend>(device: &B::Device, seed: u64) {
    B::seed(device, seed);
    seqlab_models::dropout::seed(seed);
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
    /// Replace a finished run in the artifacts folder (without it, such a folder is refused).
    #[serde(default)]
    pub overwrite: bool,
    /// burn-train's terminal dashboard (when stdout is a terminal).
    pub tui: bool,
    /// Data-parallel training on these devices (indices; see [`crate::devices`]); empty or one:
    /// the device the run was given.
    #[serde(default)]
    pub devices: Vec<u16>,
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
            overwrite: false,
            tui: false,
            devices: Vec::new(),
        }
    }
}

impl TrainingConfig {
    /// The [`FitOptions`] of a run writing to `artifacts` with `train_examples` examples.
    /// `entity_tags`: the tag names of a tagger (entity F1 per epoch; `auto` selects by it),
    /// `None` for a classifier (`auto` selects by accuracy).
    pub fn fit_options(
        &self,
        artifacts: &Path,
        train_examples: usize,
        entity_tags: Option<Vec<String>>,
    ) -> Result<FitOptions, RunError> {
        let select = match (self.select.as_str(), &entity_tags) {
            ("auto", Some(_)) => "f1",
            ("auto", None) => "accuracy",
            ("f1", None) => {
                return Err(RunError::Other("--select f1 is for taggers; expected accuracy or loss".into()))
            }
            (other, _) => other,
        };
        let devices = self.devices.len().max(1);
        Ok(FitOptions {
            artifacts: artifacts.to_path_buf(),
            epochs: self.epochs,
            optim: self.optim.clone(),
            selection: Selection::from_name(select).ok_or_else(|| {
                RunError::Other(format!(
                    "unknown selection metric {:?}; expected auto, accuracy, loss or f1",
                    self.select
                ))
            })?,
            patience: self.patience,
            resume: self.resume,
            tui: self.tui,
            train_examples,
            // Each optimiser step takes one batch per device.
            steps_per_epoch: train_examples.div_ceil(self.batch_size.max(1)).div_ceil(devices),
            entity_tags,
            devices: self.devices.clone(),
        })
    }
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
    /// Data-parallel training on these device indices when there are two or more.
    pub devices: Vec<u16>,
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
        Self {
            train_seconds: p.seconds,
            best_epoch: p.best_epoch,
            epochs_completed: p.last_epoch,
            stopped: p.stopped.clone(),
        }
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
    M: Trainable<B, I>,
{
    use burn::module::Module;
    let dir = &options.artifacts;
    let progress = if options.resume {
        let p = Progress::load(dir)?.ok_or_else(|| {
            RunError::Other(format!(
                "--resume: {} has no progress.json (no completed epoch to resume from)",
                dir.display()
            ))
        })?;
        let mut p = p.resumable(dir)?;
        p.stopped = None;
        println!("resuming after epoch {} (best so far: epoch {})", p.last_epoch, p.best_epoch);
        p
    } else {
        for stale in [Artifacts::LOG, Artifacts::PROGRESS] {
            let _ = std::fs::remove_file(dir.join(stale));
        }
        for stale in [Artifacts::CHECKPOINTS, Artifacts::BURN_TRAIN[0], Artifacts::BURN_TRAIN[1]] {
            let _ = std::fs::remove_dir_all(dir.join(stale));
        }
        Progress::default()
    };
    let shared = Arc::new(std::sync::Mutex::new(progress.clone()));
    let (last, progress) = if progress.last_epoch < options.epochs {
        let schedule = Schedule::new(&options.optim, options.steps_per_epoch, options.epochs);
        let recorder = AtomicRecorder::default();
        let metrics = EpochMetrics::default();
        let judge = Judge::new(options.selection.clone(), shared.clone(), metrics.clone());
        let watch = EpochWatch {
            artifacts: dir.clone(),
            judge: judge.clone(),
            patience: options.patience,
            plateau: (options.optim.schedule == ScheduleKind::Plateau)
                .then_some((options.optim.plateau_patience, options.optim.gamma)),
            plateau_factor: schedule.plateau_factor(),
            learning_rate: schedule.current(),
            train_examples: options.train_examples,
            saved: Arc::new(std::sync::Mutex::new(progress.clone())),
            metrics: metrics.clone(),
            saves: recorder.saves(),
            epoch_started: Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
        };
        let keep = KeepBestAndLast { judge };
        let saves = recorder.saves();
        let launch = Launch { options, start_epoch: progress.last_epoch, keep, watch, recorder, metrics };
        let o = &options.optim;
        let n = options.devices.len().max(1);
        let last = match o.optimizer {
            OptimizerKind::Adam => {
                launch.run(model, MeanOfDevices { inner: o.adam().init(), devices: n }, schedule, train, valid)
            }
            OptimizerKind::AdamW => {
                launch.run(model, MeanOfDevices { inner: o.adamw().init(), devices: n }, schedule, train, valid)
            }
            OptimizerKind::Sgd => {
                launch.run(model, MeanOfDevices { inner: o.sgd().init(), devices: n }, schedule, train, valid)
            }
        };
        if let Some(failure) = saves.failure() {
            return Err(RunError::Other(format!("training stopped: a checkpoint could not be saved: {failure}")));
        }
        // What progress.json says: the epochs whose checkpoints are complete.
        let saved = Progress::load(dir)?.unwrap_or_default();
        (last, Progress { stopped: shared.lock().unwrap().stopped.clone(), ..saved })
    } else {
        println!("nothing to train: {} epochs already completed", progress.last_epoch);
        (model.valid(), progress)
    };
    if progress.last_epoch == 0 {
        return Err(RunError::Other("no epoch was completed".into()));
    }
    // From here on only the best, the last and the previous epoch's checkpoints are needed
    // (the previous one for `--resume` to fall back on if the last is damaged later).
    let previous = progress.previous.as_ref().map_or(0, |p| p.last_epoch);
    let needed = |k: usize| k == progress.best_epoch || k == progress.last_epoch || k == previous;
    if progress.kept.iter().any(|&k| !needed(k)) {
        for epoch in progress.kept.iter().copied().filter(|&k| !needed(k)) {
            for file in crate::epochs::checkpoint_files(dir, epoch) {
                let _ = std::fs::remove_file(file);
            }
        }
        let mut pruned = progress.clone();
        pruned.kept.retain(|&k| needed(k));
        pruned.stopped = Progress::load(dir)?.and_then(|p| p.stopped);
        pruned.save(dir)?;
    }
    // The best epoch's weights (the last epoch's when no validation value was finite).
    let epoch = if progress.best_epoch > 0 { progress.best_epoch } else { progress.last_epoch };
    let path = Artifacts::at(dir).checkpoint("model", epoch).with_extension("");
    let device = last.devices()[0].clone();
    let model = last.load_file(&path, &AtomicRecorder::default(), &device).map_err(|e| {
        RunError::Other(format!("{}.mpk: cannot load the checkpoint of epoch {epoch}: {e}", path.display()))
    })?;
    Ok(Fitted { model, progress })
}

/// What [`fit`] hands to burn-train, whichever the optimiser.
struct Launch<'a> {
    options: &'a FitOptions,
    start_epoch: usize,
    keep: KeepBestAndLast,
    watch: EpochWatch,
    recorder: AtomicRecorder,
    metrics: EpochMetrics,
}

impl Launch<'_> {
    /// burn-train's supervised training from `start_epoch`, with optimiser `optim`.
    fn run<B, M, I, O>(
        self,
        model: M,
        optim: O,
        schedule: Schedule,
        train: Arc<dyn DataLoader<B, I>>,
        valid: Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>,
    ) -> M::InnerModule
    where
        B: burn::tensor::backend::AutodiffBackend,
        I: InnerBatch<B> + Send + 'static,
        M: Trainable<B, I>,
        O: burn::optim::Optimizer<M, B> + 'static,
    {
        use burn::train::metric::{AccuracyMetric, IterationSpeedMetric, LearningRateMetric, LossMetric};
        let options = self.options;
        let training = burn::train::SupervisedTraining::new(&options.artifacts, train, valid)
            .metrics((AccuracyMetric::new(), LossMetric::new()))
            .metric_train_numeric(LearningRateMetric::new())
            .metric_train_numeric(IterationSpeedMetric::new())
            .with_application_logger(None)
            // The epoch means the hooks read (see `EpochMetrics`); nothing else is logged to disk
            // but `log.csv` and `progress.json`.
            .with_metric_logger(self.metrics.logger())
            .with_file_checkpointer(self.recorder)
            .with_checkpointing_strategy(self.keep)
            .early_stopping(self.watch)
            .num_epochs(options.epochs);
        let training = match &options.entity_tags {
            Some(tags) => training.metric_valid_numeric(crate::entity_metric::EntityF1Metric::new(tags.clone())),
            None => training,
        };
        let training = if self.start_epoch > 0 { training.checkpoint(self.start_epoch) } else { training };
        let training = if options.devices.len() > 1 {
            use burn::train::{ExecutionStrategy, MultiDeviceOptim, TrainingStrategy};
            let main = model.devices()[0].clone();
            let devices = crate::devices::devices::<B>(&main, &options.devices);
            training.with_training_strategy(TrainingStrategy::Default(ExecutionStrategy::multi(
                devices,
                MultiDeviceOptim::OptimMainDevice,
            )))
        } else {
            training
        };
        let training = if options.tui { training } else { training.renderer(crate::render::PlainRenderer::default()) };
        let result = training.launch(burn::train::Learner::new(model, optim, schedule));
        drop(result.renderer); // gives the terminal back before the summary
        result.model
    }
}

/// What [`fit`] trains: a burn-train training step on `B` over batches `I` whose model on the
/// inference backend (`InnerModule`, named again as [`Trainable::Valid`] so that its bounds come
/// with it) is the validation step over `I::InnerBatch`. Every such model is one.
pub trait Trainable<B: burn::tensor::backend::AutodiffBackend, I: InnerBatch<B>>:
    burn::train::TrainStep<Input = I, Output = burn::train::ClassificationOutput<B>>
    + burn::module::AutodiffModule<B, InnerModule = <Self as Trainable<B, I>>::Valid>
    + std::fmt::Display
    + 'static
{
    /// The model on the inference backend.
    type Valid: burn::train::InferenceStep<Input = I::InnerBatch, Output = burn::train::ClassificationOutput<B::InnerBackend>>
        + burn::module::Module<B::InnerBackend>;
}

impl<B, I, M> Trainable<B, I> for M
where
    B: burn::tensor::backend::AutodiffBackend,
    I: InnerBatch<B>,
    M: burn::train::TrainStep<Input = I, Output = burn::train::ClassificationOutput<B>>
        + burn::module::AutodiffModule<B>
        + std::fmt::Display
        + 'static,
    M::InnerModule:
        burn::train::InferenceStep<Input = I::InnerBatch, Output = burn::train::ClassificationOutput<B::InnerBackend>>,
{
    type Valid = M::InnerModule;
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
