//! Everything that happens to the run's files and schedule after an epoch, in one place and a
//! stated order ([`AfterEpoch::run`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::metric::store::{EventStoreClient, Split};
use burn::train::EarlyStoppingStrategy;

use super::checkpoints::checkpoint_files;
use super::log::{mean, EpochLine, LEARNING_RATE};
use super::metric_means::EpochMetrics;
use super::progress::Progress;
use super::stop::{plateau_due, stop_reason};
use super::verdict::Judge;
use crate::durable::SaveLog;
use crate::optim::ScheduleHandle;

/// The plateau schedule's settings.
#[derive(Debug, Clone, Copy)]
pub struct Plateau {
    /// Epochs without improvement before each decay.
    pub patience: usize,
    /// The decay factor.
    pub gamma: f64,
}

/// The after-epoch step. burn-train 0.21 offers two hooks after an epoch, checkpointing and
/// early stopping; this one is registered as the early-stopping hook because that runs after
/// the checkpoint has been handed to the recorder, and its effects are, in this order
/// ([`AfterEpoch::run`]):
///
/// 1. the epoch's verdict ([`Judge::judge`], shared with [`super::KeepBestAndLast`]);
/// 2. wait until the epoch's checkpoint files are complete on disk (a failed save stops the run);
/// 3. append the epoch's line to `log.csv` (and print it when there is no dashboard);
/// 4. decide whether to stop ([`stop_reason`]: a loss that is not finite, or patience);
/// 5. lower the plateau schedule's rate ([`plateau_due`]);
/// 6. save `progress.json`, after the checkpoint, so that it never names one that is not on disk;
/// 7. redraw `curves.svg` from `log.csv`.
///
/// burn-train asks for `Clone` but keeps the one it is given; a clone would carry its own
/// `last_saved` and clock.
#[derive(Clone)]
pub struct AfterEpoch {
    /// The artifacts folder.
    pub artifacts: PathBuf,
    /// Shared with [`super::KeepBestAndLast`]; holds the selection metric and the progress.
    pub judge: Judge,
    /// Stop after this many epochs without improvement (`None`: never).
    pub patience: Option<usize>,
    /// The plateau schedule's settings; `None` for other schedules.
    pub plateau: Option<Plateau>,
    /// The running schedule's rate and plateau factor.
    pub schedule: ScheduleHandle,
    /// Training examples per epoch (for examples/s).
    pub train_examples: usize,
    /// The means of each epoch's metrics.
    pub metrics: EpochMetrics,
    /// The checkpoint recorder's record of finished saves.
    pub checkpoint_saves: SaveLog,
    /// `progress.json` as last written (the `previous` of the next one).
    pub last_saved: Progress,
    /// When the current epoch began.
    pub epoch_started: Instant,
    /// The epochs the run goes to (for the printed line).
    pub epochs: usize,
    /// Print each epoch's line (when there is no dashboard).
    pub print: bool,
}

impl AfterEpoch {
    /// Everything that happens after epoch `epoch`, in the order stated on [`AfterEpoch`];
    /// returns whether training stops.
    pub fn run(&mut self, epoch: usize) -> bool {
        // 1. The verdict.
        self.judge.judge(epoch);
        let seconds = std::mem::replace(&mut self.epoch_started, Instant::now()).elapsed().as_secs_f64();
        let train = self.metrics.wait(epoch, &Split::Train);
        let valid = self.metrics.wait(epoch, &Split::Valid);
        // 2. The epoch counts only once its checkpoint is complete on disk.
        if let Err(why) = self.checkpoint_saves.wait_for(&checkpoint_files(&self.artifacts, epoch)) {
            crate::note!("epoch {epoch}: the checkpoint could not be saved: {why}");
            return true;
        }
        // 3. log.csv.
        // The mean of the epoch's steps' rates, as the epoch's line shows it (the schedule's
        // current rate before any step has been logged).
        let rate = Some(mean(&train, LEARNING_RATE)).filter(|r| r.is_finite()).unwrap_or_else(|| self.schedule.rate());
        let line = EpochLine { epoch, train: &train, valid: &valid, rate, seconds, examples: self.train_examples };
        line.append(&self.artifacts);
        if self.print {
            crate::say!("{}", line.text(self.epochs));
        }

        let progress: Arc<Mutex<Progress>> = self.judge.progress().clone();
        let mut p = progress.lock().unwrap();
        p.last_epoch = epoch;
        p.seconds += seconds;
        // 4. Stop?
        let losses = (mean(&train, "Loss"), mean(&valid, "Loss"));
        if let Some(why) = stop_reason(&p, epoch, self.patience, losses, &self.judge.selection().metric) {
            crate::note!("{why}");
            p.stopped = Some(why);
        }
        let mut stop = p.stopped.is_some();
        // 5. The plateau schedule.
        if let Some(plateau) = self.plateau.filter(|plateau| plateau_due(&p, epoch, plateau.patience)) {
            self.schedule.lower_plateau(plateau.gamma);
        }
        // 6. progress.json, last of the run's state.
        let mut previous = self.last_saved.clone();
        previous.previous = None;
        p.previous = (previous.last_epoch > 0).then(|| Box::new(previous));
        match p.save(&self.artifacts) {
            Ok(()) => self.last_saved = p.clone(),
            Err(e) => {
                crate::note!("{e}");
                stop = true;
            }
        }
        // 7. curves.svg.
        if let Err(e) = crate::curves::write_curves(&self.artifacts, p.best_epoch, &self.judge.selection().metric) {
            crate::note!("{e} (training goes on)");
        }
        stop
    }
}

impl EarlyStoppingStrategy for AfterEpoch {
    fn should_stop(&mut self, epoch: usize, _store: &EventStoreClient) -> bool {
        self.run(epoch)
    }
}
