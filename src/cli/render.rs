//! Rendering of diagnostics for people (miette) and machines (JSON).

use miette::{GraphicalReportHandler, GraphicalTheme};
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
    let errors = d.errors().count();
    let warnings = d.warnings().count();
    if errors > 0 {
        eprintln!(
            "error: {}: {errors} error{}, {warnings} warning{}",
            d.name,
            plural(errors),
            plural(warnings)
        );
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// One diagnostic as JSON.
pub fn json(d: &Diagnostics, item: &Diagnostic) -> serde_json::Value {
    let lc = regain::source::line_col(&d.source, item.span.start);
    json!({
        "file": d.name,
        "line": lc.line,
        "col": lc.col,
        "code": item.code.as_str(),
        "severity": match item.severity() { Severity::Error => "error", Severity::Warning => "warning" },
        "message": item.message,
        "label": item.label,
        "help": item.help,
        "related": item.secondary.iter().map(|l| {
            let lc = regain::source::line_col(&d.source, l.span.start);
            json!({"line": lc.line, "col": lc.col, "message": l.message})
        }).collect::<Vec<_>>(),
    })
}
