//! The lab's experiments compiled once, here, for the backend the cargo features select
//! ([`seqlab_training::backend`]), so the `grad-flow` binary links them instead of
//! instantiating the generics again.

use seqlab_training::backend::{Autodiff, Device};
use seqlab_training::error::RunError;

use crate::adding::AddingTraining;
use crate::experiments::{AddingNorms, AddingPoint, LabCells, NormsCurve, SweepRun};
use crate::probe::TaskTraining;

/// [`crate::experiments::norms`] on [`Autodiff`].
pub fn norms(
    lab: &LabCells,
    length: usize,
    sequences: usize,
    train_steps: usize,
    seed: u64,
    device: &Device,
) -> Result<Vec<NormsCurve>, RunError> {
    crate::experiments::norms::<Autodiff>(lab, length, sequences, train_steps, seed, device)
}

/// [`crate::experiments::sweep`] on [`Autodiff`].
pub fn sweep(
    lab: &LabCells,
    lengths: &[usize],
    seeds: u64,
    training: &TaskTraining,
    device: &Device,
) -> Result<Vec<SweepRun>, RunError> {
    crate::experiments::sweep::<Autodiff>(lab, lengths, seeds, training, device)
}

/// [`crate::experiments::adding_runs`] on [`Autodiff`].
pub fn adding(
    lab: &LabCells,
    lengths: &[usize],
    seeds: u64,
    training: &AddingTraining,
    device: &Device,
) -> Result<(Vec<AddingPoint>, Vec<AddingNorms>), RunError> {
    crate::experiments::adding_runs::<Autodiff>(lab, lengths, seeds, training, device)
}
