//! `regain test SUITE...` — QA scenario suites.
//!
//! Exit codes: 0 every case passes; 1 a case fails or coverage is below
//! `--coverage-threshold`; 2 a suite is broken (invalid YAML, unknown keys, facts,
//! paths, methods or deny reasons, an empty `expect`, duplicate case names, a policy
//! that does not check, a `--filter` that matches no case); 66 a suite or the policy it
//! names (or the `--generate` policy) cannot be read; 64 a usage error.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use regain::check::ir::Ir;
use regain::suite::{self, CaseResult, Coverage, SiblingDiff, Suite, SuiteErrors};
use serde_json::{json, Value};

use super::{render, Format, EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE};

/// Arguments of `regain test`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Suite files (YAML).
    #[arg(required_unless_present = "generate")]
    suites: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Run only the cases whose name contains TEXT (an error when none does).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Report which paths, deny rules and graph terminals the suites reached, and a case
    /// to paste for each of the largest unreached terminals.
    #[arg(long)]
    coverage: bool,
    /// With --coverage: describe at most N unreached terminals (the largest first).
    #[arg(long, value_name = "N", default_value_t = 20, requires = "coverage")]
    top: usize,
    /// Fail when fewer than PCT% of the graph's terminals are reached.
    #[arg(long, value_name = "PCT")]
    coverage_threshold: Option<f64>,
    /// Print a suite for POLICY that reaches every terminal, expecting today's decisions.
    #[arg(long, value_name = "POLICY", conflicts_with_all = ["suites", "junit", "coverage", "filter", "coverage_threshold"])]
    generate: Option<PathBuf>,
    /// With --generate: write the suite to FILE (the policy path in it is relative to
    /// FILE's directory; on stdout it is relative to the current directory).
    #[arg(long, value_name = "FILE", requires = "generate")]
    output: Option<PathBuf>,
}

/// A broken suite (bad YAML, unknown fact, a policy that does not check, …).
const EXIT_BROKEN: i32 = 2;
/// A named file cannot be read.
const EXIT_UNREADABLE: i32 = 66;

const SCHEMA: &str = "regain.test/1";

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `target` relative to directory `base` (both absolute), with `/` separators.
fn relative(target: &Path, base: &Path) -> String {
    let t: Vec<Component<'_>> = target.components().collect();
    let b: Vec<Component<'_>> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        // Nothing in common (another drive): the absolute path.
        return target.display().to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    for _ in common..b.len() {
        parts.push("..".into());
    }
    for c in t.iter().skip(common) {
        parts.push(c.as_os_str().to_string_lossy().into_owned());
    }
    parts.join("/")
}

fn generate(policy: &Path, output: Option<&Path>) -> i32 {
    let src = match super::read(policy) {
        Ok(s) => s,
        Err(e) => {
            return super::fail(EXIT_UNREADABLE, e);
        }
    };
    let parsed = match regain::Policy::parse_named(&policy.display().to_string(), &src) {
        Ok(p) => p,
        Err(d) => {
            render::diagnostics(&d);
            return EXIT_BAD_INPUT;
        }
    };
    let engine = match regain::Engine::new(&parsed) {
        Ok(e) => e,
        Err(e) => {
            return super::fail(EXIT_BAD_INPUT, format!("{}: {e}", policy.display()));
        }
    };
    // Where the suite will live: the output file's directory, or the current one.
    let dir = match output {
        Some(o) => match o.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
        None => PathBuf::from("."),
    };
    let rel = match (policy.canonicalize(), dir.canonicalize()) {
        (Ok(p), Ok(d)) => relative(&p, &d),
        (_, Err(e)) => {
            return super::fail(
                EXIT_BAD_INPUT,
                format!("cannot write into `{}`: {e}", dir.display()),
            );
        }
        (Err(e), _) => {
            return super::fail(
                EXIT_UNREADABLE,
                format!("cannot read `{}`: {e}", policy.display()),
            );
        }
    };
    let text = suite::generate(&engine, &rel);
    match output {
        Some(o) => {
            if let Err(e) = std::fs::write(o, &text) {
                return super::fail(
                    EXIT_BAD_INPUT,
                    format!("cannot write `{}`: {e}", o.display()),
                );
            }
        }
        None => print!("{text}"),
    }
    EXIT_OK
}

fn share(x: f64) -> String {
    let pct = 100.0 * x;
    if pct >= 0.1 || pct == 0.0 {
        format!("{pct:.1}%")
    } else {
        format!("{pct:.1e}%")
    }
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

fn deny_line(ir: &Ir, source: &str, i: usize) -> usize {
    ir.denies
        .get(i)
        .map_or(0, |d| regain::source::line_col(source, d.span.start).line)
}

fn sibling_text(ir: &Ir, source: &str, s: &suite::Sibling) -> String {
    let whom = match &s.reached_by {
        Some(c) => format!("terminal {} (reached by `{c}`)", s.terminal),
        None => format!("terminal {} (not reached either)", s.terminal),
    };
    match &s.diff {
        SiblingDiff::Methods(steps) => {
            let parts: Vec<String> = steps
                .iter()
                .map(|d| {
                    format!(
                        "{} step {} has {} here, {} there",
                        ir.paths
                            .get(d.path.index())
                            .map_or("?", |p| p.name.as_str()),
                        d.step + 1,
                        list(&d.here),
                        list(&d.there)
                    )
                })
                .collect();
            format!(
                "differs from {whom} only in usable methods: {}",
                parts.join("; ")
            )
        }
        SiblingDiff::DenyRules { here, there } => {
            let lines = |v: &[regain::check::ir::DenyId]| {
                let l: Vec<String> = v
                    .iter()
                    .map(|d| deny_line(ir, source, d.index()).to_string())
                    .collect();
                let word = if l.len() == 1 { "line" } else { "lines" };
                format!("{word} {}", l.join(", "))
            };
            format!(
                "differs from {whom} only in which deny rules hold: {} here, {} there",
                lines(here),
                lines(there)
            )
        }
    }
}

fn coverage_human(out: &mut String, ir: &Ir, source: &str, c: &Coverage, top: usize) {
    let _ = writeln!(
        out,
        "coverage: paths {}/{}, deny rules {}/{}, graph terminals {}/{} ({:.1}%)",
        c.paths.0, c.paths.1, c.denies.0, c.denies.1, c.terminals.0, c.terminals.1, c.terminal_pct
    );
    for p in &c.missed_paths {
        let name = ir.paths.get(p.index()).map_or("?", |x| x.name.as_str());
        let _ = writeln!(out, "  path never offered: {name}");
    }
    for d in &c.missed_denies {
        let reason = ir.denies.get(d.index()).map_or("?", |x| x.reason.as_str());
        let _ = writeln!(
            out,
            "  deny rule never fired: \"{reason}\" (line {})",
            deny_line(ir, source, d.index())
        );
    }
    if c.unreached == 0 {
        return;
    }
    let terminals = if c.unreached == 1 {
        "terminal"
    } else {
        "terminals"
    };
    if c.missed.is_empty() {
        let _ = writeln!(
            out,
            "  {} {terminals} not reached (--coverage --top N describes the N largest)",
            c.unreached
        );
        return;
    }
    if c.missed.len() < c.unreached {
        let largest = match c.missed.len() {
            1 => "the largest".to_string(),
            n => format!("the {n} largest"),
        };
        let _ = writeln!(
            out,
            "  {} {terminals} not reached; {largest} (--top {top}):",
            c.unreached
        );
    } else {
        let _ = writeln!(out, "  {} {terminals} not reached:", c.unreached);
    }
    for m in &c.missed {
        let _ = writeln!(
            out,
            "  not reached: {} ({} of profiles)",
            suite::decision_name(&m.decision),
            share(m.share)
        );
        match &m.condition {
            Some(cond) => {
                let _ = writeln!(out, "      when {cond}");
            }
            None => {
                let _ = writeln!(out, "      (no profile found for it)");
            }
        }
        if let Some(s) = &m.sibling {
            let _ = writeln!(out, "      {}", sibling_text(ir, source, s));
        }
        if let Some(case) = &m.case {
            let _ = writeln!(out, "      a case that reaches it:");
            for l in case.lines() {
                let _ = writeln!(out, "      {l}");
            }
        }
    }
}

fn profile_json(ir: &Ir, p: &[(regain::check::ir::FactId, i64)]) -> Value {
    let mut m = serde_json::Map::new();
    for (f, v) in p {
        let Some(fact) = ir.facts.get(f.index()) else {
            continue;
        };
        let val = match fact.ty {
            regain::check::ir::FactType::Bool => json!(*v != 0),
            regain::check::ir::FactType::Int { .. } => json!(v),
            regain::check::ir::FactType::Enum(_) => json!(fact.show(*v)),
        };
        m.insert(fact.name.clone(), val);
    }
    Value::Object(m)
}

fn coverage_json(ir: &Ir, source: &str, c: &Coverage) -> Value {
    json!({
        "paths": [c.paths.0, c.paths.1],
        "denies": [c.denies.0, c.denies.1],
        "terminals": [c.terminals.0, c.terminals.1],
        "terminal_pct": c.terminal_pct,
        "missed_paths": c.missed_paths.iter()
            .map(|p| ir.paths.get(p.index()).map_or("?", |x| x.name.as_str()))
            .collect::<Vec<_>>(),
        "missed_denies": c.missed_denies.iter().map(|d| json!({
            "rule": d.index(),
            "reason": ir.denies.get(d.index()).map_or("?", |x| x.reason.as_str()),
            "line": deny_line(ir, source, d.index()),
        })).collect::<Vec<_>>(),
        "unreached": c.unreached,
        "missed_terminals": c.missed.iter().map(|m| json!({
            "terminal": m.terminal,
            "name": suite::decision_name(&m.decision),
            "decision": m.decision,
            "share": m.share,
            "when": m.condition,
            "profile": m.profile.as_ref().map(|p| profile_json(ir, p)),
            "case": m.case,
            "differs_only_from": m.sibling.as_ref().map(|s| json!({
                "terminal": s.terminal,
                "reached_by": s.reached_by,
                "message": sibling_text(ir, source, s),
            })),
        })).collect::<Vec<_>>(),
    })
}

fn case_json(ir: &Ir, file: &str, r: &CaseResult) -> Value {
    json!({
        "name": r.name,
        "location": format!("{file}:{}", r.line),
        "line": r.line,
        "passed": r.passed(),
        "failures": r.failures.iter().map(|f| json!({
            "expectation": f.key(),
            "message": f.message(ir),
        })).collect::<Vec<_>>(),
        "actual": r.actual,
        "explain": r.explain,
        "terminal": r.terminal,
    })
}

fn report_errors(errors: &[SuiteErrors], format: Format) -> i32 {
    for e in errors.iter().flat_map(|e| &e.0) {
        eprintln!("error: {e}");
    }
    let n: usize = errors.iter().map(|e| e.0.len()).sum();
    if format == Format::Json {
        let diags: Vec<&suite::SuiteError> = errors.iter().flat_map(|e| &e.0).collect();
        println!(
            "{}",
            json!({
                "schema": SCHEMA,
                "error": format!("{n} problem{} in the suites: nothing was run", if n == 1 { "" } else { "s" }),
                "diagnostics": diags,
            })
        );
    }
    if errors.iter().any(SuiteErrors::unreadable) {
        EXIT_UNREADABLE
    } else {
        EXIT_BROKEN
    }
}

pub fn run(a: Args) -> i32 {
    if let Some(p) = &a.generate {
        return generate(p, a.output.as_deref());
    }
    if a.output.is_some() {
        return super::fail(
            EXIT_USAGE,
            "--output is for --generate; write test results with --junit FILE",
        );
    }
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for path in &a.suites {
        match Suite::load(path) {
            Ok(s) => loaded.push(s),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return report_errors(&errors, a.format);
    }
    let runs: Vec<(&Suite, Vec<CaseResult>)> = loaded
        .iter()
        .map(|s| (s, s.run(a.filter.as_deref())))
        .collect();
    if let Some(f) = &a.filter {
        if runs.iter().all(|(_, r)| r.is_empty()) {
            let total: usize = loaded.iter().map(|s| s.cases.len()).sum();
            let msg =
                format!("--filter `{f}` matches none of the {total} case names: nothing was run");
            eprintln!("error: {msg}");
            if a.format == Format::Json {
                println!(
                    "{}",
                    json!({"schema": SCHEMA, "error": msg, "diagnostics": []})
                );
            }
            return EXIT_BROKEN;
        }
    }
    let want_cov = a.coverage || a.coverage_threshold.is_some();
    let mut all_ok = true;
    let mut below_threshold = false;
    let mut json_suites = Vec::new();
    let mut junit = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    let mut human = String::new();
    let (mut total_passed, mut total_failed) = (0usize, 0usize);
    for (s, results) in &runs {
        let ir = s.engine.policy().ir();
        let source = s.engine.policy().source();
        let file = s.file.display().to_string();
        let failed = results.iter().filter(|r| !r.passed()).count();
        let passed = results.len() - failed;
        total_passed += passed;
        total_failed += failed;
        all_ok &= failed == 0;
        let _ = writeln!(
            junit,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">",
            xml(&file),
            results.len()
        );
        for r in results {
            let _ = write!(
                junit,
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml(&r.name),
                xml(&file)
            );
            if r.passed() {
                junit.push_str("/>\n");
            } else {
                let msgs: Vec<String> = r.failures.iter().map(|f| f.message(ir)).collect();
                let _ = writeln!(
                    junit,
                    ">\n      <failure message=\"{}\">{}:{}\n{}</failure>\n    </testcase>",
                    xml(&msgs.join("; ")),
                    xml(&file),
                    r.line,
                    xml(&r
                        .explain
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_default())
                );
            }
        }
        junit.push_str("  </testsuite>\n");
        let cov = want_cov.then(|| suite::coverage(s, results, if a.coverage { a.top } else { 0 }));
        if let (Some(t), Some(c)) = (a.coverage_threshold, &cov) {
            if c.terminal_pct + 1e-9 < t {
                below_threshold = true;
            }
        }
        match a.format {
            Format::Json => json_suites.push(json!({
                "suite": file,
                "policy": s.policy_file.display().to_string(),
                "passed": passed,
                "failed": failed,
                "cases": results.iter().map(|r| case_json(ir, &file, r)).collect::<Vec<_>>(),
                "coverage": cov.as_ref().map(|c| coverage_json(ir, source, c)),
            })),
            Format::Human => {
                for r in results {
                    if r.passed() {
                        let _ = writeln!(human, "ok    {}", r.name);
                        continue;
                    }
                    let _ = writeln!(human, "FAIL  {}  ({file}:{})", r.name, r.line);
                    for f in &r.failures {
                        let _ = writeln!(human, "        {}", f.message(ir));
                    }
                    if let Some(e) = &r.explain {
                        let _ = writeln!(human, "      why:");
                        for l in e.to_string().lines() {
                            let _ = writeln!(human, "      {l}");
                        }
                    }
                }
                let _ = writeln!(human, "{file}: {passed} passed, {failed} failed");
                if let Some(c) = &cov {
                    coverage_human(&mut human, ir, source, c, a.top);
                }
            }
        }
    }
    junit.push_str("</testsuites>\n");
    if let Some(j) = &a.junit {
        if let Err(e) = std::fs::write(j, &junit) {
            return super::fail(
                EXIT_BAD_INPUT,
                format!("cannot write `{}`: {e}", j.display()),
            );
        }
    }
    match a.format {
        Format::Json => println!(
            "{}",
            json!({
                "schema": SCHEMA,
                "passed": total_passed,
                "failed": total_failed,
                "suites": json_suites,
            })
        ),
        Format::Human => print!("{human}"),
    }
    if below_threshold {
        if let Some(t) = a.coverage_threshold {
            eprintln!("error: terminal coverage is below the threshold of {t}%");
        }
        return EXIT_BAD_INPUT;
    }
    if all_ok {
        EXIT_OK
    } else {
        EXIT_BAD_INPUT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let r = |t: &str, b: &str| relative(Path::new(t), Path::new(b));
        assert_eq!(r("/a/b/p.regain", "/a/b"), "p.regain");
        assert_eq!(r("/a/b/p.regain", "/a/c/d"), "../../b/p.regain");
        assert_eq!(r("/a/p.regain", "/a/b"), "../p.regain");
        assert_eq!(r("/a/b/c/p.regain", "/a"), "b/c/p.regain");
    }
}
