//! What the lab's experiments write: CSV (one row per measurement), markdown tables (what a
//! reader compares) and SVG plots ([`seqlab_training::line_chart`]), all into one output folder; one file per
//! experiment.

mod adding;
mod norms;
mod sweep;

use std::path::Path;

pub use adding::{read_adding_csv, write_adding_runs, write_adding_table};
pub use norms::{norms_summary, write_norms};
pub use sweep::{write_sweep, SweepSettings};

use seqlab_training::error::RunError;
use seqlab_training::{line_chart, Series};

/// Writes `text` to `path` and says so.
pub(super) fn write(path: &Path, text: &str) -> Result<(), RunError> {
    std::fs::write(path, text).map_err(|e| RunError::io(path, &e))?;
    seqlab_training::say!("wrote {}", path.display());
    Ok(())
}

pub(super) fn plot(
    path: &Path,
    title: &str,
    axes: (&str, &str),
    series: &[Series],
    log_y: bool,
) -> Result<(), RunError> {
    line_chart(path, title, axes, series, log_y).map_err(RunError::Other)?;
    seqlab_training::say!("wrote {}", path.display());
    Ok(())
}

/// The mean of `values` (0 for none).
pub(super) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}
