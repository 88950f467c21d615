//! Data-parallel training across processes and machines on MPI: a run starts the way clusters
//! start jobs, `mpirun -np 2 train-tagger …` on one machine, with a hostfile across machines, or
//! `srun` under Slurm. Rank and size come from MPI ([`ClusterConfig::from_launcher`]).
//!
//! `N` processes ("ranks", `0..N`) train one model. Each reads its own share of the training
//! batches ([`seqlab_datasets::batch::BatchPlan::shard`]); every step each computes its local
//! gradients, [`AllReduced`] sums them over the ranks in one all-reduce (weighed by the loss
//! terms each rank averaged over, [`StepWeight`], so that `N` ranks compute what one process
//! computes on the combined batches; only the blocks of the gradients some rank filled, agreed
//! in a first, small all-reduce: a batch's word embedding gradient is zero outside its words),
//! and every rank applies the same optimiser step.
//! All ranks start from the same weights: the same seed on the same backend initialises them
//! bit for bit alike.
//!
//! [`join`] checks that every rank runs the same options on the same data (a fingerprint
//! all-reduced at the start). Every wait for the other ranks is bounded (`--cluster-timeout`),
//! and a signal ends a rank at once (mpirun stops every rank when one ends), so a rank that
//! dies, stops or differs ends the run with one line from each rank saying which rank, which
//! step, and that the last complete checkpoint is kept. MPI chooses the transport (shared
//! memory inside a machine, TCP or InfiniBand between machines) and which interfaces it listens
//! on (docs/cluster.md): its traffic is neither authenticated nor encrypted, so run it on a
//! private network only.

mod all_reduce;
mod blocks;
mod engine;
mod launcher;
mod signals;

use std::time::Duration;

use seqlab_datasets::chunks::Fingerprint;

use crate::error::{ClusterFailure, RunError};

pub use all_reduce::{AllReduced, StepWeight, Traffic, TrafficLog};
pub use launcher::launched_size;

/// Where this process stands in a job of training processes, as MPI says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Processes in the job.
    pub ranks: usize,
    /// This process's rank, `0..ranks`. Every rank writes the same checkpoints into its own
    /// artifacts folder; rank 0's is the run's.
    pub rank: usize,
    /// How long one all-reduce may wait for the other ranks before the run stops.
    pub timeout: Duration,
}

impl ClusterConfig {
    /// This process's place in a job when a launcher (mpirun, mpiexec, srun) started it as one
    /// of two or more ranks: starts MPI and asks it. `None` when started alone (or as a job of
    /// one). Errors: `timeout` of zero, a build without MPI, a launcher whose job MPI does not
    /// see (e.g. srun without `--mpi=pmix`).
    pub fn from_launcher(timeout: Duration) -> Result<Option<Self>, RunError> {
        let Some((size, variable)) = launched_size(|name| std::env::var(name).ok()) else {
            return Ok(None);
        };
        if size < 2 {
            return Ok(None);
        }
        if timeout.is_zero() {
            return Err(RunError::invalid("cluster-timeout", "must be at least 1 second"));
        }
        let (rank, ranks) = engine::start(size, timeout)?;
        if ranks != size {
            return Err(RunError::cluster(
                ClusterFailure::Launch,
                format!(
                    "the launcher started {size} processes ({variable}) but MPI sees a job of {ranks}: under Slurm, \
                     `srun --mpi=pmix` (or pmi2); otherwise the MPI library this program was built with differs \
                     from the launcher's"
                ),
            ));
        }
        Ok(Some(Self { ranks, rank, timeout }))
    }

    /// This process's name in messages: `rank 1 of 3`.
    pub fn name(&self) -> String {
        format!("rank {} of {}", self.rank, self.ranks)
    }
}

/// What every rank of a job must agree on, as one number: `run`, the run's options as every
/// rank must share them (each task's `agreed_by_ranks`: no paths, which differ between
/// machines, nor how the process was started), `data`, the data files' sizes and CRC-32s, and
/// the vocabulary and label files.
pub fn fingerprint(
    run: &impl serde::Serialize,
    data: &[(&str, Option<Fingerprint>)],
    vocab: &impl serde::Serialize,
    labels: &impl serde::Serialize,
) -> u64 {
    let parts = [
        serde_json::to_string(run),
        serde_json::to_string(data),
        serde_json::to_string(vocab),
        serde_json::to_string(labels),
    ];
    let text = parts.map(Result::unwrap_or_default).join("\n");
    crate::artifacts::fnv1a64(text.as_bytes())
}

/// Checks, with one all-reduce, that every rank has the same `fingerprint` (of its options,
/// vocabulary and data): the sums of its bytes and of their squares satisfy `N·Σx² = (Σx)²`
/// for every byte exactly when all ranks agree (small integers, so the sums are exact in
/// `f32`).
pub fn join(config: &ClusterConfig, fingerprint: u64) -> Result<(), RunError> {
    signals::end_rank_on_signal(config);
    let bytes = fingerprint.to_le_bytes();
    let values: Vec<f32> =
        bytes.iter().map(|&b| f32::from(b)).chain(bytes.iter().map(|&b| f32::from(b) * f32::from(b))).collect();
    let what = format!("{}: checking that every rank runs the same options on the same data", config.name());
    let sums = engine::sum(values, config.timeout, &what)?;
    let n = config.ranks as f64;
    let agree = (0..8).all(|i| (n * f64::from(sums[8 + i]) - f64::from(sums[i]).powi(2)).abs() < 0.5);
    if agree {
        Ok(())
    } else {
        Err(RunError::cluster(
            ClusterFailure::Disagree,
            format!(
                "{}: the ranks do not all run the same options on the same data (run.json, vocabulary, labels and \
                 the training file's checksum must agree; this rank's fingerprint is {fingerprint:016x})",
                config.name()
            ),
        ))
    }
}

/// Ends this process's part in the job once training is over (MPI's finalisation, where the
/// ranks wait for each other): a rank that exits without it is reported by mpirun as failed.
pub fn leave() {
    engine::finish();
}

/// `values` summed over the ranks of `config`'s job (what every training step does with its
/// gradients), waiting at most its time-out; `what` names the wait in errors.
pub fn sum(config: &ClusterConfig, values: Vec<f32>, what: &str) -> Result<Vec<f32>, RunError> {
    engine::sum(values, config.timeout, what)
}

/// `values` summed over the ranks of `config`'s job in double precision (an epoch's metric sums
/// and counts), waiting at most its time-out; `what` names the wait in errors.
pub fn sum_wide(config: &ClusterConfig, values: Vec<f64>, what: &str) -> Result<Vec<f64>, RunError> {
    engine::sum_wide(values, config.timeout, what)
}

/// Ends this rank after an exchange with the others failed where no error can be returned
/// (burn-train's optimiser step and metric thread): one line says why, and that the last
/// complete checkpoint is kept; the folder's lock goes with the process.
pub fn end_rank(error: &RunError) -> ! {
    crate::note!("error: {error}; the last complete checkpoint is kept (continue with --resume)");
    std::process::exit(1);
}
