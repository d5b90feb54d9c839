//! `regain fmt POLICY... [--check] [--write]`

use std::path::PathBuf;

use super::{read_input, render, EXIT_BAD_INPUT, EXIT_NO_INPUT, EXIT_OK};

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
}

/// Formats every file, even after one fails; exits 66 when a file cannot be read, else 1
/// when one does not parse, is not canonical (`--check`) or cannot be written.
pub fn run(a: Args) -> i32 {
    let mut code = EXIT_OK;
    let mut unreadable = false;
    for path in &a.policies {
        let src = match read_input(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                unreadable = true;
                continue;
            }
        };
        let formatted = match regain::fmt::format(&src) {
            Ok(f) => f,
            Err(items) => {
                render::diagnostics(&regain::Diagnostics {
                    name: path.display().to_string(),
                    source: src.as_str().into(),
                    items,
                });
                code = EXIT_BAD_INPUT;
                continue;
            }
        };
        if a.check {
            if formatted != src {
                code = EXIT_BAD_INPUT;
                println!("{} is not formatted:", path.display());
                let diff = similar::TextDiff::from_lines(&src, &formatted);
                print!(
                    "{}",
                    diff.unified_diff()
                        .context_radius(2)
                        .header(&path.display().to_string(), "formatted")
                );
            }
        } else if a.write {
            if formatted != src {
                if let Err(e) = std::fs::write(path, &formatted) {
                    eprintln!("error: cannot write `{}`: {e}", path.display());
                    code = EXIT_BAD_INPUT;
                }
            }
        } else {
            print!("{formatted}");
        }
    }
    if unreadable {
        EXIT_NO_INPUT
    } else {
        code
    }
}
