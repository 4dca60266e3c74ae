//! The SVG chart: throughput and latency percentiles per concurrency, with both ceilings.

use std::path::Path;

use plotters::prelude::*;

use crate::stats::Spread;

/// What the chart shows for one concurrency.
#[derive(Debug, Clone)]
pub struct Point {
    /// Concurrent requests.
    pub concurrency: usize,
    /// Copies per second.
    pub copies: Spread,
    /// `/healthz` requests per second: the HTTP ceiling.
    pub health: Spread,
    /// Median over repetitions of each run's p50, p99 and p99.9, in ms.
    pub latency_ms: [f64; 3],
}

const PERCENTILES: [&str; 3] = ["p50", "p99", "p99.9"];
const SIZE: (u32, u32) = (1200, 520);

/// Draws the chart into `path`; `storage` is the storage ceiling (commits/s).
pub fn draw(path: &Path, title: &str, points: &[Point], storage: Spread) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    throughput(&left, points, storage)?;
    latency(&right, points)?;
    root.present()?;
    Ok(())
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn throughput(area: &Area<'_>, points: &[Point], storage: Spread) -> anyhow::Result<()> {
    let values = points.iter().flat_map(|p| [p.copies.min, p.copies.max, p.health.max]).chain([storage.median]);
    let (low, high) = bounds(values);
    let mut chart = ChartBuilder::on(area)
        .caption("throughput (requests/s, log scale)", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range(points), (low..high).log_scale())?;
    configure(&mut chart, points, "requests/s")?;
    let at = |i: usize| i as f64;
    let storage_line = vec![(x_range(points).start, storage.median), (x_range(points).end, storage.median)];
    chart
        .draw_series(LineSeries::new(storage_line, RED.stroke_width(2)))?
        .label(format!("storage ceiling ({:.0} commits/s)", storage.median))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    let health: Vec<(f64, f64)> = points.iter().enumerate().map(|(i, p)| (at(i), p.health.median)).collect();
    line_with_points(&mut chart, health, &MAGENTA, "HTTP ceiling (/healthz)")?;
    let copies: Vec<(f64, f64)> = points.iter().enumerate().map(|(i, p)| (at(i), p.copies.median)).collect();
    line_with_points(&mut chart, copies, &BLUE, "3-component copies/s (median)")?;
    let spreads = points
        .iter()
        .enumerate()
        .map(|(i, p)| PathElement::new(vec![(at(i), p.copies.min), (at(i), p.copies.max)], BLUE.stroke_width(1)));
    chart.draw_series(spreads)?;
    legend(&mut chart)
}

fn latency(area: &Area<'_>, points: &[Point]) -> anyhow::Result<()> {
    let (low, high) = bounds(points.iter().flat_map(|p| p.latency_ms));
    let mut chart = ChartBuilder::on(area)
        .caption("copy latency (ms, log scale)", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range(points), (low..high).log_scale())?;
    configure(&mut chart, points, "ms")?;
    for (index, (name, color)) in PERCENTILES.iter().zip([GREEN, BLUE, BLACK]).enumerate() {
        let series: Vec<(f64, f64)> = points.iter().enumerate().map(|(i, p)| (i as f64, p.latency_ms[index])).collect();
        line_with_points(&mut chart, series, &color, name)?;
    }
    legend(&mut chart)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::combinators::LogCoord<f64>>,
>;

fn configure(chart: &mut Chart<'_, '_>, points: &[Point], unit: &str) -> anyhow::Result<()> {
    let label = |x: &f64| {
        let index = x.round();
        match points.get(index as usize) {
            Some(point) if (x - index).abs() < 1e-6 && index >= 0.0 => point.concurrency.to_string(),
            _ => String::new(),
        }
    };
    chart
        .configure_mesh()
        .x_labels(points.len() * 2 + 1)
        .x_label_formatter(&label)
        .x_desc("concurrency")
        .y_desc(unit)
        .draw()?;
    Ok(())
}

fn line_with_points(
    chart: &mut Chart<'_, '_>,
    series: Vec<(f64, f64)>,
    color: &RGBColor,
    name: &str,
) -> anyhow::Result<()> {
    let style = color.stroke_width(2);
    chart
        .draw_series(LineSeries::new(series.clone(), style))?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    chart.draw_series(series.into_iter().map(|point| Circle::new(point, 4, color.filled())))?;
    Ok(())
}

fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The x range: one slot per concurrency.
fn x_range(points: &[Point]) -> std::ops::Range<f64> {
    -0.3..(points.len() as f64 - 0.7)
}

/// A log-scale range around positive values.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::MAX, f64::MIN), |(low, high), v| (low.min(v), high.max(v)));
    if low > high { (0.1, 10.0) } else { (low / 2.0, high * 2.0) }
}
