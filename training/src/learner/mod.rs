//! The learner both tasks share: its options ([`TrainingConfig`], resolved into [`FitOptions`]),
//! the length-bucketed data loaders ([`mod@loaders`]), [`fit`], which launches burn-train's
//! supervised training (`launch`) with this project's optimisers, schedule, metrics,
//! checkpoints and epoch hooks ([`crate::epochs`]), and [`fit_corpus`], the three together on an
//! encoded training split, as both tasks train.

pub mod bounds;
mod corpus_fit;
mod launch;
pub mod loaders;
pub mod options;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::data::dataloader::DataLoader;
use burn::module::Module;
use burn::tensor::backend::AutodiffBackend;

pub use bounds::{InnerBatch, LoaderItem, RunBatcher, Trainable};
pub use corpus_fit::{fit_corpus, CorpusRun};
pub use loaders::{batch_tokens, bucketed_loader, loaders, seed, Share};
pub use options::{FitOptions, TrainingConfig, TrainingSummary, DEFAULT_MAX_TOKENS};

use crate::artifacts::Artifacts;
use crate::clip::GlobalNormClip;
use crate::cluster::{AllReduced, ClusterConfig, TrafficLog};
use crate::devices::MeanOfDevices;
use crate::durable::AtomicRecorder;
use crate::epochs::{AfterEpoch, EpochMetrics, Judge, KeepBestAndLast, Plateau, Progress};
use crate::error::RunError;
use crate::interrupt::Interruption;
use crate::optim::{OptimizerKind, Schedule, ScheduleKind};
use launch::Launch;

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
    B: AutodiffBackend,
    I: InnerBatch<B> + Send + 'static,
    M: Trainable<B, I>,
{
    let dir = &options.artifacts;
    let start = Progress::start(dir, options.resume)?;
    let (last, progress) = if start.last_epoch < options.epochs {
        if let Some(cluster) = &options.cluster {
            crate::cluster::join(cluster, options.fingerprint)?;
        }
        let traffic = TrafficLog::default();
        let trained = train_epochs(model, train, valid, options, start, &traffic)?;
        if let Some(cluster) = &options.cluster {
            // MPI's finalisation waits for every rank: not after a signal stopped this one.
            if crate::interrupt::received().is_none() {
                crate::cluster::leave();
            }
            let t = traffic.get();
            crate::say!(
                "{}: {} all-reduces of {} values ({:.1} MB; {:.2} MB summed a step, the blocks some rank filled), \
                 {:.1} s in them ({:.1} ms a step)",
                cluster.name(),
                t.steps,
                t.values,
                t.values as f64 * 4e-6,
                t.sent as f64 * 4e-6 / t.steps.max(1) as f64,
                t.seconds,
                1e3 * t.seconds / t.steps.max(1) as f64
            );
        }
        trained
    } else {
        crate::say!("nothing to train: {} epochs already completed", start.last_epoch);
        (model.valid(), start)
    };
    if progress.last_epoch == 0 {
        let why = progress.stopped.as_deref().unwrap_or("training ended");
        return Err(RunError::NoEpoch { stopped: why.to_string() });
    }
    progress.prune(dir)?;
    let epoch = progress.kept_epoch();
    let path = Artifacts::at(dir).checkpoint("model", epoch);
    let device = last.devices()[0].clone();
    let model = last
        .load_file(path.with_extension(""), &AtomicRecorder::default(), &device)
        .map_err(|e| RunError::damaged(&path, format!("cannot load the checkpoint of epoch {epoch}: {e}")))?;
    Ok(Fitted { model, progress })
}

/// `inner` as a run steps it: the gradients combined over the ranks of `cluster` when there is
/// one, averaged over `devices` devices, then clipped to the global norm `clip_norm`.
fn optimiser<O>(
    inner: O,
    devices: usize,
    cluster: Option<ClusterConfig>,
    clip_norm: Option<f32>,
    traffic: &TrafficLog,
) -> AllReduced<MeanOfDevices<GlobalNormClip<O>>> {
    let inner = MeanOfDevices { inner: GlobalNormClip { inner, max_norm: clip_norm }, devices };
    AllReduced::new(inner, cluster, traffic.clone())
}

/// `why` a run was interrupted, with what it keeps.
fn interrupted_note(why: &Interruption, saved: &Progress) -> String {
    if saved.last_epoch == 0 {
        format!("{why} before the first epoch finished")
    } else {
        let kept = match saved.last_epoch {
            1 => "the completed epoch is kept".to_string(),
            n => format!("the {n} completed epochs are kept"),
        };
        format!("{why} during epoch {}; {kept} (continue with --resume)", saved.last_epoch + 1)
    }
}

/// The epochs after `start` (burn-train's launch with this run's hooks); the last epoch's
/// model and the progress as `progress.json` records it.
fn train_epochs<B, M, I>(
    model: M,
    train: Arc<dyn DataLoader<B, I>>,
    valid: Arc<dyn DataLoader<B::InnerBackend, I::InnerBatch>>,
    options: &FitOptions,
    start: Progress,
    traffic: &TrafficLog,
) -> Result<(M::InnerModule, Progress), RunError>
where
    B: AutodiffBackend,
    I: InnerBatch<B> + Send + 'static,
    M: Trainable<B, I>,
{
    let dir = &options.artifacts;
    let schedule = Schedule::new(&options.optim, options.steps_per_epoch, options.epochs);
    let recorder = AtomicRecorder::default();
    let metrics = EpochMetrics::default();
    let shared = Arc::new(Mutex::new(start.clone()));
    let judge = Judge::new(options.selection.clone(), shared.clone(), metrics.clone());
    let o = &options.optim;
    let after_epoch = AfterEpoch {
        artifacts: dir.clone(),
        judge: judge.clone(),
        patience: options.patience,
        plateau: (o.schedule == ScheduleKind::Plateau)
            .then_some(Plateau { patience: o.plateau_patience, gamma: o.gamma }),
        schedule: schedule.handle(),
        train_examples: options.train_examples,
        metrics: metrics.clone(),
        checkpoint_saves: recorder.saves(),
        last_saved: start.clone(),
        epoch_started: Instant::now(),
        epochs: options.epochs,
        print: !options.tui,
    };
    let saves = recorder.saves();
    let keep = KeepBestAndLast { judge };
    let launch = Launch { options, start_epoch: start.last_epoch, keep, after_epoch, recorder, metrics };
    let devices = options.devices.len().max(1);
    let cluster = &options.cluster;
    // One launch per optimiser type (each arm builds its own).
    macro_rules! launch_with {
        ($optimizer:expr) => {
            launch.run(
                model,
                optimiser($optimizer, devices, cluster.clone(), o.clip_norm, traffic),
                schedule,
                train,
                valid,
            )
        };
    }
    let (last, interrupted) = match o.optimizer {
        OptimizerKind::Adam => launch_with!(o.adam().init()),
        OptimizerKind::AdamW => launch_with!(o.adamw().init()),
        OptimizerKind::Sgd => launch_with!(o.sgd().init()),
    };
    if let Some(failure) = saves.failure() {
        return Err(RunError::Other(format!("training stopped: a checkpoint could not be saved: {failure}")));
    }
    // What progress.json says: the epochs whose checkpoints are complete.
    let saved = Progress::load(dir)?.unwrap_or_default();
    let interrupted = interrupted.map(|why| interrupted_note(&why, &saved));
    if let Some(note) = &interrupted {
        crate::note!("{note}");
    }
    let stopped = interrupted.clone().or_else(|| shared.lock().unwrap().stopped.clone());
    let saved = Progress { stopped, ..saved };
    if interrupted.is_some() && saved.last_epoch > 0 {
        // Recorded, so that `metrics.json`, the report and a later `--resume` see it.
        saved.save(dir)?;
    }
    Ok((last, saved))
}
