//! The lab's three experiments, each over the chosen cells (and lengths and seeds): gradient
//! norms through time ([`norms`]), the first-token sweep ([`sweep`]) and the adding problem
//! ([`adding_runs`]). Each returns what it measured; [`super::files`] writes it.

use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use seqlab_datasets::longdep::{AddingTask, FirstTokenTask};
use seqlab_models::CellKind;

use crate::adding::{adding_gradient_norms, adding_held_out, train_adding, AddingTraining};
use crate::probe::{
    decay_summary, gradient_norms, train_on_task, DecaySummary, ProbeModelConfig, TaskRun, TaskTraining,
};
use seqlab_training::error::RunError;
use seqlab_training::{machine_memory, Footprint, Part};

/// The cells every experiment compares, and what they share.
#[derive(Debug, Clone)]
pub struct LabCells {
    /// The cells, in the order tables and plots list them.
    pub cells: Vec<CellKind>,
    /// Hidden size of every cell.
    pub hidden: usize,
    /// The LSTM's forget-gate bias at initialisation (`None`: PyTorch's init).
    pub forget_bias: Option<f64>,
}

impl LabCells {
    fn model(&self, cell: CellKind) -> ProbeModelConfig {
        ProbeModelConfig { cell, hidden: self.hidden, forget_bias: self.forget_bias }
    }

    fn check(&self) -> Result<(), RunError> {
        if self.hidden == 0 {
            return Err(RunError::invalid("hidden", "must be at least 1"));
        }
        if self.cells.is_empty() {
            return Err(RunError::invalid("cells", "name at least one cell"));
        }
        Ok(())
    }

    /// Refuses sizes that cannot fit this machine's memory (see [`crate::memory`]): the widest
    /// cell's weights with their gradients and Adam's moments, and the states that `sequences`
    /// sequences of `length` steps keep for backpropagation through time. Names `--hidden`, or
    /// `length_option` when the steps outnumber the hidden units.
    fn check_memory(&self, length: usize, sequences: usize, length_option: &'static str) -> Result<(), RunError> {
        let gates = self.cells.iter().map(CellKind::gates).max().unwrap_or(1) as f64;
        let (h, steps) = (self.hidden as f64, length.saturating_mul(sequences));
        let recurrent = Part { option: "hidden", parameters: gates * (2.0 * h * h + 4.0 * h), per_token: 0.0 };
        let states = Part {
            option: if steps > self.hidden { length_option } else { "hidden" },
            parameters: 0.0,
            per_token: (gates + 2.0) * h,
        };
        Footprint { parts: vec![recurrent, states], batch_tokens: steps }
            .check_with(machine_memory(), "choose a smaller --hidden, length or number of sequences")
    }
}

/// One curve of `‖∂L/∂h_t‖` for `t = 1..=T`.
#[derive(Debug, Clone, PartialEq)]
pub struct NormsCurve {
    /// `lstm init`, `lstm trained`, …
    pub name: String,
    /// The mean norm at every step.
    pub norms: Vec<f64>,
}

/// `‖∂L/∂h_t‖` of every cell at initialisation on `sequences` random first-token sequences of
/// `length`, and after `train_steps` steps of training on the task when that is not 0.
pub fn norms<B: AutodiffBackend>(
    lab: &LabCells,
    length: usize,
    sequences: usize,
    train_steps: usize,
    seed: u64,
    device: &B::Device,
) -> Result<Vec<NormsCurve>, RunError> {
    lab.check()?;
    if length < 2 {
        return Err(RunError::invalid("length", format!("must be at least 2, got {length}")));
    }
    if sequences == 0 {
        return Err(RunError::invalid("sequences", "must be at least 1"));
    }
    lab.check_memory(length, sequences, "length")?;
    let task = FirstTokenTask::new(length);
    let examples = task.generate(sequences, seed);
    let mut curves = Vec::new();
    for &cell in &lab.cells {
        B::seed(device, seed);
        let model = lab.model(cell).init::<B>(&task, device);
        let name = cell.name();
        curves.push(NormsCurve {
            name: format!("{name} init"),
            norms: gradient_norms(&model, &examples, task.vocab_size()),
        });
        if train_steps > 0 {
            let training = TaskTraining { steps: train_steps, ..Default::default() };
            let (trained, run) = train_on_task(model, &task, &training, seed);
            seqlab_training::say!("{name}: trained {} steps, held-out accuracy {:.3}", run.steps, run.final_accuracy);
            let norms = gradient_norms(&trained, &examples, task.vocab_size());
            curves.push(NormsCurve { name: format!("{name} trained"), norms });
        }
    }
    Ok(curves)
}

/// One run of the first-token sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRun {
    /// The cell.
    pub cell: CellKind,
    /// The sequence length.
    pub length: usize,
    /// The seed (1, 2, …).
    pub seed: u64,
    /// How training went.
    pub run: TaskRun,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Trains every cell on the first-token task at every length for seeds `1..=seeds`.
pub fn sweep<B: AutodiffBackend>(
    lab: &LabCells,
    lengths: &[usize],
    seeds: u64,
    training: &TaskTraining,
    device: &B::Device,
) -> Result<Vec<SweepRun>, RunError> {
    lab.check()?;
    if let Some(&t) = lengths.iter().find(|&&t| t < 2) {
        return Err(RunError::invalid("lengths", format!("the first-token task needs T ≥ 2, got {t}")));
    }
    let longest = lengths.iter().copied().max().unwrap_or(0);
    lab.check_memory(longest, training.batch_size.max(training.eval_size), "lengths")?;
    let mut runs = Vec::new();
    for &cell in &lab.cells {
        for &length in lengths {
            let task = FirstTokenTask::new(length);
            for seed in 1..=seeds {
                let started = Instant::now();
                B::seed(device, seed);
                let model = lab.model(cell).init::<B>(&task, device);
                let (_, run) = train_on_task(model, &task, training, seed);
                let seconds = started.elapsed().as_secs_f64();
                seqlab_training::say!(
                    "{:<8} T={length:<4} seed {seed}: accuracy {:.3}, 95 % at {}, {} steps, {seconds:.1} s",
                    cell.name(),
                    run.final_accuracy,
                    run.steps_to_95.map_or("—".to_string(), |s| format!("step {s}")),
                    run.steps
                );
                runs.push(SweepRun { cell, length, seed, run, seconds });
            }
        }
    }
    Ok(runs)
}

/// One evaluation of one run on the adding problem (seqlab's, or PyTorch's read back from
/// its CSV).
#[derive(Debug, Clone, PartialEq)]
pub struct AddingPoint {
    /// `seqlab` or `pytorch`.
    pub framework: String,
    /// The cell's name.
    pub cell: String,
    /// The sequence length.
    pub length: usize,
    /// The seed.
    pub seed: u64,
    /// Training sequences seen.
    pub sequences: usize,
    /// Held-out MSE.
    pub mse: f64,
}

/// How the gradient norms of one adding run decayed, before and after training.
#[derive(Debug, Clone, PartialEq)]
pub struct AddingNorms {
    /// The cell.
    pub cell: CellKind,
    /// The sequence length.
    pub length: usize,
    /// The seed.
    pub seed: u64,
    /// At initialisation.
    pub before: DecaySummary,
    /// After training.
    pub after: DecaySummary,
}

/// Trains every cell on the adding problem at every length for seeds `1..=seeds`: every
/// evaluation of every run, and each run's gradient norms before and after (on 64 held-out
/// sequences).
pub fn adding_runs<B: AutodiffBackend>(
    lab: &LabCells,
    lengths: &[usize],
    seeds: u64,
    training: &AddingTraining,
    device: &B::Device,
) -> Result<(Vec<AddingPoint>, Vec<AddingNorms>), RunError> {
    check_adding(lab, lengths, seeds, training)?;
    let (mut points, mut norms) = (Vec::new(), Vec::new());
    for &length in lengths {
        let task = AddingTask { length };
        for &cell in &lab.cells {
            for seed in 1..=seeds {
                let started = Instant::now();
                B::seed(device, seed);
                let model = lab.model(cell).init_adding::<B>(device);
                let probe = adding_held_out(&task, 64, seed + 1000);
                let before = decay_summary(&adding_gradient_norms(&model, &probe));
                let (trained, run) = train_adding(model, &task, training, seed);
                let after = decay_summary(&adding_gradient_norms(&trained, &probe));
                seqlab_training::say!(
                    "T={length:<4} {:<8} seed {seed}: final MSE {:.4}, below 0.01 after {} ({:.0} s); \
                     ‖∂L/∂h_1‖/‖∂L/∂h_T‖ {:.3e} at initialisation, {:.3e} after training",
                    cell.name(),
                    run.final_mse,
                    run.sequences_to_001.map_or("never".to_string(), |n| format!("{n} sequences")),
                    started.elapsed().as_secs_f64(),
                    before.first_over_last,
                    after.first_over_last,
                );
                let point = |&(sequences, mse): &(usize, f64)| AddingPoint {
                    framework: "seqlab".into(),
                    cell: cell.name().into(),
                    length,
                    seed,
                    sequences,
                    mse,
                };
                points.extend(run.curve.iter().map(point));
                norms.push(AddingNorms { cell, length, seed, before, after });
            }
        }
    }
    Ok((points, norms))
}

/// The adding problem's options in range.
fn check_adding(lab: &LabCells, lengths: &[usize], seeds: u64, training: &AddingTraining) -> Result<(), RunError> {
    lab.check()?;
    if let Some(&t) = lengths.iter().find(|&&t| t < 2) {
        return Err(RunError::invalid("lengths", format!("the adding problem needs T ≥ 2, got {t}")));
    }
    for (option, value) in
        [("seeds", seeds as usize), ("sequences", training.sequences), ("batch-size", training.batch_size)]
    {
        if value == 0 {
            return Err(RunError::invalid(option, "must be at least 1"));
        }
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(training.learning_rate) {
        return Err(RunError::invalid("lr", format!("must be a finite number > 0, got {}", training.learning_rate)));
    }
    if !positive(f64::from(training.clip_norm)) {
        return Err(RunError::invalid("clip", format!("must be a finite number > 0, got {}", training.clip_norm)));
    }
    let longest = lengths.iter().copied().max().unwrap_or(0);
    lab.check_memory(longest, training.batch_size.max(training.eval_size), "lengths")
}
