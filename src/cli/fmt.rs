//! `regain fmt POLICY... [--check] [--write] [--format json]`

use std::path::PathBuf;

use serde_json::{json, Value};

use super::{read_input, render, Format, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_NO_INPUT, EXIT_OK};

/// Arguments of `regain fmt`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Policy files.
    #[arg(required = true)]
    policies: Vec<PathBuf>,
    /// Exit 1 and show a diff when a file is not in canonical form; change nothing.
    #[arg(long, conflicts_with = "write")]
    check: bool,
    /// Rewrite the files in place.
    #[arg(long)]
    write: bool,
    /// Output format: human, or JSON (`regain.fmt/1`: per file whether it is
    /// canonical, and its canonical text, diff or whether it was rewritten).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// What happened to one file.
enum Outcome {
    /// It could not be read.
    Unreadable(String),
    /// It does not parse.
    Invalid(regain::Diagnostics),
    /// Its canonical form.
    Formatted { src: String, formatted: String },
}

/// Formats every file, even after one fails; exits 66 when a file cannot be read, else 1
/// when one does not parse, is not canonical (`--check`) or cannot be written.
pub fn run(a: Args) -> i32 {
    let mut code = EXIT_OK;
    let mut unreadable = false;
    let mut files = Vec::new();
    for path in &a.policies {
        let name = path.display().to_string();
        let outcome = match read_input(path) {
            Err(e) => Outcome::Unreadable(e.message),
            Ok(src) => match regain::fmt::format(&src) {
                Ok(formatted) => Outcome::Formatted { src, formatted },
                Err(items) => Outcome::Invalid(regain::Diagnostics {
                    name: name.clone(),
                    source: src.as_str().into(),
                    items,
                }),
            },
        };
        let mut file = json!({"file": name});
        match outcome {
            Outcome::Unreadable(e) => {
                unreadable = true;
                if a.format == Format::Human {
                    eprintln!("error: {e}");
                }
                set(&mut file, "error", Value::String(e));
            }
            Outcome::Invalid(d) => {
                code = EXIT_BAD_INPUT;
                if a.format == Format::Human {
                    render::diagnostics(&d);
                } else {
                    set(&mut file, "diagnostics", Value::Array(render::json_all(&d)));
                }
            }
            Outcome::Formatted { src, formatted } => {
                let canonical = formatted == src;
                set(&mut file, "canonical", Value::Bool(canonical));
                if a.check {
                    if !canonical {
                        code = EXIT_FAILED;
                        let diff = unified_diff(&name, &src, &formatted);
                        match a.format {
                            Format::Human => {
                                println!("{name} is not formatted:");
                                print!("{diff}");
                            }
                            Format::Json => set(&mut file, "diff", Value::String(diff)),
                        }
                    }
                } else if a.write {
                    let mut written = false;
                    if !canonical {
                        match std::fs::write(path, &formatted) {
                            Ok(()) => written = true,
                            Err(e) => {
                                let e = format!("cannot write `{name}`: {e}");
                                code = EXIT_BAD_INPUT;
                                if a.format == Format::Human {
                                    eprintln!("error: {e}");
                                }
                                set(&mut file, "error", Value::String(e));
                            }
                        }
                    }
                    set(&mut file, "written", Value::Bool(written));
                } else {
                    match a.format {
                        Format::Human => print!("{formatted}"),
                        Format::Json => set(&mut file, "formatted", Value::String(formatted)),
                    }
                }
            }
        }
        files.push(file);
    }
    let code = if unreadable { EXIT_NO_INPUT } else { code };
    if a.format == Format::Json {
        println!(
            "{}",
            json!({"schema": "regain.fmt/1", "ok": code == EXIT_OK, "files": files})
        );
    }
    code
}

fn set(file: &mut Value, key: &str, v: Value) {
    if let Some(o) = file.as_object_mut() {
        o.insert(key.into(), v);
    }
}

fn unified_diff(name: &str, src: &str, formatted: &str) -> String {
    similar::TextDiff::from_lines(src, formatted)
        .unified_diff()
        .context_radius(2)
        .header(name, "formatted")
        .to_string()
}
