//! `regain check POLICY...`

use std::path::PathBuf;

use super::{read, render, Format, EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `regain check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Policy files (`.regain`).
    #[arg(required = true)]
    policies: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Exit 1 when there are warnings.
    #[arg(long)]
    deny_warnings: bool,
}

pub fn run(a: Args) -> i32 {
    let mut failed = false;
    let mut json_out = Vec::new();
    for path in &a.policies {
        let name = path.display().to_string();
        let src = match read(path) {
            Ok(s) => s,
            Err(e) => {
                failed = true;
                if a.format == Format::Json {
                    json_out.push(serde_json::json!({"file": name, "error": e}));
                } else {
                    eprintln!("error: {e}");
                }
                continue;
            }
        };
        let (diags, summary) = match regain::Policy::parse_named(&name, &src) {
            Ok(p) => {
                let ir = p.ir();
                let summary = format!(
                    "{name}: ok — {} facts, {} methods, {} deny rules, {} paths",
                    ir.facts.len(),
                    ir.methods.len(),
                    ir.denies.len(),
                    ir.paths.len()
                );
                (p.warnings(), Some(summary))
            }
            Err(d) => (d, None),
        };
        let warnings = diags.warnings().count();
        if diags.has_errors() || (a.deny_warnings && warnings > 0) {
            failed = true;
        }
        match a.format {
            Format::Json => {
                json_out.push(serde_json::json!({
                    "file": name,
                    "ok": !diags.has_errors(),
                    "diagnostics": diags.items.iter().map(|d| render::json(&diags, d)).collect::<Vec<_>>(),
                }));
            }
            Format::Human => {
                if diags.has_errors() {
                    render::diagnostics(&diags);
                } else {
                    eprint!("{}", render::graphical(&diags, super::stderr_tty()));
                    if let Some(s) = summary {
                        let w = if warnings > 0 {
                            format!(
                                " ({warnings} warning{})",
                                if warnings == 1 { "" } else { "s" }
                            )
                        } else {
                            String::new()
                        };
                        println!("{s}{w}");
                    }
                }
            }
        }
    }
    if a.format == Format::Json {
        println!("{}", serde_json::Value::Array(json_out));
    }
    if failed {
        EXIT_BAD_INPUT
    } else {
        EXIT_OK
    }
}
