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
use seqlab_bins::cli::by_name;
use seqlab_datasets::longdep::FirstTokenTask;
use seqlab_datasets::longdep::{AddingTask, ADDING_BASELINE_MSE};
use seqlab_models::CellKind;
use seqlab_training::backend::{self, Autodiff};
use seqlab_training::gradflow::{
    adding_gradient_norms, adding_held_out, decay_summary, gradient_norms, train_adding, train_on_task, AddingTraining,
    ProbeModelConfig, TaskTraining,
};

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
    #[arg(long, value_delimiter = ',', default_value = "rnn-tanh,lstm,gru", value_parser = by_name("cell", "rnn-tanh, rnn-relu, lstm or gru", CellKind::from_name))]
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
        Command::Adding { common, lengths, seeds, sequences, batch_size, lr, clip, quick, compare, plot_only } => {
            let training = AddingTraining {
                sequences: if quick { 80_000 } else { sequences },
                batch_size,
                learning_rate: lr,
                clip_norm: clip,
                ..Default::default()
            };
            let lengths = if quick { vec![50] } else { lengths };
            adding(&common, &lengths, if quick { 1 } else { seeds }, &training, compare.as_deref(), plot_only, &device)
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

fn norms(
    common: &Common,
    length: usize,
    sequences: usize,
    train_steps: usize,
    seed: u64,
    device: &backend::Device,
) -> Result<(), String> {
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
            if s.first_over_last == 0.0 {
                "0 (under f32's 1e-45)".to_string()
            } else {
                format!("{:.3e}", s.first_over_last)
            },
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
    plot(
        &path,
        &format!("‖∂L/∂h_t‖ at initialisation, T = {length}, hidden {}", common.hidden),
        "distance T − t",
        "mean ‖∂L/∂h_t‖ (log)",
        &series,
        true,
    )?;
    println!("wrote {}", path.display());
    Ok(())
}

/// One line per (cell, length): mean, min–max over seeds, runs reaching 95 % and their mean steps.
fn sweep(
    common: &Common,
    lengths: &[usize],
    seeds: u64,
    training: &TaskTraining,
    device: &backend::Device,
) -> Result<(), String> {
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
        let steps = if hits.is_empty() {
            "—".to_string()
        } else {
            format!("{:.0}", hits.iter().sum::<usize>() as f64 / hits.len() as f64)
        };
        writeln!(
            md,
            "| {} | {length} | {mean:.3} | {lo:.3} – {hi:.3} | {}/{} | {steps} | {seconds:.0} |",
            cell.name(),
            hits.len(),
            accs.len()
        )
        .unwrap();
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
    plot(
        &path,
        "First-token task: held-out accuracy against sequence length",
        "sequence length T",
        "accuracy (mean of seeds)",
        &series,
        false,
    )?;
    println!("wrote {}", path.display());
    Ok(())
}

/// One evaluation of one run: framework, cell, length, seed, sequences seen, held-out MSE.
type AddingPoint = (String, String, usize, u64, usize, f64);

fn read_adding_csv(path: &Path) -> Result<Vec<AddingPoint>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let bad =
                || format!("{}:{}: expected framework,cell,length,seed,sequences,mse: {line:?}", path.display(), i + 1);
            if f.len() != 6 {
                return Err(bad());
            }
            Ok((
                f[0].to_string(),
                f[1].to_string(),
                f[2].parse().map_err(|_| bad())?,
                f[3].parse().map_err(|_| bad())?,
                f[4].parse().map_err(|_| bad())?,
                f[5].parse().map_err(|_| bad())?,
            ))
        })
        .collect()
}

/// The adding problem for every cell, length and seed (see `Command::Adding`).
fn adding(
    common: &Common,
    lengths: &[usize],
    seeds: u64,
    training: &AddingTraining,
    compare: Option<&Path>,
    plot_only: bool,
    device: &backend::Device,
) -> Result<(), String> {
    if let Some(t) = lengths.iter().find(|&&t| t < 2) {
        return Err(format!("--lengths: the adding problem needs T ≥ 2, got {t}"));
    }
    if seeds == 0 || training.sequences == 0 || training.batch_size == 0 || common.hidden == 0 {
        return Err("--seeds, --sequences, --batch-size and --hidden must be at least 1".into());
    }
    if !(training.learning_rate.is_finite() && training.learning_rate > 0.0)
        || !(training.clip_norm.is_finite() && training.clip_norm > 0.0)
    {
        return Err(format!(
            "--lr and --clip must be finite numbers > 0, got {} and {}",
            training.learning_rate, training.clip_norm
        ));
    }
    std::fs::create_dir_all(&common.out).map_err(|e| format!("{}: {e}", common.out.display()))?;
    let started = Instant::now();
    let mut points: Vec<AddingPoint> = Vec::new();
    let mut norms_csv =
        String::from("cell,length,seed,init_first_over_last,init_reach,trained_first_over_last,trained_reach\n");
    if plot_only {
        points =
            read_adding_csv(&common.out.join("adding.csv"))?.into_iter().filter(|p| lengths.contains(&p.2)).collect();
    }
    for &length in lengths.iter().filter(|_| !plot_only) {
        let task = AddingTask { length };
        for &cell in &common.cells {
            for seed in 1..=seeds {
                let run_started = Instant::now();
                <Autodiff as Backend>::seed(device, seed);
                let model = model_config(common, cell).init_adding::<Autodiff>(device);
                let probe = adding_held_out(&task, 64, seed + 1000);
                let before = decay_summary(&adding_gradient_norms(&model, &probe));
                let (trained, run) = train_adding(model, &task, training, seed);
                let after = decay_summary(&adding_gradient_norms(&trained, &probe));
                let reach = |s: &seqlab_training::gradflow::DecaySummary| {
                    s.distance_below_1e_3.map_or(format!("beyond {}", length - 1), |d| d.to_string())
                };
                writeln!(
                    norms_csv,
                    "{},{length},{seed},{:.3e},{},{:.3e},{}",
                    cell.name(),
                    before.first_over_last,
                    reach(&before),
                    after.first_over_last,
                    reach(&after)
                )
                .unwrap();
                println!(
                    "T={length:<4} {:<8} seed {seed}: final MSE {:.4}, below 0.01 after {} ({:.0} s)",
                    cell.name(),
                    run.final_mse,
                    run.sequences_to_001.map_or("never".to_string(), |n| format!("{n} sequences")),
                    run_started.elapsed().as_secs_f64()
                );
                println!("    ‖∂L/∂h_1‖/‖∂L/∂h_T‖: {:.3e} at initialisation, {:.3e} after training (falls below 1e-3 after {} and {} steps)", before.first_over_last, after.first_over_last, reach(&before), reach(&after));
                points.extend(
                    run.curve
                        .iter()
                        .map(|&(seen, mse)| ("seqlab".to_string(), cell.name().to_string(), length, seed, seen, mse)),
                );
            }
        }
    }
    if !plot_only {
        let mut csv = String::from("framework,cell,length,seed,sequences,mse\n");
        for (f, c, l, s, n, m) in &points {
            writeln!(csv, "{f},{c},{l},{s},{n},{m:.6}").unwrap();
        }
        write(&common.out.join("adding.csv"), &csv)?;
        write(&common.out.join("adding-norms.csv"), &norms_csv)?;
    }
    if let Some(path) = compare {
        points.extend(read_adding_csv(path)?.into_iter().filter(|p| lengths.contains(&p.2)));
    }
    // The table: per framework, cell and length, each seed's final MSE and when it went below 0.01.
    let mut md = format!(
        "Adding problem, hidden {}, batch {}, Adam {} (clip {} per parameter), {} training sequences, held-out MSE on 500 sequences; baseline (predict 1) {:.3}. Seconds (seqlab's runs; 0 when redrawn): {:.0}.\n\n| T | framework | cell | final MSE per seed | mean | seeds < 0.01 | sequences to < 0.01 |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        common.hidden, training.batch_size, training.learning_rate, training.clip_norm, training.sequences, ADDING_BASELINE_MSE, started.elapsed().as_secs_f64()
    );
    let mut keys: Vec<(usize, String, String)> = points.iter().map(|p| (p.2, p.0.clone(), p.1.clone())).collect();
    keys.sort();
    keys.dedup();
    for (length, framework, cell) in &keys {
        let runs: Vec<&AddingPoint> =
            points.iter().filter(|p| p.2 == *length && &p.0 == framework && &p.1 == cell).collect();
        let mut seed_ids: Vec<u64> = runs.iter().map(|p| p.3).collect();
        seed_ids.sort();
        seed_ids.dedup();
        let finals: Vec<f64> = seed_ids
            .iter()
            .map(|s| runs.iter().filter(|p| p.3 == *s).max_by_key(|p| p.4).map_or(f64::NAN, |p| p.5))
            .collect();
        let reached: Vec<Option<usize>> =
            seed_ids.iter().map(|s| runs.iter().filter(|p| p.3 == *s && p.5 < 0.01).map(|p| p.4).min()).collect();
        let mean = finals.iter().sum::<f64>() / finals.len().max(1) as f64;
        writeln!(
            md,
            "| {length} | {framework} | {cell} | {} | {mean:.4} | {}/{} | {} |",
            finals.iter().map(|m| format!("{m:.4}")).collect::<Vec<_>>().join(", "),
            reached.iter().flatten().count(),
            finals.len(),
            reached.iter().map(|r| r.map_or("—".to_string(), |n| n.to_string())).collect::<Vec<_>>().join(", ")
        )
        .unwrap();
    }
    write(&common.out.join("adding.md"), &md)?;
    print!("{md}");
    for &length in lengths {
        let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for (l, framework, cell) in keys.iter().filter(|k| k.0 == length) {
            // The mean over seeds at each evaluation (every run evaluates at the same counts).
            let mut at: std::collections::BTreeMap<usize, (f64, usize)> = std::collections::BTreeMap::new();
            for p in points.iter().filter(|p| p.2 == *l && &p.0 == framework && &p.1 == cell) {
                let slot = at.entry(p.4).or_default();
                slot.0 += p.5;
                slot.1 += 1;
            }
            let seeds_seen = at.values().map(|v| v.1).max().unwrap_or(0);
            let curve = at.into_iter().map(|(n, (sum, k))| (n as f64, (sum / k as f64).max(1e-6))).collect();
            series.push((format!("{framework} {cell} (mean of {seeds_seen})"), curve));
        }
        let max_x = series.iter().flat_map(|(_, c)| c.iter().map(|p| p.0)).fold(1.0, f64::max);
        series.push((
            format!("baseline {ADDING_BASELINE_MSE:.3}"),
            vec![(0.0, ADDING_BASELINE_MSE), (max_x, ADDING_BASELINE_MSE)],
        ));
        // One hue per cell, dark for seqlab and light for PyTorch; the baseline black.
        let palette: Vec<RGBColor> = series
            .iter()
            .map(|(name, _)| {
                let light = name.starts_with("pytorch");
                match name.split(' ').nth(1).unwrap_or("") {
                    "lstm" if light => RGBColor(120, 160, 255),
                    "lstm" => RGBColor(0, 40, 200),
                    "gru" if light => RGBColor(255, 140, 140),
                    "gru" => RGBColor(200, 0, 0),
                    "rnn-tanh" | "rnn-relu" if light => RGBColor(130, 210, 130),
                    "rnn-tanh" | "rnn-relu" => RGBColor(0, 130, 0),
                    _ => BLACK,
                }
            })
            .collect();
        let path = common.out.join(format!("adding-T{length}.svg"));
        plot_coloured(
            &path,
            &format!("Adding problem, T = {length}: held-out MSE (mean over seeds), hidden {}", common.hidden),
            "training sequences seen",
            "MSE (log)",
            &series,
            true,
            Some(&palette),
        )?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// A line chart, one series per curve; `log_y` for gradient norms, else accuracy in [0, 1].
fn plot(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_y: bool,
) -> Result<(), String> {
    plot_coloured(path, title, x_desc, y_desc, series, log_y, None)
}

/// [`plot`] with one colour per series (`None`: a fixed cycle).
fn plot_coloured(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_y: bool,
    palette: Option<&[RGBColor]>,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: cannot draw: {e}", path.display());
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let x_max = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(1.0, f64::max);
    let mut builder = ChartBuilder::on(&root);
    builder.caption(title, ("sans-serif", 20)).margin(15).x_label_area_size(40).y_label_area_size(70);
    let cycle = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    let colours: Vec<RGBColor> = match palette {
        Some(p) => p.to_vec(),
        None => (0..series.len()).map(|i| cycle[i % cycle.len()]).collect(),
    };
    let style = |i: usize| {
        colours[i % colours.len()].stroke_width(if palette.is_some() || i / cycle.len() == 0 { 2 } else { 1 })
    };
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
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(&e))?;
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
