//! What happens around every epoch of a run, one concern a file:
//!
//! - `checkpoints`: the files of an epoch's checkpoint, their check, pruning;
//! - `selection`: which validation metric picks the kept epoch ([`Select`], [`Selection`]);
//! - `progress`: where a run stands ([`Progress`], `progress.json`), starting or resuming a
//!   run, and pruning at its end;
//! - `metric_means`: each epoch's metric means as burn-train logs them (`EpochMetrics`);
//! - the pure hooks, which only decide: `verdict` (the best epoch, `Judge`), `keep`
//!   (which checkpoints to keep, `KeepBestAndLast`), `stop` (early stop and plateau rules);
//! - [`log`] writes `log.csv`;
//! - `after_epoch`: the side effects after an epoch (log, stop, plateau, `progress.json`,
//!   `curves.svg`), in one place and a stated order (`AfterEpoch`).
//!
//! burn-train saves a checkpoint (model, optimiser, schedule) after every epoch through
//! `crate::durable::AtomicRecorder` (write to `*.partial.mpk`, flush, rename, flush the
//! folder: a kill, a power cut or a full disk never leaves a torn file under the final name).

mod after_epoch;
mod checkpoints;
mod keep;
pub mod log;
mod metric_means;
mod progress;
mod selection;
mod stop;
#[cfg(test)]
mod tests;
mod verdict;

pub(crate) use after_epoch::{AfterEpoch, Plateau};
pub use checkpoints::{check_checkpoint, checkpoint_files};
pub(crate) use keep::KeepBestAndLast;
pub use log::LOG_HEADER;
pub(crate) use metric_means::EpochMetrics;
pub use progress::{Progress, SharedProgress};
pub use selection::{Select, Selection};
pub(crate) use verdict::Judge;
