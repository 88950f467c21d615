//! `grad-flow`: the vanishing-gradient lab. `norms` measures ‖∂L/∂h_t‖ for every step t of
//! RNN, LSTM and GRU layers (the BPTT product of Jacobians); `sweep` trains each cell on the
//! long-dependency first-token task for growing sequence lengths. Both write CSV and SVG plots.
#![recursion_limit = "256"]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::Backend;
use clap::{Parser, Subcommand};
use plotters::prelude::*;
use seqlab_datasets::longdep::FirstTokenTask;
use seqlab_models::CellKind;
use seqlab_training::backend::{self, Autodiff};
use seqlab_training::gradflow::{decay_summary, gradient_norms, train_on_task, ProbeModelConfig, TaskTraining};

/// The vanishing-gradient lab: gradient norms through time and a long-dependency sweep.
#[derive(Parser, Debug)]
#[command(name = "grad-flow", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

/// Options both subcommands share.
#[derive(clap::Args, Debug)]
struct Common {
    /// Cells, comma-separated: rnn-tanh, rnn-relu, lstm, gru.
    #[arg(long, value_delimiter = ',', default_value = "rnn-tanh,lstm,gru", value_parser = parse_cell)]
    cells: Vec<CellKind>,
    /// Hidden size of every cell.
    #[arg(long, default_value_t = 32)]
    hidden: usize,
    /// LSTM forget-gate bias at initialisation (the classic 1.0); `none` keeps PyTorch's init.
    #[arg(long, default_value = "1.0", value_parser = parse_forget_bias)]
    forget_bias: ForgetBias,
    /// Output folder for the CSV, markdown and SVG files.
    #[arg(long, default_value = "docs/grad-flow")]
    out: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Command {
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
}

fn parse_cell(s: &str) -> Result<CellKind, String> {
    CellKind::from_name(s).ok_or_else(|| format!("unknown cell {s:?}; expected rnn-tanh, rnn-relu, lstm or gru"))
}

/// `--forget-bias`: a value, or `none` (clap reads a bare `Option` as "may be absent").
#[derive(Debug, Clone, Copy)]
struct ForgetBias(Option<f64>);

fn parse_forget_bias(s: &str) -> Result<ForgetBias, String> {
    if s == "none" {
        return Ok(ForgetBias(None));
    }
    s.parse().map(|v| ForgetBias(Some(v))).map_err(|_| format!("{s:?} is neither a number nor `none`"))
}

fn main() -> ExitCode {
    seqlab_bins::malloc::tune_for_tensors();
    let args = Args::parse();
    let device = backend::Device::default();
    println!("backend {} on {:?}", backend::name(), device);
    let result = match args.command {
        Command::Norms { common, length, sequences, train_steps, seed } => {
            norms(&common, length, sequences, train_steps, seed, &device)
        }
        Command::Sweep { common, lengths, seeds, steps, batch_size, lr, clip } => {
            let training = TaskTraining { steps, batch_size, learning_rate: lr, clip_norm: clip, ..Default::default() };
            sweep(&common, &lengths, seeds, &training, &device)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("grad-flow: {e}");
            ExitCode::FAILURE
        }
    }
}

fn model_config(common: &Common, cell: CellKind) -> ProbeModelConfig {
    ProbeModelConfig { cell, hidden: common.hidden, forget_bias: common.forget_bias.0 }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn norms(common: &Common, length: usize, sequences: usize, train_steps: usize, seed: u64, device: &backend::Device) -> Result<(), String> {
    if length < 2 || sequences == 0 {
        return Err("--length must be at least 2 and --sequences at least 1".into());
    }
    std::fs::create_dir_all(&common.out).map_err(|e| format!("{}: {e}", common.out.display()))?;
    let task = FirstTokenTask::new(length);
    let examples = task.generate(sequences, seed);
    let mut curves: Vec<(String, Vec<f64>)> = Vec::new();
    for &cell in &common.cells {
        <Autodiff as Backend>::seed(device, seed);
        let model = model_config(common, cell).init::<Autodiff>(&task, device);
        curves.push((format!("{} init", cell.name()), gradient_norms(&model, &examples, task.vocab_size())));
        if train_steps > 0 {
            let training = TaskTraining { steps: train_steps, ..Default::default() };
            let (trained, run) = train_on_task(model, &task, &training, seed);
            println!("{}: trained {} steps, held-out accuracy {:.3}", cell.name(), run.steps, run.final_accuracy);
            curves.push((format!("{} trained", cell.name()), gradient_norms(&trained, &examples, task.vocab_size())));
        }
    }

    println!("T = {length}, hidden {}, {sequences} sequences, seed {seed}", common.hidden);
    for (name, values) in &curves {
        let s = decay_summary(values);
        println!(
            "{name:<18} ‖∂L/∂h_1‖/‖∂L/∂h_T‖ = {}   below 1e-3 of ‖∂L/∂h_T‖ at distance {}",
            if s.first_over_last == 0.0 { "0 (under f32's 1e-45)".to_string() } else { format!("{:.3e}", s.first_over_last) },
            s.distance_below_1e_3.map_or(format!("never (within {})", length - 1), |d| d.to_string())
        );
    }
    let mut csv = String::from("t,distance");
    curves.iter().for_each(|(name, _)| write!(csv, ",{}", name.replace(' ', "_")).unwrap());
    csv.push('\n');
    for t in 0..length {
        write!(csv, "{},{}", t + 1, length - 1 - t).unwrap();
        curves.iter().for_each(|(_, v)| write!(csv, ",{:.6e}", v[t]).unwrap());
        csv.push('\n');
    }
    write(&common.out.join("norms.csv"), &csv)?;
    let series: Vec<(String, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|(name, v)| {
            // Norms that underflowed to 0 cannot sit on a log axis: the curve ends there.
            let points = v.iter().enumerate().filter(|(_, &n)| n > 0.0).map(|(t, &n)| ((length - 1 - t) as f64, n));
            (name.clone(), points.collect())
        })
        .collect();
    let path = common.out.join("norms.svg");
    plot(&path, &format!("‖∂L/∂h_t‖ at initialisation, T = {length}, hidden {}", common.hidden), "distance T − t", "mean ‖∂L/∂h_t‖ (log)", &series, true)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// One line per (cell, length): mean, min–max over seeds, runs reaching 95 % and their mean steps.
fn sweep(common: &Common, lengths: &[usize], seeds: u64, training: &TaskTraining, device: &backend::Device) -> Result<(), String> {
    std::fs::create_dir_all(&common.out).map_err(|e| format!("{}: {e}", common.out.display()))?;
    let started = Instant::now();
    let mut csv = String::from("cell,length,seed,final_accuracy,steps_to_95,steps,seconds\n");
    let mut table: Vec<(CellKind, usize, Vec<f64>, Vec<Option<usize>>, f64)> = Vec::new();
    for &cell in &common.cells {
        for &length in lengths {
            let task = FirstTokenTask::new(length);
            let (mut accs, mut reached, mut seconds) = (Vec::new(), Vec::new(), 0.0);
            for seed in 1..=seeds {
                let run_started = Instant::now();
                <Autodiff as Backend>::seed(device, seed);
                let model = model_config(common, cell).init::<Autodiff>(&task, device);
                let (model, run) = train_on_task(model, &task, training, seed);
                let _ = model.valid();
                let secs = run_started.elapsed().as_secs_f64();
                seconds += secs;
                println!(
                    "{:<8} T={length:<4} seed {seed}: accuracy {:.3}, 95 % at {}, {} steps, {secs:.1} s",
                    cell.name(),
                    run.final_accuracy,
                    run.steps_to_95.map_or("—".to_string(), |s| format!("step {s}")),
                    run.steps
                );
                writeln!(
                    csv,
                    "{},{length},{seed},{:.4},{},{},{secs:.2}",
                    cell.name(),
                    run.final_accuracy,
                    run.steps_to_95.map_or(String::new(), |s| s.to_string()),
                    run.steps
                )
                .unwrap();
                accs.push(run.final_accuracy);
                reached.push(run.steps_to_95);
            }
            table.push((cell, length, accs, reached, seconds));
        }
    }
    let total = started.elapsed().as_secs_f64();
    write(&common.out.join("sweep.csv"), &csv)?;

    let mut md = format!(
        "First-token task (4 classes, chance 0.25), hidden {}, Adam lr {}, clip {}, batch {}, budget {} steps \
         (stop at {:.0} %), {} seeds; LSTM forget bias {}. Total {:.0} s on backend {}.\n\n\
         | cell | T | accuracy mean | min – max | runs reaching 95 % | mean steps to 95 % | seconds |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
        common.hidden,
        training.learning_rate,
        training.clip_norm,
        training.batch_size,
        training.steps,
        training.stop_at * 100.0,
        seeds,
        common.forget_bias.0.map_or("PyTorch init".to_string(), |b| b.to_string()),
        total,
        backend::name()
    );
    for (cell, length, accs, reached, seconds) in &table {
        let mean = accs.iter().sum::<f64>() / accs.len() as f64;
        let (lo, hi) = accs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)));
        let hits: Vec<usize> = reached.iter().flatten().copied().collect();
        let steps = if hits.is_empty() { "—".to_string() } else { format!("{:.0}", hits.iter().sum::<usize>() as f64 / hits.len() as f64) };
        writeln!(md, "| {} | {length} | {mean:.3} | {lo:.3} – {hi:.3} | {}/{} | {steps} | {seconds:.0} |", cell.name(), hits.len(), accs.len()).unwrap();
    }
    write(&common.out.join("sweep.md"), &md)?;
    print!("{md}");

    let series: Vec<(String, Vec<(f64, f64)>)> = common
        .cells
        .iter()
        .map(|cell| {
            let points = table
                .iter()
                .filter(|row| row.0 == *cell)
                .map(|(_, length, accs, _, _)| (*length as f64, accs.iter().sum::<f64>() / accs.len() as f64))
                .collect();
            (cell.name().to_string(), points)
        })
        .collect();
    let path = common.out.join("sweep.svg");
    plot(&path, "First-token task: held-out accuracy against sequence length", "sequence length T", "accuracy (mean of seeds)", &series, false)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// A line chart, one series per curve; `log_y` for gradient norms, else accuracy in [0, 1].
fn plot(path: &Path, title: &str, x_desc: &str, y_desc: &str, series: &[(String, Vec<(f64, f64)>)], log_y: bool) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: cannot draw: {e}", path.display());
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let x_max = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(1.0, f64::max);
    let mut builder = ChartBuilder::on(&root);
    builder.caption(title, ("sans-serif", 20)).margin(15).x_label_area_size(40).y_label_area_size(70);
    let colours = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    let style = |i: usize| colours[i % colours.len()].stroke_width(if i / colours.len() == 0 { 2 } else { 1 });
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw().map_err(|e| err(&e))?;
            for (i, (name, points)) in series.iter().enumerate() {
                let colour = colours[i % colours.len()];
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), style(i)))
                    .map_err(|e| err(&e))?
                    .label(name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 2, colour.filled()))).map_err(|e| err(&e))?;
            }
            chart.configure_series_labels().background_style(WHITE.mix(0.9)).border_style(BLACK).draw().map_err(|e| err(&e))?;
        }};
    }
    if log_y {
        let values = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
        let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let chart = builder.build_cartesian_2d(0f64..x_max, (lo / 2.0..hi * 2.0).log_scale()).map_err(|e| err(&e))?;
        draw!(chart);
    } else {
        let chart = builder.build_cartesian_2d(0f64..x_max * 1.05, 0f64..1.05f64).map_err(|e| err(&e))?;
        draw!(chart);
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
