//! `regain eval POLICY --profile FILE | --profiles FILE.jsonl`

use std::fmt::Write as _;
use std::path::PathBuf;

use regain::{Decision, DecisionKind, Engine, Profile, ProfileError};

use super::{
    fail, load_engine, read_input, Format, EXIT_BAD_INPUT, EXIT_NOT_ALLOWED, EXIT_NO_INPUT,
    EXIT_OK, EXIT_USAGE,
};

/// Arguments of `regain eval`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["profile", "profiles"])))]
pub struct Args {
    /// The policy file.
    policy: PathBuf,
    /// One profile, JSON or YAML (by extension; `-` reads JSON from stdin).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// JSON lines: one profile per line, one decision per line out.
    #[arg(long)]
    profiles: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Say why each path is or is not available.
    #[arg(long)]
    explain: bool,
    /// Exit 2 when a decision is deny or lockout.
    #[arg(long)]
    exit_code: bool,
}

fn display(p: &std::path::Path) -> String {
    if p == std::path::Path::new("-") {
        "<stdin>".into()
    } else {
        p.display().to_string()
    }
}

fn is_yaml(p: &std::path::Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

pub fn run(a: Args) -> i32 {
    let engine = match load_engine(&a.policy) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if let Some(path) = &a.profile {
        let text = match read_input(path) {
            Ok(t) => t,
            Err(e) => return fail(EXIT_NO_INPUT, e),
        };
        let profile = if is_yaml(path) {
            engine.profile_from_yaml(&text)
        } else {
            engine.profile_from_json(&text)
        };
        let profile = match profile {
            Ok(p) => p,
            Err(e) => return fail(EXIT_BAD_INPUT, format!("{}: {e}", display(path))),
        };
        let d = engine.evaluate(&profile);
        match a.format {
            Format::Json => println!("{}", json(&engine, &profile, d, a.explain)),
            Format::Human => print!("{}", human(&engine, &profile, d, a.explain)),
        }
        return if a.exit_code && d.kind() != DecisionKind::Allow {
            EXIT_NOT_ALLOWED
        } else {
            EXIT_OK
        };
    }
    let Some(path) = &a.profiles else {
        // clap requires one of --profile and --profiles.
        return fail(EXIT_USAGE, "give --profile FILE or --profiles FILE");
    };
    batch(&engine, path, &a)
}

fn batch(engine: &Engine, path: &std::path::Path, a: &Args) -> i32 {
    use std::io::{BufRead, Write};
    let reader: Box<dyn BufRead> = if path == std::path::Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        match std::fs::File::open(path) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                return fail(
                    EXIT_NO_INPUT,
                    format!("cannot read `{}`: {e}", path.display()),
                )
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad = false;
    let mut not_allowed = false;
    for (i, line) in reader.split(b'\n').enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                let _ = out.flush();
                return fail(
                    EXIT_NO_INPUT,
                    format!("cannot read `{}`: {e}", display(path)),
                );
            }
        };
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        let result: Result<Profile, ProfileError> = engine.profile_from_json(&text);
        let written = match result {
            Ok(p) => {
                let d = engine.evaluate(&p);
                not_allowed |= d.kind() != DecisionKind::Allow;
                match a.format {
                    Format::Json => writeln!(out, "{}", json(engine, &p, d, a.explain)),
                    Format::Human => write!(out, "line {n}: {}", human(engine, &p, d, a.explain)),
                }
            }
            Err(e) => {
                bad = true;
                eprintln!("error: {}:{n}: {e}", display(path));
                match a.format {
                    Format::Json => writeln!(
                        out,
                        "{}",
                        serde_json::json!({"schema": SCHEMA, "line": n, "error": e.message})
                    ),
                    Format::Human => writeln!(out, "line {n}: error: {e}"),
                }
            }
        };
        if written.is_err() {
            // Broken pipe: the reader went away.
            return if bad { EXIT_BAD_INPUT } else { EXIT_OK };
        }
    }
    let _ = out.flush();
    if bad {
        EXIT_BAD_INPUT
    } else if a.exit_code && not_allowed {
        EXIT_NOT_ALLOWED
    } else {
        EXIT_OK
    }
}

/// The schema of each JSON object `eval` prints.
const SCHEMA: &str = regain::decision::EVAL_SCHEMA;

/// The object of one decision: the library's [`regain::decision::EvalView`], which the
/// HTTP server answers too.
fn json(engine: &Engine, p: &Profile, d: &Decision, explain: bool) -> serde_json::Value {
    let e = explain.then(|| regain::explain::explain(engine.policy(), p.values()));
    let view = regain::decision::EvalView {
        decision: d,
        explain: e.as_ref(),
    };
    serde_json::to_value(view).unwrap_or_default()
}

/// Seconds as `48h`, `90m`, `2d`, `30s`.
pub fn duration(s: u64) -> String {
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if s >= n && s.is_multiple_of(n) {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}

fn human(engine: &Engine, p: &Profile, d: &Decision, explain: bool) -> String {
    let mut s = String::new();
    match d.kind() {
        DecisionKind::Deny => {
            let _ = writeln!(s, "deny: {}", d.denied_by().join("; "));
        }
        DecisionKind::Lockout => {
            let _ = writeln!(s, "lockout: no recovery path is available");
        }
        DecisionKind::Allow => {
            let _ = writeln!(s, "allow: {}", d.path_names().join(", "));
            for (i, path) in d.paths().iter().enumerate() {
                let title = path.title().map(|t| format!(" — {t}")).unwrap_or_default();
                let _ = writeln!(s, "  {}. {}{title}", i + 1, path.name());
                for (k, step) in path.steps().iter().enumerate() {
                    let _ = writeln!(s, "       step {}: {}", k + 1, step.join(", "));
                }
                let mut extra = format!("grants {}", path.grants());
                if path.wait_s() > 0 {
                    let _ = write!(extra, " · wait {}", duration(path.wait_s()));
                }
                if !path.notify().is_empty() {
                    let _ = write!(extra, " · notify {}", path.notify().join(", "));
                }
                let _ = writeln!(s, "       {extra}");
            }
        }
    }
    if explain {
        let e = regain::explain::explain(engine.policy(), p.values());
        let _ = write!(s, "why:\n{e}");
    }
    s
}
