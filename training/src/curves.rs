//! `curves.svg`: a run's learning curves, redrawn from `log.csv` after every epoch (so a run
//! that crashes still has them): train and validation loss, the validation metrics (accuracy,
//! and entity F1 for a tagger) and the learning rate, each in its own panel over the epochs,
//! with the kept (best) epoch marked in all three.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::artifacts::Artifacts;
use crate::plot::{draw_series, Series};

const CURVES: &str = Artifacts::CURVES;

/// One `log.csv` row: epoch and the numbers after it (NaN where empty).
struct Row {
    epoch: f64,
    values: Vec<f64>,
}

/// Reads `log.csv`: the column names after `epoch`, and the rows.
fn read_log(path: &Path) -> Result<(Vec<String>, Vec<Row>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap_or_default().split(',').skip(1).map(String::from).collect();
    let rows = lines
        .filter_map(|line| {
            let mut fields = line.split(',');
            let epoch = fields.next()?.parse().ok()?;
            Some(Row { epoch, values: fields.map(|f| f.parse().unwrap_or(f64::NAN)).collect() })
        })
        .collect();
    Ok((header, rows))
}

/// One panel: a title, a y-axis description, and named series of `(epoch, value)`.
struct Panel {
    title: &'static str,
    y_desc: &'static str,
    series: Vec<(&'static str, Vec<(f64, f64)>)>,
    /// A scientific-notation axis (the learning rate).
    small: bool,
    /// The legend at the lower right (where rising curves are not) instead of the upper right.
    legend_low: bool,
}

/// The three panels of `log.csv`'s columns.
fn panels(header: &[String], rows: &[Row]) -> [Panel; 3] {
    let column = |name: &str| -> Vec<(f64, f64)> {
        let Some(i) = header.iter().position(|h| h == name) else { return Vec::new() };
        rows.iter().filter_map(|r| r.values.get(i).filter(|v| v.is_finite()).map(|&v| (r.epoch, v))).collect()
    };
    [
        Panel {
            title: "Loss (cross-entropy per example or token)",
            y_desc: "loss",
            series: vec![("train loss", column("train_loss")), ("valid loss", column("valid_loss"))],
            small: false,
            legend_low: false,
        },
        Panel {
            title: "Validation metrics (the kept epoch is the best by --select)",
            y_desc: "accuracy, F1 (fraction)",
            series: vec![
                ("train accuracy", column("train_accuracy")),
                ("valid accuracy", column("valid_accuracy")),
                ("valid entity F1", column("valid_entity_f1")),
            ],
            small: false,
            legend_low: true,
        },
        Panel {
            title: "Learning rate (the mean over each epoch's steps)",
            y_desc: "learning rate",
            series: vec![("learning rate", column("learning_rate"))],
            small: true,
            legend_low: false,
        },
    ]
}

impl Panel {
    /// The y range: the values' range padded by 8 % (from 0 for the learning rate), with room
    /// for the legend on its side (a third of the range more), so that it covers no curve.
    fn y_range(&self) -> (f64, f64) {
        let values: Vec<f64> = self.series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).collect();
        let (lo, hi) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let (lo, hi) = if values.is_empty() {
            (0.0, 1.0)
        } else if hi - lo < 1e-12 {
            (lo - 0.5 * lo.abs().max(1e-9), hi + 0.5 * hi.abs().max(1e-9))
        } else {
            (lo, hi)
        };
        let pad = (hi - lo) * 0.08;
        let (lo, hi) = if self.small { (lo.min(0.0), hi + pad) } else { (lo - pad, hi + pad) };
        let room = (hi - lo) * 0.35;
        if self.legend_low {
            (lo - room, hi)
        } else {
            (lo, hi + room)
        }
    }

    /// Draws the panel over epochs up to `last` on `area` with `labels` epoch labels, the kept
    /// epoch marked (0: none).
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        (last, labels): (f64, usize),
        kept: usize,
    ) -> Result<(), String> {
        let err = |e: &dyn std::fmt::Display| format!("cannot draw: {e}");
        let (y0, y1) = self.y_range();
        let mut chart = ChartBuilder::on(area)
            .caption(self.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(0.5f64..last + 0.5, y0..y1)
            .map_err(|e| err(&e))?;
        let small = self.small;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.12))
            .x_desc("epoch")
            .y_desc(self.y_desc)
            .x_labels(labels.clamp(2, 16))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| if small { format!("{y:.1e}") } else { format!("{y:.3}") })
            .draw()
            .map_err(|e| err(&e))?;
        if kept > 0 {
            // A dashed vertical line: short segments from bottom to top.
            let marker = RGBColor(230, 120, 0).stroke_width(2);
            let step = (y1 - y0) / 40.0;
            let x = kept as f64;
            let dashes = (0..40).step_by(2).map(|k| {
                PathElement::new(vec![(x, y0 + f64::from(k) * step), (x, y0 + f64::from(k + 1) * step)], marker)
            });
            chart
                .draw_series(dashes)
                .map_err(|e| err(&e))?
                .label(format!("kept epoch {kept}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], marker));
        }
        let colours = [BLUE, RED, RGBColor(0, 140, 0), MAGENTA];
        let series: Vec<Series> = self
            .series
            .iter()
            .zip(colours.iter().cycle())
            .map(|((label, points), &colour)| Series {
                name: (*label).into(),
                points: points.clone(),
                colour,
                width: 2,
            })
            .collect();
        let legend = if self.legend_low { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight };
        draw_series(&mut chart, &series, 3, legend)
    }
}

/// Redraws `curves.svg` in `artifacts` from its `log.csv`, marking `kept` (0: none yet), with
/// `metric` (the selection metric's name) in the title of the metrics panel.
pub fn write_curves(artifacts: &Path, kept: usize, metric: &str) -> Result<(), String> {
    let (header, rows) = read_log(&artifacts.join(Artifacts::LOG))?;
    let path = artifacts.join(CURVES);
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let epochs = (rows.iter().map(|r| r.epoch).fold(1.0, f64::max), rows.len());
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 960)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let name =
            artifacts.file_name().map_or_else(|| artifacts.display().to_string(), |n| n.to_string_lossy().to_string());
        let kept_text =
            if kept > 0 { format!("kept epoch {kept} (best valid {metric})") } else { "no epoch kept yet".into() };
        let root = root
            .titled(&format!("Learning curves of {name}: {} epochs, {kept_text}", rows.len()), ("sans-serif", 22))
            .map_err(|e| err(&e))?;
        for (panel, area) in panels(&header, &rows).iter().zip(root.split_evenly((3, 1))) {
            panel.draw(&area, epochs, kept).map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    crate::durable::write(&path, svg).map_err(|e| e.to_string())
}
