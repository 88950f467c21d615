//! `log.csv`: one line per epoch (losses, accuracies, entity F1, learning rate, time, speed).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::artifacts::Artifacts;
use crate::entity_metric::EntityF1Metric;
use crate::error::RunError;

/// Columns of `log.csv` (accuracy and entity F1 as fractions).
pub const LOG_HEADER: &str = "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,valid_entity_f1,\
                              learning_rate,seconds,examples_per_second";

/// One epoch's line of `log.csv`.
pub struct EpochLine<'a> {
    /// The epoch (1-based).
    pub epoch: usize,
    /// The training split's metric means.
    pub train: &'a BTreeMap<String, f64>,
    /// The validation split's metric means.
    pub valid: &'a BTreeMap<String, f64>,
    /// The mean learning rate of the epoch's steps.
    pub rate: f64,
    /// Wall time of the epoch.
    pub seconds: f64,
    /// Training examples in the epoch.
    pub examples: usize,
}

/// The name burn-train's learning-rate metric logs under.
pub const LEARNING_RATE: &str = "Learning Rate";

/// A metric's mean, NaN when it was not logged.
pub fn mean(means: &BTreeMap<String, f64>, name: &str) -> f64 {
    means.get(name).copied().unwrap_or(f64::NAN)
}

impl EpochLine<'_> {
    /// The CSV line (no newline).
    pub fn csv(&self) -> String {
        let (train, valid) = (self.train, self.valid);
        format!(
            "{},{:.6},{:.6},{:.6},{:.6},{},{:.3e},{:.1},{:.1}",
            self.epoch,
            mean(train, "Loss"),
            mean(train, "Accuracy"),
            mean(valid, "Loss"),
            mean(valid, "Accuracy"),
            valid.get(EntityF1Metric::NAME).map_or(String::new(), |f1| format!("{f1:.6}")),
            self.rate,
            self.seconds,
            self.examples as f64 / self.seconds.max(1e-9)
        )
    }

    /// The line printed for the epoch when there is no dashboard, from the same figures:
    /// `epoch E/N  train: … | valid: …  (seconds)`, every metric's mean by name.
    pub fn text(&self, epochs: usize) -> String {
        let means = |split: &BTreeMap<String, f64>| {
            let shown = split.iter().map(|(name, value)| {
                if name == LEARNING_RATE {
                    format!("{name} {value:.3e}")
                } else {
                    format!("{name} {value:.4}")
                }
            });
            shown.collect::<Vec<_>>().join(", ")
        };
        format!(
            "epoch {}/{epochs}  train: {} | valid: {}  ({:.1} s)",
            self.epoch,
            means(self.train),
            means(self.valid),
            self.seconds
        )
    }

    /// Appends the line to the folder's `log.csv` (with the header first in a new file) and
    /// syncs it; a failed write is reported on stderr and training goes on.
    pub fn append(&self, artifacts: &Path) {
        let path = artifacts.join(Artifacts::LOG);
        let fresh = !path.exists();
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&path);
        let written = file.and_then(|mut f| {
            if fresh {
                writeln!(f, "{LOG_HEADER}")?;
            }
            writeln!(f, "{}", self.csv())?;
            f.sync_data()
        });
        if let Err(e) = written {
            crate::note!("{}", RunError::write_failed(&path, &e, crate::durable::CHECKPOINT_KEPT));
        }
    }
}
