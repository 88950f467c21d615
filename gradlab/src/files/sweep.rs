//! `grad-flow sweep`: `sweep.csv`, `sweep.md` and `sweep.svg`.

use std::fmt::Write as _;
use std::path::Path;

use super::{mean, plot, write};
use crate::experiments::SweepRun;
use crate::probe::TaskTraining;
use seqlab_training::error::RunError;
use seqlab_training::Series;

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
    let rows = sweep_rows(runs);
    let md = sweep_table(&rows, settings);
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

/// `sweep.md`: the settings, then a line per cell and length.
fn sweep_table(rows: &[SweepRow], settings: &SweepSettings) -> String {
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
    for row in rows {
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
    md
}
