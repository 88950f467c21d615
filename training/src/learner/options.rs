//! The learner's options: [`TrainingConfig`] as the user gives it (and `run.json` records it),
//! resolved into the [`FitOptions`] of one run; [`TrainingSummary`], how training went.

use std::path::{Path, PathBuf};

use crate::cluster::ClusterConfig;
use crate::epochs::{Progress, Select, Selection};
use crate::error::RunError;
use crate::optim::OptimConfig;

/// The learner's options, the same for both tasks (serialised into `run.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingConfig {
    /// Epochs (a resumed run continues up to this).
    pub epochs: usize,
    /// Examples (sentences) per batch.
    pub batch_size: usize,
    /// Padded tokens per batch (examples × the longest of them) at most: a batch of long
    /// sentences holds fewer, and a sentence longer than this has a batch of its own.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// Optimiser, weight decay, clipping and learning-rate schedule.
    pub optim: OptimConfig,
    /// The validation metric that picks the best epoch.
    pub select: Select,
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
    /// Data-parallel training on these devices (indices; see `crate::devices`); empty or one:
    /// the device the run was given.
    #[serde(default)]
    pub devices: Vec<u16>,
    /// Data-parallel training across processes (see [`crate::cluster`]); `None`: this process
    /// alone. Not in `run.json`: a run may be resumed on another number of ranks.
    #[serde(skip)]
    pub cluster: Option<ClusterConfig>,
}

impl TrainingConfig {
    /// These options as every rank of a job must share them: without how each process was
    /// started (`tui`, `resume`, `overwrite`).
    pub fn agreed_by_ranks(&self) -> Self {
        Self { tui: false, resume: false, overwrite: false, cluster: None, ..self.clone() }
    }
}

/// [`TrainingConfig::max_tokens`]'s default: far above any batch of CoNLL-2003 or SST-2 at the
/// recipes' batch sizes (their longest sentences have 124 and 56 tokens), so those batches are
/// cut by `batch_size` alone.
pub const DEFAULT_MAX_TOKENS: usize = 16_384;

fn default_max_tokens() -> usize {
    DEFAULT_MAX_TOKENS
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 5,
            batch_size: 32,
            max_tokens: DEFAULT_MAX_TOKENS,
            optim: OptimConfig::default(),
            select: Select::Auto,
            patience: None,
            seed: 42,
            resume: false,
            overwrite: false,
            tui: false,
            devices: Vec::new(),
            cluster: None,
        }
    }
}

impl TrainingConfig {
    /// The [`FitOptions`] of a run writing to `artifacts` with `train_examples` examples in
    /// `train_batches` batches an epoch.
    /// `entity_tags`: the tag names of a tagger (entity F1 per epoch; `auto` selects by it),
    /// `None` for a classifier (`auto` selects by accuracy).
    pub fn fit_options(
        &self,
        artifacts: &Path,
        train_examples: usize,
        train_batches: usize,
        entity_tags: Option<Vec<String>>,
    ) -> Result<FitOptions, RunError> {
        let selection = Selection::resolve(self.select, entity_tags.is_some())?;
        let devices = self.devices.len().max(1);
        Ok(FitOptions {
            artifacts: artifacts.to_path_buf(),
            epochs: self.epochs,
            optim: self.optim.clone(),
            selection,
            patience: self.patience,
            resume: self.resume,
            tui: self.tui,
            train_examples,
            // Each optimiser step takes one batch per device.
            steps_per_epoch: train_batches.div_ceil(devices),
            entity_tags,
            devices: self.devices.clone(),
            cluster: self.cluster.clone(),
            fingerprint: 0,
        })
    }
}

/// How [`fit`](super::fit) trains.
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
    /// Data-parallel training across processes, when set.
    pub cluster: Option<ClusterConfig>,
    /// What every node of a cluster must agree on: the run's options, vocabulary, labels and
    /// data (see [`crate::cluster::fingerprint`]).
    pub fingerprint: u64,
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
