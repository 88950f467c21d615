//! `grad-flow adding`: `adding.csv`, `adding-norms.csv`, `adding.md` and `adding-T{T}.svg`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use plotters::style::{RGBColor, BLACK};
use seqlab_datasets::longdep::ADDING_BASELINE_MSE;

use super::{mean, plot, write};
use crate::adding::AddingTraining;
use crate::experiments::{AddingNorms, AddingPoint};
use seqlab_training::error::RunError;
use seqlab_training::Series;

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
