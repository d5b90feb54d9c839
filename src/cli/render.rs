//! Rendering of diagnostics for people (miette) and machines (JSON).

use miette::{GraphicalReportHandler, GraphicalTheme};
use regain::Diagnostics;

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

/// Every diagnostic of a file as JSON (the library's [`regain::diagnostic::DiagnosticView`]).
pub fn json_all(d: &Diagnostics) -> Vec<serde_json::Value> {
    d.views()
        .into_iter()
        .map(|v| serde_json::to_value(v).unwrap_or_default())
        .collect()
}
