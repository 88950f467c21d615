//! What the lab's experiments write: CSV (one row per measurement), markdown tables (what a
//! reader compares) and SVG plots ([`crate::plot`]), all into one output folder.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use plotters::style::{RGBColor, BLACK};
use seqlab_datasets::longdep::ADDING_BASELINE_MSE;

use super::experiments::{AddingNorms, AddingPoint, NormsCurve, SweepRun};
use super::probe::{decay_summary, TaskTraining};
use super::AddingTraining;
use crate::error::RunError;
use crate::plot::{line_chart, Series};

/// Writes `text` to `path` and says so.
fn write(path: &Path, text: &str) -> Result<(), RunError> {
    std::fs::write(path, text).map_err(|e| RunError::io(path, &e))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn plot(path: &Path, title: &str, axes: (&str, &str), series: &[Series], log_y: bool) -> Result<(), RunError> {
    line_chart(path, title, axes, series, log_y).map_err(RunError::Other)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The mean of `values` (0 for none).
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// One line per curve: `‖∂L/∂h_1‖/‖∂L/∂h_T‖` and where the norm falls below 1e-3 of its value
/// at T.
pub fn norms_summary(curves: &[NormsCurve]) -> String {
    let mut text = String::new();
    for curve in curves {
        let s = decay_summary(&curve.norms);
        let ratio = if s.first_over_last == 0.0 {
            "0 (under f32's 1e-45)".to_string()
        } else {
            format!("{:.3e}", s.first_over_last)
        };
        let below =
            s.distance_below_1e_3.map_or(format!("never (within {})", curve.norms.len() - 1), |d| d.to_string());
        writeln!(
            text,
            "{:<18} ‖∂L/∂h_1‖/‖∂L/∂h_T‖ = {ratio}   below 1e-3 of ‖∂L/∂h_T‖ at distance {below}",
            curve.name
        )
        .unwrap();
    }
    text
}

/// `norms.csv` (one row per step, one column per curve) and `norms.svg` (log scale, against the
/// distance `T − t`; norms that underflowed to 0 end their curve).
pub fn write_norms(out: &Path, curves: &[NormsCurve], hidden: usize) -> Result<(), RunError> {
    let length = curves.first().map_or(0, |c| c.norms.len());
    let mut csv = String::from("t,distance");
    for curve in curves {
        write!(csv, ",{}", curve.name.replace(' ', "_")).unwrap();
    }
    csv.push('\n');
    for t in 0..length {
        write!(csv, "{},{}", t + 1, length - 1 - t).unwrap();
        for curve in curves {
            write!(csv, ",{:.6e}", curve.norms[t]).unwrap();
        }
        csv.push('\n');
    }
    write(&out.join("norms.csv"), &csv)?;
    let series: Vec<Series> = curves
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let points = c.norms.iter().enumerate().filter(|(_, &n)| n > 0.0);
            Series::cycled(i, c.name.clone(), points.map(|(t, &n)| ((length - 1 - t) as f64, n)).collect())
        })
        .collect();
    let title = format!("‖∂L/∂h_t‖ at initialisation, T = {length}, hidden {hidden}");
    plot(&out.join("norms.svg"), &title, ("distance T − t", "mean ‖∂L/∂h_t‖ (log)"), &series, true)
}

/// What the sweep's table says of one cell at one length, over its seeds.
struct SweepRow<'a> {
    cell: &'a str,
    length: usize,
    accuracies: Vec<f64>,
    steps_to_95: Vec<usize>,
    seconds: f64,
}

fn sweep_rows(runs: &[SweepRun]) -> Vec<SweepRow<'_>> {
    let mut rows: Vec<SweepRow> = Vec::new();
    for r in runs {
        let same = |row: &&mut SweepRow| row.cell == r.cell.name() && row.length == r.length;
        let row = match rows.iter_mut().find(same) {
            Some(row) => row,
            None => {
                let row = SweepRow {
                    cell: r.cell.name(),
                    length: r.length,
                    accuracies: vec![],
                    steps_to_95: vec![],
                    seconds: 0.0,
                };
                rows.push(row);
                rows.last_mut().expect("just pushed")
            }
        };
        row.accuracies.push(r.run.final_accuracy);
        row.steps_to_95.extend(r.run.steps_to_95);
        row.seconds += r.seconds;
    }
    rows
}

/// The settings a sweep's table states in its first line.
pub struct SweepSettings<'a> {
    /// The training of every run.
    pub training: &'a TaskTraining,
    /// Hidden size.
    pub hidden: usize,
    /// Seeds per cell and length.
    pub seeds: u64,
    /// The LSTM forget bias (`None`: PyTorch's init).
    pub forget_bias: Option<f64>,
    /// Wall time of the whole sweep.
    pub seconds: f64,
    /// The backend's name.
    pub backend: &'a str,
}

/// `sweep.csv` (one row per run), `sweep.md` (mean, spread and steps to 95 % per cell and
/// length; returned too) and `sweep.svg` (mean accuracy against T).
pub fn write_sweep(out: &Path, runs: &[SweepRun], settings: &SweepSettings) -> Result<String, RunError> {
    let mut csv = String::from("cell,length,seed,final_accuracy,steps_to_95,steps,seconds\n");
    for r in runs {
        let steps_to_95 = r.run.steps_to_95.map_or(String::new(), |s| s.to_string());
        writeln!(
            csv,
            "{},{},{},{:.4},{steps_to_95},{},{:.2}",
            r.cell.name(),
            r.length,
            r.seed,
            r.run.final_accuracy,
            r.run.steps,
            r.seconds
        )
        .unwrap();
    }
    write(&out.join("sweep.csv"), &csv)?;
    let t = settings.training;
    let mut md = format!(
        "First-token task (4 classes, chance 0.25), hidden {}, Adam lr {}, clip {}, batch {}, budget {} steps \
         (stop at {:.0} %), {} seeds; LSTM forget bias {}. Total {:.0} s on backend {}.\n\n\
         | cell | T | accuracy mean | min – max | runs reaching 95 % | mean steps to 95 % | seconds |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
        settings.hidden,
        t.learning_rate,
        t.clip_norm,
        t.batch_size,
        t.steps,
        t.stop_at * 100.0,
        settings.seeds,
        settings.forget_bias.map_or("PyTorch init".to_string(), |b| b.to_string()),
        settings.seconds,
        settings.backend
    );
    let rows = sweep_rows(runs);
    for row in &rows {
        let (lo, hi) = row.accuracies.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)));
        let hits = &row.steps_to_95;
        let steps = if hits.is_empty() {
            "—".to_string()
        } else {
            format!("{:.0}", hits.iter().sum::<usize>() as f64 / hits.len() as f64)
        };
        writeln!(
            md,
            "| {} | {} | {:.3} | {lo:.3} – {hi:.3} | {}/{} | {steps} | {:.0} |",
            row.cell,
            row.length,
            mean(&row.accuracies),
            hits.len(),
            row.accuracies.len(),
            row.seconds
        )
        .unwrap();
    }
    write(&out.join("sweep.md"), &md)?;
    let mut cells: Vec<&str> = rows.iter().map(|r| r.cell).collect();
    cells.dedup();
    let series: Vec<Series> = cells
        .iter()
        .enumerate()
        .map(|(i, &cell)| {
            let points = rows.iter().filter(|r| r.cell == cell).map(|r| (r.length as f64, mean(&r.accuracies)));
            Series::cycled(i, cell, points.collect())
        })
        .collect();
    let title = "First-token task: held-out accuracy against sequence length";
    plot(&out.join("sweep.svg"), title, ("sequence length T", "accuracy (mean of seeds)"), &series, false)?;
    Ok(md)
}

/// Reads the adding problem's points from a CSV written by [`write_adding_runs`] (or by
/// `scripts/torch_adding.py`); a malformed row is an error naming the file and line.
pub fn read_adding_csv(path: &Path) -> Result<Vec<AddingPoint>, RunError> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, &e))?;
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let bad = || {
            RunError::damaged(
                path,
                format!("line {}: expected framework,cell,length,seed,sequences,mse: {line:?}", i + 1),
            )
        };
        let f: Vec<&str> = line.split(',').collect();
        let [framework, cell, length, seed, sequences, mse] = f.as_slice() else { return Err(bad()) };
        points.push(AddingPoint {
            framework: framework.to_string(),
            cell: cell.to_string(),
            length: length.parse().map_err(|_| bad())?,
            seed: seed.parse().map_err(|_| bad())?,
            sequences: sequences.parse().map_err(|_| bad())?,
            mse: mse.parse().map_err(|_| bad())?,
        });
    }
    Ok(points)
}

/// `adding.csv` (every evaluation of every run) and `adding-norms.csv` (each run's gradient
/// decay before and after training).
pub fn write_adding_runs(out: &Path, points: &[AddingPoint], norms: &[AddingNorms]) -> Result<(), RunError> {
    let mut csv = String::from("framework,cell,length,seed,sequences,mse\n");
    for p in points {
        writeln!(csv, "{},{},{},{},{},{:.6}", p.framework, p.cell, p.length, p.seed, p.sequences, p.mse).unwrap();
    }
    write(&out.join("adding.csv"), &csv)?;
    let mut csv =
        String::from("cell,length,seed,init_first_over_last,init_reach,trained_first_over_last,trained_reach\n");
    for n in norms {
        let reach = |d: Option<usize>| d.map_or(format!("beyond {}", n.length - 1), |d| d.to_string());
        writeln!(
            csv,
            "{},{},{},{:.3e},{},{:.3e},{}",
            n.cell.name(),
            n.length,
            n.seed,
            n.before.first_over_last,
            reach(n.before.distance_below_1e_3),
            n.after.first_over_last,
            reach(n.after.distance_below_1e_3)
        )
        .unwrap();
    }
    write(&out.join("adding-norms.csv"), &csv)
}

/// The runs of one framework and cell at one length: each seed's final MSE and the sequences
/// it took to go below 0.01.
struct AddingGroup<'a> {
    length: usize,
    framework: &'a str,
    cell: &'a str,
    finals: Vec<f64>,
    reached: Vec<Option<usize>>,
    /// Mean MSE over seeds at every evaluation, and how many seeds were seen.
    curve: Vec<(f64, f64)>,
    seeds: usize,
}

fn adding_groups(points: &[AddingPoint]) -> Vec<AddingGroup<'_>> {
    let mut keys: Vec<(usize, &str, &str)> =
        points.iter().map(|p| (p.length, p.framework.as_str(), p.cell.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|(length, framework, cell)| {
            let runs: Vec<&AddingPoint> =
                points.iter().filter(|p| p.length == length && p.framework == framework && p.cell == cell).collect();
            let mut seeds: Vec<u64> = runs.iter().map(|p| p.seed).collect();
            seeds.sort_unstable();
            seeds.dedup();
            let of_seed = |s: u64| runs.iter().filter(move |p| p.seed == s);
            let finals = seeds.iter().map(|&s| of_seed(s).max_by_key(|p| p.sequences).map_or(f64::NAN, |p| p.mse));
            let reached = seeds.iter().map(|&s| of_seed(s).filter(|p| p.mse < 0.01).map(|p| p.sequences).min());
            // Every run evaluates at the same counts: the mean over seeds at each.
            let mut at: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
            for p in &runs {
                let slot = at.entry(p.sequences).or_default();
                slot.0 += p.mse;
                slot.1 += 1;
            }
            let most = at.values().map(|v| v.1).max().unwrap_or(0);
            let curve = at.into_iter().map(|(n, (sum, k))| (n as f64, (sum / k as f64).max(1e-6))).collect();
            AddingGroup {
                length,
                framework,
                cell,
                finals: finals.collect(),
                reached: reached.collect(),
                curve,
                seeds: most,
            }
        })
        .collect()
}

/// `adding.md` (per length, framework and cell: each seed's final MSE, seeds below 0.01 and
/// when; returned too) and `adding-T{T}.svg` for every length (MSE against sequences seen, log
/// scale, the baseline drawn; one hue per cell, dark for seqlab and light for PyTorch).
pub fn write_adding_table(
    out: &Path,
    points: &[AddingPoint],
    training: &AddingTraining,
    hidden: usize,
    seconds: f64,
) -> Result<String, RunError> {
    let mut md = format!(
        "Adding problem, hidden {hidden}, batch {}, Adam {} (clip {} per parameter), {} training sequences, \
         held-out MSE on 500 sequences; baseline (predict 1) {ADDING_BASELINE_MSE:.3}. Seconds (seqlab's runs; 0 \
         when redrawn): {seconds:.0}.\n\n\
         | T | framework | cell | final MSE per seed | mean | seeds < 0.01 | sequences to < 0.01 |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
        training.batch_size, training.learning_rate, training.clip_norm, training.sequences,
    );
    let groups = adding_groups(points);
    for g in &groups {
        let finals: Vec<String> = g.finals.iter().map(|m| format!("{m:.4}")).collect();
        let reached: Vec<String> = g.reached.iter().map(|r| r.map_or("—".to_string(), |n| n.to_string())).collect();
        writeln!(
            md,
            "| {} | {} | {} | {} | {:.4} | {}/{} | {} |",
            g.length,
            g.framework,
            g.cell,
            finals.join(", "),
            mean(&g.finals),
            g.reached.iter().flatten().count(),
            g.finals.len(),
            reached.join(", ")
        )
        .unwrap();
    }
    write(&out.join("adding.md"), &md)?;
    let mut lengths: Vec<usize> = groups.iter().map(|g| g.length).collect();
    lengths.dedup();
    for length in lengths {
        let mut series: Vec<Series> = groups
            .iter()
            .filter(|g| g.length == length)
            .map(|g| Series {
                name: format!("{} {} (mean of {})", g.framework, g.cell, g.seeds),
                points: g.curve.clone(),
                colour: cell_colour(g.cell, g.framework == "pytorch"),
                width: 2,
            })
            .collect();
        let max_x = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(1.0, f64::max);
        let baseline = vec![(0.0, ADDING_BASELINE_MSE), (max_x, ADDING_BASELINE_MSE)];
        series.push(Series {
            name: format!("baseline {ADDING_BASELINE_MSE:.3}"),
            points: baseline,
            colour: BLACK,
            width: 2,
        });
        let title = format!("Adding problem, T = {length}: held-out MSE (mean over seeds), hidden {hidden}");
        let path = out.join(format!("adding-T{length}.svg"));
        plot(&path, &title, ("training sequences seen", "MSE (log)"), &series, true)?;
    }
    Ok(md)
}

/// One hue per cell, dark for seqlab and light for PyTorch.
fn cell_colour(cell: &str, light: bool) -> RGBColor {
    match (cell, light) {
        ("lstm", true) => RGBColor(120, 160, 255),
        ("lstm", false) => RGBColor(0, 40, 200),
        ("gru", true) => RGBColor(255, 140, 140),
        ("gru", false) => RGBColor(200, 0, 0),
        ("rnn-tanh" | "rnn-relu", true) => RGBColor(130, 210, 130),
        ("rnn-tanh" | "rnn-relu", false) => RGBColor(0, 130, 0),
        _ => BLACK,
    }
}
