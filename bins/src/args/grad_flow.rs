//! The command line of `grad-flow`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use seqlab_gradlab::LabCells;
use seqlab_models::CellKind;

use crate::cli::by_name;

/// The vanishing-gradient lab: gradient norms through time and a long-dependency sweep.
#[derive(Parser, Debug)]
#[command(name = "grad-flow", version)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand shares.
#[derive(clap::Args, Debug)]
pub struct Common {
    /// Cells, comma-separated: rnn-tanh, rnn-relu, lstm, gru.
    #[arg(long, value_delimiter = ',', default_value = "rnn-tanh,lstm,gru", value_parser = by_name::<CellKind>("cell"))]
    pub cells: Vec<CellKind>,
    /// Hidden size of every cell.
    #[arg(long, default_value_t = 32)]
    pub hidden: usize,
    /// LSTM forget-gate bias at initialisation (the classic 1.0); `none` keeps PyTorch's init.
    #[arg(long, default_value = "1.0", value_parser = parse_forget_bias)]
    pub forget_bias: ForgetBias,
    /// Output folder for the CSV, markdown and SVG files.
    #[arg(long, default_value = "docs/grad-flow")]
    pub out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// ‖∂L/∂h_t‖ for every t, averaged over random task sequences (L: cross-entropy of the
    /// last step's prediction), at initialisation and optionally after training.
    /// Writes norms.csv and norms.svg; prints ‖∂L/∂h_1‖/‖∂L/∂h_T‖ and the distance at which
    /// the norm falls below 1e-3 of its value at T.
    Norms {
        #[command(flatten)]
        common: Common,
        /// Sequence length T.
        #[arg(long, default_value_t = 100)]
        length: usize,
        /// Number of random sequences averaged over.
        #[arg(long, default_value_t = 64)]
        sequences: usize,
        /// Also measure after this many training steps on the first-token task at length T
        /// (0: initialisation only).
        #[arg(long, default_value_t = 0)]
        train_steps: usize,
        /// Seed of the weights and the sequences.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Trains every cell on the first-token task (4 classes, 8 distractor tokens; chance 0.25)
    /// at every length, for every seed, with the same hidden size, optimiser and step budget.
    /// Writes sweep.csv (one row per run), sweep.md (mean, spread, steps to 95 %) and
    /// sweep.svg (accuracy against T).
    Sweep {
        #[command(flatten)]
        common: Common,
        /// Sequence lengths T, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10,25,50,100,200")]
        lengths: Vec<usize>,
        /// Seeds per cell and length (1, 2, …).
        #[arg(long, default_value_t = 3)]
        seeds: u64,
        /// Step budget per run (Adam; stops early at 99 % held-out accuracy).
        #[arg(long, default_value_t = 800)]
        steps: usize,
        /// Sequences per step (fresh random ones every step).
        #[arg(long, default_value_t = 64)]
        batch_size: usize,
        /// Adam learning rate.
        #[arg(long, default_value_t = 1e-2)]
        lr: f64,
        /// Gradient-norm clipping threshold.
        #[arg(long, default_value_t = 1.0)]
        clip: f32,
    },
    /// The adding problem (two marked values among T, target their sum; MSE; the constant 1
    /// scores 1/6 ≈ 0.167): trains every cell at every length for every seed on fresh batches,
    /// evaluating on 500 held-out sequences. Writes adding.csv (every evaluation), adding.md
    /// (final MSE and sequences to MSE < 0.01), adding-norms.csv (‖∂L/∂h_1‖/‖∂L/∂h_T‖ and how
    /// far back ‖∂L/∂h_t‖ stays above 1e-3 of ‖∂L/∂h_T‖, at initialisation and after training,
    /// on 64 held-out sequences) and adding-T{T}.svg (MSE against sequences
    /// seen, log scale, baseline drawn). `--compare torch.csv` (from scripts/torch_adding.py
    /// with the same options) puts PyTorch's runs beside seqlab's in the table and plots.
    Adding {
        #[command(flatten)]
        common: Common,
        /// Sequence lengths T, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "50,100,200")]
        lengths: Vec<usize>,
        /// Seeds per cell and length (1, 2, …).
        #[arg(long, default_value_t = 3)]
        seeds: u64,
        /// Training sequences per run.
        #[arg(long, default_value_t = 200_000)]
        sequences: usize,
        /// Sequences per step.
        #[arg(long, default_value_t = 50)]
        batch_size: usize,
        /// Adam learning rate.
        #[arg(long, default_value_t = 3e-3)]
        lr: f64,
        /// Per-parameter gradient-norm clipping threshold.
        #[arg(long, default_value_t = 1.0)]
        clip: f32,
        /// A class-sized run (under a minute on 2 cores): T = 50 only, one seed, 80,000 sequences.
        #[arg(long)]
        quick: bool,
        /// PyTorch's runs (the CSV of scripts/torch_adding.py) to show beside seqlab's.
        #[arg(long, value_name = "CSV")]
        compare: Option<PathBuf>,
        /// Train nothing: redraw the table and plots from the adding.csv already in --out.
        #[arg(long)]
        plot_only: bool,
    },
}

/// `--forget-bias`: a value, or `none` (clap reads a bare `Option` as "may be absent").
#[derive(Debug, Clone, Copy)]
pub struct ForgetBias(pub Option<f64>);

fn parse_forget_bias(s: &str) -> Result<ForgetBias, String> {
    if s == "none" {
        return Ok(ForgetBias(None));
    }
    s.parse().map(|v| ForgetBias(Some(v))).map_err(|_| format!("{s:?} is neither a number nor `none`"))
}

impl Common {
    /// The cells and what they share, for the lab's experiments.
    pub fn lab(&self) -> LabCells {
        LabCells { cells: self.cells.clone(), hidden: self.hidden, forget_bias: self.forget_bias.0 }
    }
}
