//! `regain check POLICY...`

use std::path::PathBuf;

use serde_json::json;

use super::{read_input, render, Format, EXIT_BAD_INPUT, EXIT_NO_INPUT, EXIT_OK};

/// Arguments of `regain check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Policy files (`.regain`).
    #[arg(required = true)]
    policies: Vec<PathBuf>,
    /// Output format: human, or JSON (`regain.check/1`: the diagnostics of each file).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Exit 1 when there are warnings.
    #[arg(long)]
    deny_warnings: bool,
}

/// Checks every file, even after one fails; exits 66 when a file cannot be read, else 1
/// when one has errors (or warnings with `--deny-warnings`), else 0.
pub fn run(a: Args) -> i32 {
    let mut failed = false;
    let mut unreadable = false;
    let mut files = Vec::new();
    for path in &a.policies {
        let name = path.display().to_string();
        let src = match read_input(path) {
            Ok(s) => s,
            Err(e) => {
                unreadable = true;
                if a.format == Format::Json {
                    files.push(json!({
                        "file": name,
                        "ok": false,
                        "error": e.message,
                        "diagnostics": [],
                    }));
                } else {
                    eprintln!("error: {e}");
                }
                continue;
            }
        };
        let (report, policy) = regain::Policy::check_report(&name, &src);
        let diags = match policy {
            Ok(p) => p.warnings(),
            Err(d) => d,
        };
        let counts = report
            .counts
            .map(|c| (c.facts, c.methods, c.denies, c.paths));
        let warnings = report.warnings;
        if !report.ok || (a.deny_warnings && warnings > 0) {
            failed = true;
        }
        match a.format {
            Format::Json => files.push(serde_json::to_value(&report).unwrap_or_default()),
            Format::Human => {
                if diags.has_errors() {
                    render::diagnostics(&diags);
                } else {
                    eprint!("{}", render::graphical(&diags, super::stderr_tty()));
                    if let Some((facts, methods, denies, paths)) = counts {
                        let w = if warnings > 0 {
                            format!(
                                " ({warnings} warning{})",
                                if warnings == 1 { "" } else { "s" }
                            )
                        } else {
                            String::new()
                        };
                        println!(
                            "{name}: ok — {facts} facts, {methods} methods, {denies} deny rules, {paths} paths{w}"
                        );
                    }
                }
            }
        }
    }
    let code = if unreadable {
        EXIT_NO_INPUT
    } else if failed {
        EXIT_BAD_INPUT
    } else {
        EXIT_OK
    };
    if a.format == Format::Json {
        println!(
            "{}",
            json!({
                "schema": "regain.check/1",
                "ok": code == EXIT_OK,
                "files": files,
            })
        );
    }
    code
}
