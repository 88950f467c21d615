//! Line charts as SVG (plotters), shared by `curves.svg` (`crate::curves`) and the
//! vanishing-gradient lab's plots (`seqlab_gradlab::files`): named series of points drawn as
//! lines with a dot at each point, and a legend.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One curve: its legend name, its points, and how it is drawn.
#[derive(Debug, Clone)]
pub struct Series {
    /// The legend's name.
    pub name: String,
    /// `(x, y)` points, drawn in order.
    pub points: Vec<(f64, f64)>,
    /// The line's colour.
    pub colour: RGBColor,
    /// The line's width in pixels.
    pub width: u32,
}

/// The colours series take in turn when no one chooses them.
pub const CYCLE: [RGBColor; 6] = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];

impl Series {
    /// A series in the `index`-th of the charts' colours (thinner once the colours repeat).
    pub fn cycled(index: usize, name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        let width = if index < CYCLE.len() { 2 } else { 1 };
        Self { name: name.into(), points, colour: CYCLE[index % CYCLE.len()], width }
    }
}

/// An error naming the file being drawn.
pub fn draw_error(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> String + '_ {
    move |e| format!("{}: cannot draw: {e}", path.display())
}

/// Draws `series` on `chart` (lines, a dot of `dot` pixels at each point, legend entries) and
/// the legend at `legend`.
pub fn draw_series<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    series: &[Series],
    dot: u32,
    legend: SeriesLabelPosition,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + 'a,
{
    let err = |e: &dyn std::fmt::Display| format!("cannot draw: {e}");
    for s in series.iter().filter(|s| !s.points.is_empty()) {
        let (colour, width) = (s.colour, s.width);
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), colour.stroke_width(width)))
            .map_err(|e| err(&e))?
            .label(s.name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        chart.draw_series(s.points.iter().map(|&p| Circle::new(p, dot, colour.filled()))).map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .background_style(WHITE.mix(0.88))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))
}

/// A line chart of `series` written to `path` (800 × 500): `log_y` for quantities over many
/// orders of magnitude (gradient norms, errors), else a fraction axis from 0 to 1.05.
pub fn line_chart(
    path: &Path,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    series: &[Series],
    log_y: bool,
) -> Result<(), String> {
    let err = draw_error(path);
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    chart_on(&root, title, (x_desc, y_desc), series, log_y).map_err(|e| format!("{}: {e}", path.display()))?;
    root.present().map_err(|e| err(&e))
}

fn chart_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    series: &[Series],
    log_y: bool,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw: {e}");
    let x_max = series.iter().flat_map(|s| s.points.iter().map(|q| q.0)).fold(1.0, f64::max);
    let mut builder = ChartBuilder::on(root);
    builder.caption(title, ("sans-serif", 20)).margin(15).x_label_area_size(40).y_label_area_size(70);
    let legend = SeriesLabelPosition::UpperRight;
    if log_y {
        let values = series.iter().flat_map(|s| s.points.iter().map(|q| q.1));
        let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let mut chart =
            builder.build_cartesian_2d(0f64..x_max, (lo / 2.0..hi * 2.0).log_scale()).map_err(|e| err(&e))?;
        chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw().map_err(|e| err(&e))?;
        draw_series(&mut chart, series, 2, legend)
    } else {
        let mut chart = builder.build_cartesian_2d(0f64..x_max * 1.05, 0f64..1.05f64).map_err(|e| err(&e))?;
        chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).draw().map_err(|e| err(&e))?;
        draw_series(&mut chart, series, 2, legend)
    }
}
