//! `grad-flow`: the vanishing-gradient lab. `norms` measures ‖∂L/∂h_t‖ for every step t of
//! RNN, LSTM and GRU layers (the BPTT product of Jacobians); `sweep` trains each cell on the
//! long-dependency first-token task for growing sequence lengths; `adding` trains them on the
//! adding problem. Each writes CSV, a markdown table and SVG plots
//! (`seqlab_gradlab`).
#![recursion_limit = "256"]

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use seqlab_bins::args::grad_flow::{Args, Command};
use seqlab_gradlab::files::{self, SweepSettings};
use seqlab_gradlab::{on_backend, AddingTraining, TaskTraining};
use seqlab_training::backend;
use seqlab_training::error::RunError;
use seqlab_training::{note, say};

fn main() -> ExitCode {
    seqlab_bins::startup::prepare_process();
    let args = Args::parse();
    let device = backend::Device::default();
    say!("backend {} on {:?}", backend::name(), device);
    match run(args.command, &device) {
        Ok(()) => seqlab_bins::cli::output_status(),
        Err(e) => {
            note!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, device: &backend::Device) -> Result<(), RunError> {
    let common = match &command {
        Command::Norms { common, .. } | Command::Sweep { common, .. } | Command::Adding { common, .. } => common,
    };
    std::fs::create_dir_all(&common.out).map_err(|e| RunError::io(&common.out, &e))?;
    let (lab, out, started) = (common.lab(), common.out.clone(), Instant::now());
    match command {
        Command::Norms { length, sequences, train_steps, seed, .. } => {
            let curves = on_backend::norms(&lab, length, sequences, train_steps, seed, device)?;
            say!("T = {length}, hidden {}, {sequences} sequences, seed {seed}", lab.hidden);
            say!("{}", files::norms_summary(&curves).trim_end());
            files::write_norms(&out, &curves, lab.hidden)
        }
        Command::Sweep { lengths, seeds, steps, batch_size, lr, clip, .. } => {
            let training = TaskTraining { steps, batch_size, learning_rate: lr, clip_norm: clip, ..Default::default() };
            let runs = on_backend::sweep(&lab, &lengths, seeds, &training, device)?;
            let seconds = started.elapsed().as_secs_f64();
            let settings = SweepSettings {
                training: &training,
                hidden: lab.hidden,
                seeds,
                forget_bias: lab.forget_bias,
                seconds,
                backend: backend::name(),
            };
            say!("{}", files::write_sweep(&out, &runs, &settings)?.trim_end());
            Ok(())
        }
        Command::Adding { lengths, seeds, sequences, batch_size, lr, clip, quick, compare, plot_only, .. } => {
            let sequences = if quick { 80_000 } else { sequences };
            let training =
                AddingTraining { sequences, batch_size, learning_rate: lr, clip_norm: clip, ..Default::default() };
            let (lengths, seeds) = if quick { (vec![50], 1) } else { (lengths, seeds) };
            let mut points = if plot_only {
                files::read_adding_csv(&out.join("adding.csv"))?
            } else {
                let (points, norms) = on_backend::adding(&lab, &lengths, seeds, &training, device)?;
                files::write_adding_runs(&out, &points, &norms)?;
                points
            };
            if let Some(path) = compare {
                points.extend(files::read_adding_csv(&path)?);
            }
            points.retain(|p| lengths.contains(&p.length));
            let seconds = started.elapsed().as_secs_f64();
            let table = files::write_adding_table(&out, &points, &training, lab.hidden, seconds)?;
            say!("{}", table.trim_end());
            Ok(())
        }
    }
}
