//! `regain analyze POLICY` and `regain diff OLD NEW`

use std::fmt::Write as _;
use std::path::PathBuf;

use regain::analyze::{self, diff, Analysis, Region};
use regain::{DecisionKind, Severity};

use super::{load_engine, load_policy, Format, EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `regain analyze`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The policy file.
    policy: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Exit 1 when there are warnings.
    #[arg(long)]
    deny_warnings: bool,
    /// How many allow regions the human report lists (all are in the JSON).
    #[arg(long, default_value_t = 15)]
    top: usize,
}

/// A share as a percentage.
pub fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p > 0.0 && p < 0.01 {
        format!("{p:.1e}%")
    } else {
        format!("{p:.2}%")
    }
}

fn outcome(r: &Region) -> String {
    match r.decision {
        DecisionKind::Allow => format!("allow: {}", r.paths.join(", ")),
        DecisionKind::Deny => format!("deny: {}", r.denied_by.join("; ")),
        DecisionKind::Lockout => "lockout".into(),
    }
}

pub fn human(a: &Analysis, top: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "policy {} — graph: {} nodes, {} terminals, depth {}",
        a.policy, a.graph.nodes, a.graph.terminals, a.graph.depth
    );
    let _ = writeln!(
        s,
        "\nshares of the profile space (every fact value equally likely):\n  allow {}   deny {}   lockout {}",
        pct(a.shares.allow),
        pct(a.shares.deny),
        pct(a.shares.lockout)
    );
    let lockouts: Vec<&Region> = a
        .regions
        .iter()
        .filter(|r| r.decision == DecisionKind::Lockout)
        .collect();
    if lockouts.is_empty() {
        let _ = writeln!(
            s,
            "\nno lockout: every profile that is not denied has a way back in"
        );
    } else {
        let _ = writeln!(
            s,
            "\nLOCKOUT — {} of profiles have no way back in, in {} region{}:",
            pct(a.shares.lockout),
            lockouts.len(),
            if lockouts.len() == 1 { "" } else { "s" }
        );
        for r in &lockouts {
            let _ = writeln!(s, "  {:>8}  {}", pct(r.share), r.condition);
        }
    }
    let denies: Vec<&Region> = a
        .regions
        .iter()
        .filter(|r| r.decision == DecisionKind::Deny)
        .collect();
    if !denies.is_empty() {
        let _ = writeln!(s, "\ndeny — {} of profiles:", pct(a.shares.deny));
        for r in denies.iter().take(top) {
            let _ = writeln!(
                s,
                "  {:>8}  {}  when {}",
                pct(r.share),
                outcome(r),
                r.condition
            );
        }
        if denies.len() > top {
            let _ = writeln!(s, "  … {} more deny regions", denies.len() - top);
        }
    }
    let allows: Vec<&Region> = a
        .regions
        .iter()
        .filter(|r| r.decision == DecisionKind::Allow)
        .collect();
    let _ = writeln!(
        s,
        "\nallow — {} of profiles, {} regions; the largest:",
        pct(a.shares.allow),
        allows.len()
    );
    for r in allows.iter().take(top) {
        let _ = writeln!(
            s,
            "  {:>8}  {}\n            when {}",
            pct(r.share),
            outcome(r),
            r.condition
        );
    }
    if allows.len() > top {
        let rest: f64 = allows.iter().skip(top).map(|r| r.share).sum();
        let _ = writeln!(
            s,
            "  … {} more allow regions ({}); all are in --format json",
            allows.len() - top,
            pct(rest)
        );
    }
    if a.findings.is_empty() {
        let _ = writeln!(s, "\nno findings");
    } else {
        let _ = writeln!(s, "\nfindings:");
        for f in &a.findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let _ = writeln!(s, "  {sev}[{}] {}: {}", f.code, f.location, f.message);
            if let Some(c) = f.cites {
                let _ = writeln!(s, "      cites: {c}");
            }
        }
    }
    s
}

pub fn run(a: Args) -> i32 {
    let engine = match load_engine(&a.policy) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let analysis = analyze::analyze(&engine);
    match a.format {
        Format::Json => match serde_json::to_string_pretty(&analysis) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        },
        Format::Human => print!("{}", human(&analysis, a.top)),
    }
    let warnings = analysis
        .findings
        .iter()
        .any(|f| f.severity == Severity::Warning);
    if a.deny_warnings && warnings {
        EXIT_BAD_INPUT
    } else {
        EXIT_OK
    }
}

/// Arguments of `regain diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The old version.
    old: PathBuf,
    /// The new version.
    new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn side(s: &diff::Side) -> String {
    match s.decision {
        DecisionKind::Allow => format!("allow [{}]", s.paths.join(", ")),
        DecisionKind::Deny => format!("deny [{}]", s.denied_by.join("; ")),
        DecisionKind::Lockout => "lockout".into(),
    }
}

/// Exit codes of `diff` (DESIGN.md): 0 equivalent, 1 different, 2 error.
pub fn run_diff(a: DiffArgs) -> i32 {
    const ERROR: i32 = 2;
    let (Ok(old), Ok(new)) = (load_policy(&a.old), load_policy(&a.new)) else {
        return ERROR;
    };
    let d = match diff::diff(&old, &new, regain::CompileOptions::default()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ERROR;
        }
    };
    match a.format {
        Format::Json => match serde_json::to_string_pretty(&d) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ERROR;
            }
        },
        Format::Human => {
            if !d.added_facts.is_empty() {
                println!(
                    "facts added: {} (free in the old version)",
                    d.added_facts.join(", ")
                );
            }
            if !d.removed_facts.is_empty() {
                println!(
                    "facts removed: {} (free in the new version)",
                    d.removed_facts.join(", ")
                );
            }
            if d.equivalent {
                println!("equivalent: every profile gets the same decision");
            } else {
                println!(
                    "{} of profiles are decided differently, in {} region{}:",
                    pct(d.share),
                    d.regions.len(),
                    if d.regions.len() == 1 { "" } else { "s" }
                );
                for r in &d.regions {
                    println!(
                        "  {:>8}  {}  →  {}",
                        pct(r.share),
                        side(&r.old),
                        side(&r.new)
                    );
                    println!("            when {}", r.condition);
                }
                if d.truncated {
                    println!("  … more regions than can be written out; shares above are exact");
                }
            }
        }
    }
    if d.equivalent {
        EXIT_OK
    } else {
        1
    }
}
