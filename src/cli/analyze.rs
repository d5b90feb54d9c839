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
    /// How many lockout conditions and allow/deny regions the human report lists (all
    /// are in the JSON).
    #[arg(long, default_value_t = 15)]
    top: usize,
    /// Findings acknowledged by code and item (written by --write-baseline): listed as
    /// acknowledged, they do not fail --deny-warnings.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the current unacknowledged findings to FILE as a baseline, then analyse.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Weigh shares, regions, paths and lockout by this simulation model's population
    /// (exact), per segment too, instead of every fact value equally likely.
    #[arg(long, value_name = "MODEL")]
    model: Option<PathBuf>,
    /// Also write a self-contained HTML report with charts to FILE.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

/// The population of a model as a measure over the engine's value classes.
fn model_measure(engine: &regain::Engine, path: &std::path::Path) -> Result<analyze::Measure, i32> {
    let text = super::read_or_exit(path)?;
    let model = regain::simulate::Model::from_yaml(engine.policy(), &text)
        .map_err(|e| super::fail(EXIT_BAD_INPUT, format!("{}: {e}", path.display())))?;
    let mix = regain::simulate::mixture(&model, engine)
        .map_err(|e| super::fail(EXIT_BAD_INPUT, format!("{}: {e}", path.display())))?;
    let parts = |seg: Option<usize>| -> Vec<(f64, Vec<Vec<f64>>)> {
        let chosen: Vec<&regain::simulate::Component> = mix
            .components
            .iter()
            .filter(|c| seg.is_none() || c.segment == seg)
            .collect();
        let total: f64 = chosen.iter().map(|c| c.weight).sum();
        chosen
            .into_iter()
            .filter(|c| c.weight > 0.0 && total > 0.0)
            .map(|c| (c.weight / total, c.class_probs.clone()))
            .collect()
    };
    Ok(analyze::Measure {
        kind: analyze::MeasureKind::Model,
        parts: parts(None),
        segments: model
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), parts(Some(i))))
            .collect(),
    })
}

/// A share as a percentage.
pub fn pct(x: f64) -> String {
    // Sums of shares may come out as -0.0 or a rounding error below zero.
    let p = if x.abs() < 1e-15 { 0.0 } else { x * 100.0 };
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

/// The largest `top` conditions (they come sorted by share), then a count of the rest
/// with their total share.
fn conditions(s: &mut String, list: &[analyze::Condition], top: usize) {
    for c in list.iter().take(top) {
        let _ = writeln!(s, "  {:>8}  {}", pct(c.share), c.condition);
    }
    if list.len() > top {
        let rest: f64 = list.iter().skip(top).map(|c| c.share).sum();
        let _ = writeln!(
            s,
            "  … {} more conditions (together {}; they may overlap); all are in --format json (--top N shows more)",
            list.len() - top,
            pct(rest)
        );
    }
}

pub fn human(a: &Analysis, top: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "policy {} — graph: {} nodes, {} terminals, depth {}",
        a.policy, a.graph.nodes, a.graph.terminals, a.graph.depth
    );
    let measure = match a.measure {
        analyze::MeasureKind::Uniform => "every fact value equally likely",
        analyze::MeasureKind::Model => "weighted by the model's population",
    };
    let _ = writeln!(
        s,
        "\nshares of the profile space ({measure}):\n  allow {}   deny {}   lockout {}\n  among profiles not denied: allow {}   lockout {}",
        pct(a.shares.allow),
        pct(a.shares.deny),
        pct(a.shares.lockout),
        pct(a.not_denied.allow),
        pct(a.not_denied.lockout),
    );
    for (name, seg) in &a.segments.0 {
        let _ = writeln!(
            s,
            "  segment {name}: allow {}   deny {}   lockout {}",
            pct(seg.shares.allow),
            pct(seg.shares.deny),
            pct(seg.shares.lockout)
        );
    }
    if a.lockout.conditions.is_empty() {
        let _ = writeln!(
            s,
            "\nno lockout: every profile that is not denied has a way back in"
        );
    } else {
        let _ = writeln!(
            s,
            "\nLOCKOUT — {} of profiles have no way back in; they are exactly those where one of these holds:",
            pct(a.lockout.share),
        );
        conditions(&mut s, &a.lockout.conditions, top);
    }
    let _ = writeln!(s, "\npaths — available / offered first:");
    for (name, p) in &a.paths.0 {
        let _ = writeln!(
            s,
            "  {name}: {} / {}\n      available when {}",
            pct(p.available.share),
            pct(p.first.share),
            p.available.condition
        );
        if p.first.condition != p.available.condition {
            let alternatives = p.first.condition.matches(") or (").count() + 1;
            if alternatives > 4 {
                let _ = writeln!(
                    s,
                    "      first when one of {alternatives} conditions (all in --format json)"
                );
            } else {
                let _ = writeln!(s, "      first when {}", p.first.condition);
            }
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
            if let Some(ack) = &f.acknowledged {
                let by = match ack.by {
                    analyze::ack::AckSource::Comment => "in the policy",
                    analyze::ack::AckSource::Baseline => "in the baseline",
                };
                let _ = writeln!(s, "      acknowledged {by}: {}", ack.reason);
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
    let mut analysis = match &a.model {
        Some(path) => match model_measure(&engine, path) {
            Ok(m) => analyze::analyze_with(&engine, &m),
            Err(code) => return code,
        },
        None => analyze::analyze(&engine),
    };
    if let Some(path) = &a.baseline {
        let text = match super::read(path) {
            Ok(t) => t,
            Err(e) => {
                return super::fail(EXIT_BAD_INPUT, e);
            }
        };
        match serde_json::from_str::<analyze::ack::Baseline>(&text) {
            Ok(b) => b.apply(&mut analysis.findings),
            Err(e) => {
                return super::fail(EXIT_BAD_INPUT, format!("{}:{}:{}: not a regain baseline: {e}\n  help: write one with `regain analyze POLICY --write-baseline FILE`",
                    path.display(),
                    e.line(),
                    e.column()));
            }
        }
    }
    if let Some(path) = &a.write_baseline {
        let b = analyze::ack::Baseline::of(&analysis.findings);
        let text = serde_json::to_string_pretty(&b).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            return super::fail(
                EXIT_BAD_INPUT,
                format!("cannot write `{}`: {e}", path.display()),
            );
        }
        b.apply(&mut analysis.findings);
    }
    match a.format {
        Format::Json => match serde_json::to_string_pretty(&analysis) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                return super::fail(EXIT_BAD_INPUT, e);
            }
        },
        Format::Human => print!("{}", human(&analysis, a.top)),
    }
    if let Some(out) = &a.report {
        if let Err(code) = super::report::analysis(out, &analysis, engine.policy(), &a.policy) {
            return code;
        }
    }
    if a.deny_warnings && analyze::ack::unacknowledged(&analysis.findings) {
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
    /// How many regions the human output lists, largest first (all are in the JSON).
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Also write a self-contained HTML report with charts to FILE.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

fn side(s: &diff::Side) -> String {
    match s.decision {
        DecisionKind::Allow => format!("allow [{}]", s.path_names().join(", ")),
        DecisionKind::Deny => format!("deny [{}]", s.denied_by.join("; ")),
        DecisionKind::Lockout => "lockout".into(),
    }
}

fn wait(s: u64) -> String {
    diff::wait_text(s)
}

/// What changed inside the paths both sides offer, one line each.
fn path_details(r: &diff::DiffRegion) -> Vec<String> {
    let mut out = Vec::new();
    for o in &r.old.paths {
        let Some(n) = r.new.paths.iter().find(|n| n.name() == o.name()) else {
            continue;
        };
        let mut parts = Vec::new();
        if o.wait_s() != n.wait_s() {
            parts.push(format!("wait {} → {}", wait(o.wait_s()), wait(n.wait_s())));
        }
        if o.grants() != n.grants() {
            parts.push(format!("grants {} → {}", o.grants(), n.grants()));
        }
        if o.notify() != n.notify() {
            let t = |v: &[String]| {
                if v.is_empty() {
                    "none".to_string()
                } else {
                    v.join(", ")
                }
            };
            parts.push(format!("notify {} → {}", t(o.notify()), t(n.notify())));
        }
        if o.steps() != n.steps() {
            let t = |v: &[Vec<String>]| {
                v.iter()
                    .map(|s| format!("[{}]", s.join(", ")))
                    .collect::<Vec<_>>()
                    .join(" then ")
            };
            parts.push(format!("usable {} → {}", t(o.steps()), t(n.steps())));
        }
        if !parts.is_empty() {
            out.push(format!("{}: {}", o.name(), parts.join("; ")));
        }
    }
    out
}

fn diff_human(d: &diff::Diff, top: usize) -> String {
    let mut s = String::new();
    let sm = &d.summary;
    if d.equivalent {
        let _ = writeln!(s, "equivalent: every profile gets the same decision");
    } else if d.regions.is_empty() {
        let _ = writeln!(
            s,
            "NOT equivalent: no decision moves, but a method's factor or `restricted` changed"
        );
    } else {
        let _ = writeln!(
            s,
            "NOT equivalent: {} of profiles are decided differently, in {} region{}",
            pct(d.share),
            d.regions.len(),
            if d.regions.len() == 1 { "" } else { "s" }
        );
    }
    if !d.added_facts.is_empty() {
        let _ = writeln!(
            s,
            "facts added: {} (free in the old version)",
            d.added_facts.join(", ")
        );
    }
    if !d.removed_facts.is_empty() {
        let _ = writeln!(
            s,
            "facts removed: {} (free in the new version)",
            d.removed_facts.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "\nlockout {} → {}   deny {} → {}",
        pct(sm.lockout.old),
        pct(sm.lockout.new),
        pct(sm.deny.old),
        pct(sm.deny.new)
    );
    if !sm.lockout.newly_locked_out.is_empty() {
        let _ = writeln!(
            s,
            "NEWLY LOCKED OUT — profiles that had a way in and now have none:"
        );
        conditions(&mut s, &sm.lockout.newly_locked_out, top);
    }
    let moved: Vec<&diff::PathChange> = sm
        .paths
        .iter()
        .filter(|p| p.available.old != p.available.new || p.first.old != p.first.new)
        .collect();
    if !moved.is_empty() {
        let _ = writeln!(s, "\npaths — available (first) old → new:");
        for p in moved {
            let _ = writeln!(
                s,
                "  {}: {} ({}) → {} ({})",
                p.name,
                pct(p.available.old),
                pct(p.first.old),
                pct(p.available.new),
                pct(p.first.new)
            );
        }
    }
    if !sm.groups.is_empty() {
        let _ = writeln!(s, "\nchanges of decisions, by kind:");
        for g in &sm.groups {
            let _ = writeln!(
                s,
                "  {:<15} {:>8} in {} region{}\n      when {}",
                g.kind.label(),
                pct(g.share),
                g.regions,
                if g.regions == 1 { "" } else { "s" },
                g.condition
            );
        }
    }
    if !d.regions.is_empty() {
        let _ = writeln!(s, "\nregions, largest first:");
        for r in d.regions.iter().take(top) {
            let kinds: Vec<&str> = r.kinds.iter().map(|k| k.label()).collect();
            let _ = writeln!(
                s,
                "  {:>8}  {}  →  {}   ({})",
                pct(r.share),
                side(&r.old),
                side(&r.new),
                kinds.join(", ")
            );
            for line in path_details(r) {
                let _ = writeln!(s, "            {line}");
            }
            let _ = writeln!(s, "            when {}", r.condition);
        }
        if d.regions.len() > top {
            let rest: f64 = d.regions.iter().skip(top).map(|r| r.share).sum();
            let _ = writeln!(
                s,
                "  … {} more regions ({}); all are in --format json (--top N shows more)",
                d.regions.len() - top,
                pct(rest)
            );
        }
        if d.truncated {
            let _ = writeln!(
                s,
                "  … more regions than can be written out; shares above are exact"
            );
        }
    }
    if !d.changes.is_empty() {
        let _ = writeln!(s, "\npolicy changes:");
        for c in &d.changes {
            let old = c.old.as_deref().unwrap_or("—");
            let new = c.new.as_deref().unwrap_or("—");
            let at = c
                .new_location
                .as_deref()
                .or(c.old_location.as_deref())
                .unwrap_or("");
            let _ = writeln!(
                s,
                "  {} `{}`: {} → {}{}   ({at})",
                c.what,
                c.item,
                old,
                new,
                if c.material {
                    "  [changes what the method is]"
                } else {
                    ""
                }
            );
        }
    }
    s
}

/// Exit codes of `diff` (DESIGN.md): 0 equivalent, 1 different, 2 error.
pub fn run_diff(a: DiffArgs) -> i32 {
    const ERROR: i32 = 2;
    let (old, new) = (load_policy(&a.old), load_policy(&a.new));
    let (Ok(old), Ok(new)) = (old, new) else {
        return ERROR;
    };
    let d = match diff::diff(&old, &new, regain::CompileOptions::default()) {
        Ok(d) => d,
        Err(e) => return super::fail(ERROR, e),
    };
    match a.format {
        Format::Json => match serde_json::to_string_pretty(&d) {
            Ok(j) => println!("{j}"),
            Err(e) => return super::fail(ERROR, e),
        },
        Format::Human => print!("{}", diff_human(&d, a.top)),
    }
    if let Some(out) = &a.report {
        if super::report::diff(out, &d, &a.old, &a.new).is_err() {
            return ERROR;
        }
    }
    if d.equivalent {
        EXIT_OK
    } else {
        1
    }
}
