//! `--plot FILE.svg`: pods bound per second over the run, and the latency
//! distributions (created → bound, created → running) as quantile curves.
//! Hand-written SVG: two panels, axes with a few ticks, no dependencies.

use std::fmt::Write;

use crate::report::Report;

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 420.0;
const PANEL_WIDTH: f64 = 420.0;
const PANEL_HEIGHT: f64 = 300.0;
const TOP: f64 = 60.0;

/// Renders the report's series as an SVG document.
pub fn render(report: &Report) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let title = format!(
        "loadgen {} — {} pods, {} nodes, scheduler {}, store {}",
        report.scenario, report.pods, report.nodes, report.scheduler, report.store
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
        WIDTH / 2.0,
        escape(&title)
    );

    // Throughput panel.
    #[allow(clippy::cast_precision_loss)]
    let series: Vec<(f64, f64)> = report
        .throughput
        .bound_per_second
        .iter()
        .enumerate()
        .map(|(second, &count)| (second as f64 + 0.5, count as f64))
        .collect();
    let x_max = (series.len() as f64).max(1.0);
    let y_max = series.iter().map(|(_, y)| *y).fold(1.0, f64::max);
    let throughput_title = format!(
        "pods bound per second (average {:.0}, p99 {:.0})",
        report.throughput.average, report.throughput.p99
    );
    panel(
        &mut svg,
        70.0,
        &throughput_title,
        "seconds since the measured phase started",
        x_max,
        y_max,
    );
    polyline(&mut svg, 70.0, &series, x_max, y_max, "#1f77b4");

    // Latency panel.
    let bound = &report.created_to_bound.quantiles;
    let running = &report.created_to_running.quantiles;
    let y_max = bound
        .iter()
        .chain(running.iter())
        .map(|(_, ms)| *ms)
        .fold(1.0, f64::max);
    panel(
        &mut svg,
        560.0,
        "latency (ms) by percentile",
        "percentile",
        100.0,
        y_max,
    );
    polyline(&mut svg, 560.0, bound, 100.0, y_max, "#d62728");
    polyline(&mut svg, 560.0, running, 100.0, y_max, "#2ca02c");
    let legend_y = TOP + 16.0;
    let _ = writeln!(
        svg,
        r##"<text x="580" y="{legend_y}" fill="#d62728">created → bound (p99 {:.1} ms)</text>"##,
        report.created_to_bound.p99_ms
    );
    let _ = writeln!(
        svg,
        r##"<text x="580" y="{}" fill="#2ca02c">created → running (p99 {:.1} ms)</text>"##,
        legend_y + 16.0,
        report.created_to_running.p99_ms
    );
    svg.push_str("</svg>\n");
    svg
}

/// Axes, ticks and labels of one panel whose left edge is at `left`.
fn panel(svg: &mut String, left: f64, title: &str, x_label: &str, x_max: f64, y_max: f64) {
    let bottom = TOP + PANEL_HEIGHT;
    let _ = writeln!(
        svg,
        r#"<rect x="{left}" y="{TOP}" width="{PANEL_WIDTH}" height="{PANEL_HEIGHT}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + PANEL_WIDTH / 2.0,
        TOP - 8.0,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + PANEL_WIDTH / 2.0,
        bottom + 34.0,
        escape(x_label)
    );
    for step in 0..=4 {
        let fraction = f64::from(step) / 4.0;
        let x = left + fraction * PANEL_WIDTH;
        let y = bottom - fraction * PANEL_HEIGHT;
        let _ = writeln!(
            svg,
            r#"<line x1="{x}" y1="{bottom}" x2="{x}" y2="{}" stroke="black"/>"#,
            bottom + 5.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            bottom + 18.0,
            tick(fraction * x_max)
        );
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/>"##,
            left + PANEL_WIDTH
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 4.0,
            tick(fraction * y_max)
        );
    }
}

fn polyline(
    svg: &mut String,
    left: f64,
    points: &[(f64, f64)],
    x_max: f64,
    y_max: f64,
    color: &str,
) {
    if points.is_empty() {
        return;
    }
    let bottom = TOP + PANEL_HEIGHT;
    let mut path = String::new();
    for (x, y) in points {
        let px = left + (x / x_max).clamp(0.0, 1.0) * PANEL_WIDTH;
        let py = bottom - (y / y_max).clamp(0.0, 1.0) * PANEL_HEIGHT;
        let _ = write!(path, "{px:.1},{py:.1} ");
    }
    let _ = writeln!(
        svg,
        r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
        path.trim_end()
    );
}

fn tick(value: f64) -> String {
    if value >= 10_000.0 {
        format!("{:.0}k", value / 1000.0)
    } else if value >= 10.0 || value == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{latency, throughput};
    use std::time::Duration;

    #[test]
    fn renders_both_panels() {
        let report = Report {
            scenario: "basic".to_string(),
            throughput: throughput(
                Duration::ZERO,
                (0..300).map(|i| Duration::from_millis(i * 10)).collect(),
            ),
            created_to_bound: latency((1..100).map(Duration::from_millis)),
            ..Report::default()
        };
        let svg = render(&report);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        // Throughput and created → bound; no running latencies to draw.
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(
            svg.contains("pods bound per second (average 100, p99 100)"),
            "{svg}"
        );
    }
}
