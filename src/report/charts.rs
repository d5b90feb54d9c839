//! SVG charts drawn with plotters' SVG backend: horizontal bars with 95% error bars,
//! stacked bars, and a cumulative distribution on a log time axis. Each function takes
//! figures already computed (from a report's JSON value) and returns one `<svg>`
//! element with a `<title>` and `role="img"`, sized by its content and scaling down to
//! its container.

use std::error::Error;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::graph::svg::escape;

/// Chart width in pixels (the SVG scales down to its container).
pub const WIDTH: u32 = 600;

/// Height of one bar row in pixels.
const ROW: u32 = 30;

/// Text colour (contrast ≥ 12:1 on white).
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Axis and grid colour.
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
/// Font family of every label.
const FONT: &str = "sans-serif";

/// Colours that stay distinct for colour-blind readers (Okabe–Ito), darkened where
/// needed for contrast on white.
pub mod colour {
    use plotters::style::RGBColor;
    /// Recovered, allow, available.
    pub const GREEN: RGBColor = RGBColor(0x00, 0x8a, 0x64);
    /// Tried and failed.
    pub const ORANGE: RGBColor = RGBColor(0xd4, 0x8a, 0x00);
    /// Lockout.
    pub const RED: RGBColor = RGBColor(0xc8, 0x42, 0x00);
    /// Denied.
    pub const GREY: RGBColor = RGBColor(0x6b, 0x6e, 0x73);
    /// Neutral series (paths, review).
    pub const BLUE: RGBColor = RGBColor(0x00, 0x5f, 0xa3);
    /// Second neutral series (first offered, segments).
    pub const SKY: RGBColor = RGBColor(0x4f, 0xa8, 0xd8);
    /// Attackers.
    pub const PURPLE: RGBColor = RGBColor(0x9a, 0x4d, 0x8a);
    /// Cycle for series without a meaning of their own.
    pub const CYCLE: [RGBColor; 6] = [BLUE, SKY, PURPLE, ORANGE, GREEN, GREY];

    /// A colour as `#rrggbb`.
    pub fn hex(c: RGBColor) -> String {
        format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
    }
}

/// The `i`th colour of [`colour::CYCLE`].
pub fn cycle(i: usize) -> RGBColor {
    colour::CYCLE
        .get(i % colour::CYCLE.len())
        .copied()
        .unwrap_or(colour::BLUE)
}

/// One bar: a label, a value, its 95% interval when it has one, and a colour.
#[derive(Clone, Debug)]
pub struct Bar {
    /// Row label (clipped to 30 characters).
    pub label: String,
    /// The value (a fraction).
    pub value: f64,
    /// The 95% interval, drawn as an error bar when it is not a point.
    pub ci: Option<[f64; 2]>,
    /// Fill colour.
    pub colour: RGBColor,
}

/// A percentage for axis ticks and bar ends: `12.3%`, `0.045%`.
pub fn pct(x: f64) -> String {
    let p = if x.abs() < 1e-15 { 0.0 } else { x * 100.0 };
    if p == 0.0 {
        "0%".into()
    } else if p.abs() >= 10.0 {
        format!("{p:.1}%")
    } else if p.abs() >= 0.1 {
        format!("{p:.2}%")
    } else {
        format!("{p:.2e}%")
    }
}

/// A duration in seconds as people say it: `45s`, `12m`, `3h`, `2d`, `5w`.
pub fn human_secs(s: f64) -> String {
    let s = s.max(0.0);
    let (v, unit) = if s < 60.0 {
        (s, "s")
    } else if s < 3600.0 {
        (s / 60.0, "m")
    } else if s < 86_400.0 {
        (s / 3600.0, "h")
    } else if s < 7.0 * 86_400.0 {
        (s / 86_400.0, "d")
    } else {
        (s / (7.0 * 86_400.0), "w")
    };
    if (v - v.round()).abs() < 0.05 || v >= 10.0 {
        format!("{}{unit}", v.round())
    } else {
        format!("{v:.1}{unit}")
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The label area width for these labels (plotters' naive text estimate).
fn label_width(labels: impl Iterator<Item = usize>) -> u32 {
    let longest = labels.max().unwrap_or(4).min(30) as u32;
    (longest * 8 + 18).max(60)
}

/// Give the plotters SVG a title, a role and a size that scales to its container.
fn finish(svg: String, title: &str) -> String {
    let title = escape(title);
    match svg.find('>') {
        Some(end) if svg.starts_with("<svg") => {
            let (head, rest) = svg.split_at(end);
            format!(
                "{head} role=\"img\" aria-label=\"{title}\" class=\"chart\" style=\"max-width:100%;height:auto\"><title>{title}</title>{}",
                rest.get(1..).unwrap_or("")
            )
        }
        _ => svg,
    }
}

/// An SVG saying the chart could not be drawn (never expected; charts do not fail on
/// finite input).
fn failed(title: &str, e: &dyn Error) -> String {
    let title = escape(title);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{title}\" class=\"chart\" width=\"{WIDTH}\" height=\"40\" viewBox=\"0 0 {WIDTH} 40\"><title>{title}</title><text x=\"8\" y=\"24\" font-family=\"sans-serif\" font-size=\"13\">{title}: not drawn ({})</text></svg>",
        escape(&e.to_string())
    )
}

type Res = Result<(), Box<dyn Error>>;

/// Draw a legend strip: coloured squares with names, left to right.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    items: &[(String, RGBColor)],
    x0: i32,
) -> Res
where
    DB::ErrorType: 'static,
{
    let mut x = x0;
    for (name, c) in items {
        area.draw(&Rectangle::new([(x, 8), (x + 12, 20)], c.filled()))?;
        area.draw(&Text::new(
            clip(name, 28),
            (x + 17, 8),
            (FONT, 14).into_font().color(&INK),
        ))?;
        x += 17 + (clip(name, 28).chars().count() as i32) * 8 + 20;
    }
    Ok(())
}

/// Horizontal bars, one row per bar, with 95% error bars where the interval is not a
/// point; `x_max` of `None` scales to the largest interval end (a share axis ends at
/// 100% at most). `legend_items` are drawn above the plot.
pub fn hbars(
    title: &str,
    x_desc: &str,
    bars: &[Bar],
    x_max: Option<f64>,
    legend_items: &[(String, RGBColor)],
) -> String {
    let n = bars.len().max(1);
    let legend_h = if legend_items.is_empty() { 0 } else { 28 };
    let height = 44 + 46 + legend_h + ROW * n as u32;
    let mut buf = String::new();
    let r = draw_hbars(
        &mut buf,
        title,
        x_desc,
        bars,
        x_max,
        legend_items,
        height,
        legend_h,
    );
    match r {
        Ok(()) => finish(buf, title),
        Err(e) => failed(title, e.as_ref()),
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_hbars(
    buf: &mut String,
    title: &str,
    x_desc: &str,
    bars: &[Bar],
    x_max: Option<f64>,
    legend_items: &[(String, RGBColor)],
    height: u32,
    legend_h: u32,
) -> Res {
    let top = bars
        .iter()
        .map(|b| b.ci.map_or(b.value, |c| c[1].max(b.value)))
        .fold(0.0_f64, f64::max);
    let x_max = x_max.unwrap_or_else(|| {
        if top <= 0.0 {
            0.01
        } else {
            (top * 1.18).min(1.0).max(top)
        }
    });
    let labels: Vec<String> = bars.iter().map(|b| clip(&b.label, 30)).collect();
    let root = SVGBackend::with_string(buf, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        title,
        (FONT, 18).into_font().style(FontStyle::Bold).color(&INK),
    )?;
    let (leg, body) = root.split_vertically(legend_h);
    if !legend_items.is_empty() {
        legend(
            &leg,
            legend_items,
            label_width(labels.iter().map(|l| l.chars().count())) as i32,
        )?;
    }
    let n = bars.len().max(1);
    let mut chart = ChartBuilder::on(&body)
        .margin_right(70)
        .margin_left(6)
        .x_label_area_size(40)
        .y_label_area_size(label_width(labels.iter().map(|l| l.chars().count())))
        .build_cartesian_2d(0.0..x_max, (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(GRID)
        .x_labels(6)
        .x_label_formatter(&|v| pct(*v))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => n
                .checked_sub(i + 1)
                .and_then(|k| labels.get(k))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .y_labels(n)
        .x_desc(x_desc)
        .label_style((FONT, 14).into_font().color(&INK))
        .axis_desc_style((FONT, 14).into_font().color(&INK))
        .draw()?;
    // The first bar on top.
    let row = |i: usize| n.saturating_sub(i + 1);
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let i = row(i);
        let mut r = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (b.value.clamp(0.0, x_max), SegmentValue::Exact(i + 1)),
            ],
            b.colour.filled(),
        );
        r.set_margin(5, 5, 0, 0);
        r
    }))?;
    for (i, b) in bars.iter().enumerate() {
        let i = row(i);
        let mut right = b.value;
        if let Some([lo, hi]) = b.ci {
            if hi > lo {
                right = right.max(hi);
                let y = SegmentValue::CenterOf(i);
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(lo, y.clone()), (hi.min(x_max), y)],
                    INK.stroke_width(2),
                )))?;
                for x in [lo, hi.min(x_max)] {
                    chart.draw_series(std::iter::once(
                        EmptyElement::at((x, SegmentValue::CenterOf(i)))
                            + PathElement::new(vec![(0, -7), (0, 7)], INK.stroke_width(2)),
                    ))?;
                }
            }
        }
        chart.draw_series(std::iter::once(
            EmptyElement::at((right.min(x_max), SegmentValue::CenterOf(i)))
                + Text::new(pct(b.value), (6, -7), (FONT, 14).into_font().color(&INK)),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// Stacked horizontal bars: one row per label, one segment per series (fractions that
/// sum to at most 1), with a legend above.
pub fn stacked(
    title: &str,
    x_desc: &str,
    rows: &[(String, Vec<f64>)],
    series: &[(String, RGBColor)],
) -> String {
    let n = rows.len().max(1);
    let height = 44 + 46 + 28 + (ROW + 6) * n as u32;
    let mut buf = String::new();
    match draw_stacked(&mut buf, title, x_desc, rows, series, height) {
        Ok(()) => finish(buf, title),
        Err(e) => failed(title, e.as_ref()),
    }
}

fn draw_stacked(
    buf: &mut String,
    title: &str,
    x_desc: &str,
    rows: &[(String, Vec<f64>)],
    series: &[(String, RGBColor)],
    height: u32,
) -> Res {
    let labels: Vec<String> = rows.iter().map(|(l, _)| clip(l, 30)).collect();
    let lw = label_width(labels.iter().map(|l| l.chars().count()));
    let root = SVGBackend::with_string(buf, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        title,
        (FONT, 18).into_font().style(FontStyle::Bold).color(&INK),
    )?;
    let (leg, body) = root.split_vertically(28);
    legend(&leg, series, lw as i32)?;
    let n = rows.len().max(1);
    let mut chart = ChartBuilder::on(&body)
        .margin_right(24)
        .margin_left(6)
        .x_label_area_size(40)
        .y_label_area_size(lw)
        .build_cartesian_2d(0.0..1.0_f64, (0..n).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(GRID)
        .x_labels(6)
        .x_label_formatter(&|v| pct(*v))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => n
                .checked_sub(i + 1)
                .and_then(|k| labels.get(k))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .y_labels(n)
        .x_desc(x_desc)
        .label_style((FONT, 14).into_font().color(&INK))
        .axis_desc_style((FONT, 14).into_font().color(&INK))
        .draw()?;
    for (i, (_, values)) in rows.iter().enumerate() {
        let i = n.saturating_sub(i + 1);
        let mut x = 0.0;
        for (v, (_, c)) in values.iter().zip(series) {
            let v = v.max(0.0);
            if v <= 0.0 {
                continue;
            }
            let end = (x + v).min(1.0);
            let mut r = Rectangle::new(
                [
                    (x, SegmentValue::Exact(i)),
                    (end, SegmentValue::Exact(i + 1)),
                ],
                c.filled(),
            );
            r.set_margin(5, 5, 0, 0);
            chart.draw_series(std::iter::once(r))?;
            // The value inside the segment when it is wide enough to hold it.
            if end - x >= 0.09 {
                chart.draw_series(std::iter::once(
                    EmptyElement::at((x, SegmentValue::CenterOf(i)))
                        + Text::new(pct(v), (5, -7), (FONT, 14).into_font().color(&WHITE)),
                ))?;
            }
            x = end;
        }
    }
    root.present()?;
    Ok(())
}

/// The cumulative distribution of times on a log axis: `points` are `[seconds,
/// fraction]` (increasing), with vertical markers at `p50` and `p95` when given.
pub fn cdf(title: &str, points: &[(u64, f64)], p50: Option<u64>, p95: Option<u64>) -> String {
    let mut buf = String::new();
    match draw_cdf(&mut buf, title, points, p50, p95) {
        Ok(()) => finish(buf, title),
        Err(e) => failed(title, e.as_ref()),
    }
}

/// Ticks people read: 1s … 1 year.
const TICKS: [f64; 14] = [
    1.0,
    10.0,
    60.0,
    600.0,
    3600.0,
    6.0 * 3600.0,
    86_400.0,
    3.0 * 86_400.0,
    7.0 * 86_400.0,
    14.0 * 86_400.0,
    30.0 * 86_400.0,
    90.0 * 86_400.0,
    180.0 * 86_400.0,
    365.0 * 86_400.0,
];

fn draw_cdf(
    buf: &mut String,
    title: &str,
    points: &[(u64, f64)],
    p50: Option<u64>,
    p95: Option<u64>,
) -> Res {
    let xs = || points.iter().map(|(s, _)| (*s as f64).max(1.0));
    let lo = xs().fold(f64::INFINITY, f64::min);
    let hi = xs().fold(1.0_f64, f64::max);
    let lo = if lo.is_finite() { lo } else { 1.0 };
    // A decade of room on the left of the first point, a bit on the right.
    let (lo, hi) = ((lo / 3.0).max(1.0), (hi * 2.0).max(lo * 10.0));
    let ticks: Vec<f64> = TICKS
        .iter()
        .copied()
        .filter(|t| *t >= lo && *t <= hi)
        .collect();
    let root = SVGBackend::with_string(buf, (WIDTH, 340)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        title,
        (FONT, 18).into_font().style(FontStyle::Bold).color(&INK),
    )?;
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .margin_right(28)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d((lo..hi).log_scale().with_key_points(ticks), 0.0..1.0_f64)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(GRID)
        .y_labels(6)
        .x_label_formatter(&|v| human_secs(*v))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .x_desc("time to recover (log scale)")
        .y_desc("recovered by then")
        .label_style((FONT, 14).into_font().color(&INK))
        .axis_desc_style((FONT, 14).into_font().color(&INK))
        .draw()?;
    // A step function: flat until the next point.
    let mut line = Vec::with_capacity(points.len() * 2 + 1);
    let mut prev = 0.0;
    for (s, f) in points {
        let x = (*s as f64).max(lo);
        line.push((x, prev));
        line.push((x, *f));
        prev = *f;
    }
    line.push((hi, prev));
    chart.draw_series(std::iter::once(PathElement::new(
        line,
        colour::BLUE.stroke_width(3),
    )))?;
    for (name, q, frac) in [("p50", p50, 0.5), ("p95", p95, 0.95)] {
        let Some(q) = q else { continue };
        let x = (q as f64).max(lo);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x, 0.0), (x, frac)],
            colour::RED.stroke_width(2),
        )))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, frac))
                + Circle::new((0, 0), 4, colour::RED.filled())
                + Text::new(
                    format!("{name} {}", human_secs(q as f64)),
                    (-70, -20),
                    (FONT, 14).into_font().color(&INK),
                ),
        ))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_have_rects_title_and_labels() {
        let svg = hbars(
            "Outcomes",
            "share of trials",
            &[
                Bar {
                    label: "recovered".into(),
                    value: 0.8,
                    ci: Some([0.79, 0.81]),
                    colour: colour::GREEN,
                },
                Bar {
                    label: "lockout".into(),
                    value: 0.05,
                    ci: None,
                    colour: colour::RED,
                },
            ],
            Some(1.0),
            &[],
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<title>Outcomes</title>"));
        assert!(svg.contains("recovered") && svg.contains("lockout"));
        assert!(svg.contains("<rect"));
        assert!(svg.contains("80.0%"));
    }

    #[test]
    fn cdf_marks_quantiles() {
        let svg = cdf(
            "Time",
            &[(60, 0.2), (3600, 0.6), (86_400, 1.0)],
            Some(3600),
            Some(86_400),
        );
        assert!(svg.contains("p50 1h") && svg.contains("p95 1d"), "{svg}");
        assert!(svg.contains("<polyline") || svg.contains("<path"));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_secs(30.0), "30s");
        assert_eq!(human_secs(3600.0), "1h");
        assert_eq!(human_secs(86_400.0 * 3.0), "3d");
        assert_eq!(human_secs(5400.0), "1.5h");
    }
}
