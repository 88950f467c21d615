//! `grad-flow norms`: `norms.csv` and `norms.svg`.

use std::fmt::Write as _;
use std::path::Path;

use super::{plot, write};
use crate::experiments::NormsCurve;
use crate::probe::decay_summary;
use seqlab_training::error::RunError;
use seqlab_training::Series;

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
