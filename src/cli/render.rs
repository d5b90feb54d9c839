//! Rendering of diagnostics for people (miette) and machines (JSON).

use miette::{GraphicalReportHandler, GraphicalTheme};
use regain::source::{LineCol, Span};
use regain::{Diagnostic, Diagnostics, Severity};
use serde_json::json;

/// Render diagnostics with labelled source snippets, to a string.
pub fn graphical(d: &Diagnostics, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for item in &d.items {
        let report = d.report(item);
        let _ = handler.render_report(&mut out, &report);
    }
    out
}

/// Print diagnostics to stderr with a summary line.
pub fn diagnostics(d: &Diagnostics) {
    eprint!("{}", graphical(d, super::stderr_tty()));
    summary(d);
}

/// Print only the summary line (`error: FILE: 2 errors, 0 warnings`) to stderr, when
/// there are errors.
pub fn summary(d: &Diagnostics) {
    if d.has_errors() {
        eprintln!("error: {}", counts(d));
    }
}

/// `FILE: 2 errors, 0 warnings`.
pub fn counts(d: &Diagnostics) -> String {
    let errors = d.errors().count();
    let warnings = d.warnings().count();
    format!(
        "{}: {errors} error{}, {warnings} warning{}",
        d.name,
        plural(errors),
        plural(warnings)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Where a span is, as `line`, `col`, `end_line`, `end_col` (1-based; columns count
/// characters; the end is one past the last character).
fn place(d: &Diagnostics, span: Span) -> (LineCol, LineCol) {
    (
        regain::source::line_col(&d.source, span.start),
        regain::source::line_col(&d.source, span.end),
    )
}

/// One diagnostic as JSON: `code`, `severity`, `message`, `file`, `line`, `col`,
/// `end_line`, `end_col`, `label`, `help` and `labels` (every labelled span, the
/// primary one first).
pub fn json(d: &Diagnostics, item: &Diagnostic) -> serde_json::Value {
    let (start, end) = place(d, item.span);
    let label = |span: Span, message: &str, primary: bool| {
        let (s, e) = place(d, span);
        json!({
            "line": s.line,
            "col": s.col,
            "end_line": e.line,
            "end_col": e.col,
            "message": message,
            "primary": primary,
        })
    };
    let labels: Vec<_> = std::iter::once(label(item.span, &item.label, true))
        .chain(
            item.secondary
                .iter()
                .map(|l| label(l.span, &l.message, false)),
        )
        .collect();
    json!({
        "code": item.code.as_str(),
        "severity": match item.severity() { Severity::Error => "error", Severity::Warning => "warning" },
        "message": item.message,
        "file": d.name,
        "line": start.line,
        "col": start.col,
        "end_line": end.line,
        "end_col": end.col,
        "label": item.label,
        "help": item.help,
        "labels": labels,
    })
}

/// Every diagnostic of a file as JSON.
pub fn json_all(d: &Diagnostics) -> Vec<serde_json::Value> {
    d.items.iter().map(|item| json(d, item)).collect()
}
