//! Scenario suites (DESIGN.md "Scenario suites"): YAML files of cases with expected
//! decisions, run against the compiled policy, with coverage of paths, deny rules and
//! graph terminals.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use crate::analyze::regions::View;
use crate::decision::{Decision, DecisionKind};
use crate::explain::explain;
use crate::profile::{self, Node};
use crate::{Engine, Policy};

/// What a case expects.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// allow / deny / lockout.
    pub decision: Option<DecisionKind>,
    /// Exact path names, in order.
    pub paths: Option<Vec<String>>,
    /// Paths that must be offered.
    pub includes: Vec<String>,
    /// Paths that must not be offered.
    pub excludes: Vec<String>,
    /// Exact deny reasons, in order.
    pub denied_by: Option<Vec<String>>,
}

/// One case, with its merged, validated profile.
#[derive(Clone, Debug)]
pub struct Case {
    /// The case's name.
    pub name: String,
    /// 1-based line of the case in the suite file.
    pub line: usize,
    /// Dense values.
    pub values: Vec<i64>,
    /// What it expects.
    pub expect: Expect,
}

/// A loaded suite.
#[derive(Debug)]
pub struct Suite {
    /// The suite file.
    pub file: PathBuf,
    /// The policy file it names.
    pub policy_file: PathBuf,
    /// The compiled policy.
    pub engine: Engine,
    /// The cases.
    pub cases: Vec<Case>,
}

/// Why a suite could not be run (exit 2).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct SuiteError {
    /// `file` or `file:line`.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

/// The result of one case.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// `file:line`.
    pub location: String,
    /// Passed?
    pub passed: bool,
    /// What differed (empty when passed).
    pub failures: Vec<String>,
    /// The actual decision.
    pub actual: Decision,
    /// Why each path is (not) available, for failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<String>,
    /// The graph terminal the case reached.
    #[serde(skip)]
    pub terminal: usize,
}

fn serr(location: impl Into<String>, message: impl Into<String>) -> SuiteError {
    SuiteError {
        location: location.into(),
        message: message.into(),
    }
}

/// Lines where `- name:` cases start, in order (best effort, for locations).
fn case_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            t.starts_with("- name:") || t.starts_with("- {name:") || t.starts_with("- { name:")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn strings(v: &Value, loc: &str) -> Result<Vec<String>, SuiteError> {
    let seq = v
        .as_sequence()
        .ok_or_else(|| serr(loc, "expected a list of names"))?;
    seq.iter()
        .map(|x| {
            x.as_str()
                .map(str::to_string)
                .ok_or_else(|| serr(loc, "expected a list of names"))
        })
        .collect()
}

fn flat(policy: &Policy, v: Option<&Value>, loc: &str) -> Result<Vec<(String, Node)>, SuiteError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let node: Node = serde_yaml::from_value(v.clone())
        .map_err(|e| serr(loc, format!("invalid profile: {e}")))?;
    if node == Node::Null {
        return Ok(Vec::new());
    }
    let entries = profile::flatten(policy.ir(), &node).map_err(|e| serr(loc, e.message))?;
    let mut out: Vec<(String, Node)> = Vec::new();
    for (k, n) in entries {
        if out.iter().any(|(x, _)| *x == k) {
            return Err(serr(
                loc,
                format!("fact `{k}` is given twice (nested and dotted keys name the same fact)"),
            ));
        }
        out.push((k, n.clone()));
    }
    Ok(out)
}

impl Suite {
    /// Load a suite file; the policy path is relative to the suite.
    pub fn load(path: &Path) -> Result<Suite, SuiteError> {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| serr(&file, format!("cannot read: {e}")))?;
        let doc: Value =
            serde_yaml::from_str(&text).map_err(|e| serr(&file, format!("invalid YAML: {e}")))?;
        let top = doc
            .as_mapping()
            .ok_or_else(|| serr(&file, "a suite is a mapping with `policy` and `cases`"))?;
        for k in top.keys() {
            let k = k.as_str().unwrap_or("?");
            if !["policy", "base", "cases"].contains(&k) {
                return Err(serr(
                    &file,
                    format!("unknown key `{k}` (expected policy, base, cases)"),
                ));
            }
        }
        let get = |m: &Mapping, k: &str| m.get(Value::String(k.into())).cloned();
        let policy_rel = get(top, "policy")
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| serr(&file, "missing `policy: FILE.regain`"))?;
        let policy_file = path.parent().unwrap_or(Path::new(".")).join(&policy_rel);
        let src = std::fs::read_to_string(&policy_file).map_err(|e| {
            serr(
                &file,
                format!("cannot read policy `{}`: {e}", policy_file.display()),
            )
        })?;
        let policy =
            Policy::parse_named(&policy_file.display().to_string(), &src).map_err(|d| {
                serr(
                    &file,
                    format!("policy `{}` does not check:\n{d}", policy_file.display()),
                )
            })?;
        let engine = Engine::new(&policy).map_err(|e| serr(&file, e.to_string()))?;
        let base = flat(&policy, get(top, "base").as_ref(), &format!("{file}: base"))?;
        let cases_v = get(top, "cases").ok_or_else(|| serr(&file, "missing `cases`"))?;
        let seq = cases_v
            .as_sequence()
            .ok_or_else(|| serr(&file, "`cases` must be a list"))?;
        let lines = case_lines(&text);
        let mut cases = Vec::new();
        for (i, c) in seq.iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(1);
            let loc = format!("{file}:{line}");
            let m = c
                .as_mapping()
                .ok_or_else(|| serr(&loc, "a case is a mapping with name, profile, expect"))?;
            for k in m.keys() {
                let k = k.as_str().unwrap_or("?");
                if !["name", "profile", "expect"].contains(&k) {
                    return Err(serr(
                        &loc,
                        format!("unknown key `{k}` in a case (expected name, profile, expect)"),
                    ));
                }
            }
            let name = get(m, "name")
                .and_then(|v| v.as_str().map(str::to_string))
                .ok_or_else(|| serr(&loc, "a case needs a `name`"))?;
            let own = flat(&policy, get(m, "profile").as_ref(), &loc)?;
            // Base first, then the case's facts replace the base's.
            let mut merged: Vec<(String, Node)> = base
                .iter()
                .filter(|(k, _)| !own.iter().any(|(o, _)| o == k))
                .cloned()
                .collect();
            merged.extend(own);
            let refs: Vec<(String, &Node)> = merged.iter().map(|(k, v)| (k.clone(), v)).collect();
            let values = profile::values_from_entries(policy.ir(), &refs)
                .map_err(|e| serr(&loc, format!("case `{name}`: {}", e.message)))?;
            let ev = get(m, "expect")
                .ok_or_else(|| serr(&loc, format!("case `{name}` has no `expect`")))?;
            let em = ev
                .as_mapping()
                .ok_or_else(|| serr(&loc, "`expect` is a mapping"))?;
            let mut expect = Expect::default();
            for (k, v) in em {
                let k = k.as_str().unwrap_or("?");
                let names_ok = |names: &[String]| -> Result<(), SuiteError> {
                    for n in names {
                        if policy.ir().path_id(n).is_none() {
                            let help = crate::diagnostic::suggestion(
                                n,
                                policy.ir().paths.iter().map(|p| p.name.as_str()),
                            )
                            .map(|h| format!("; {h}"))
                            .unwrap_or_default();
                            return Err(serr(
                                &loc,
                                format!("case `{name}`: the policy has no path `{n}`{help}"),
                            ));
                        }
                    }
                    Ok(())
                };
                match k {
                    "decision" => {
                        expect.decision = Some(match v.as_str() {
                            Some("allow") => DecisionKind::Allow,
                            Some("deny") => DecisionKind::Deny,
                            Some("lockout") => DecisionKind::Lockout,
                            _ => return Err(serr(&loc, "`decision` is allow, deny or lockout")),
                        })
                    }
                    "paths" => {
                        let p = strings(v, &loc)?;
                        names_ok(&p)?;
                        expect.paths = Some(p);
                    }
                    "includes" => {
                        expect.includes = strings(v, &loc)?;
                        names_ok(&expect.includes)?;
                    }
                    "excludes" => {
                        expect.excludes = strings(v, &loc)?;
                        names_ok(&expect.excludes)?;
                    }
                    "denied_by" => expect.denied_by = Some(strings(v, &loc)?),
                    other => {
                        return Err(serr(
                            &loc,
                            format!("unknown expectation `{other}` (expected decision, paths, includes, excludes, denied_by)"),
                        ))
                    }
                }
            }
            cases.push(Case {
                name,
                line,
                values,
                expect,
            });
        }
        Ok(Suite {
            file: path.to_path_buf(),
            policy_file,
            engine,
            cases,
        })
    }

    /// Run the cases whose name contains `filter`.
    pub fn run(&self, filter: Option<&str>) -> Vec<CaseResult> {
        let file = self.file.display().to_string();
        self.cases
            .iter()
            .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
            .map(|c| {
                let terminal = self.engine.terminal_of(&c.values).unwrap_or(0);
                let actual = self
                    .engine
                    .graph()
                    .decisions()
                    .get(terminal)
                    .cloned()
                    .unwrap_or_else(Decision::fail_closed);
                let names: Vec<String> =
                    actual.path_names().iter().map(|s| s.to_string()).collect();
                let mut failures = Vec::new();
                let show = |v: &[String]| format!("[{}]", v.join(", "));
                if let Some(k) = c.expect.decision {
                    if k != actual.kind() {
                        failures.push(format!(
                            "decision: expected {}, got {}",
                            k.as_str(),
                            actual.kind().as_str()
                        ));
                    }
                }
                if let Some(p) = &c.expect.paths {
                    if *p != names {
                        failures.push(format!("paths: expected {}, got {}", show(p), show(&names)));
                    }
                }
                for p in &c.expect.includes {
                    if !names.contains(p) {
                        failures.push(format!(
                            "includes: `{p}` is not offered (offered: {})",
                            show(&names)
                        ));
                    }
                }
                for p in &c.expect.excludes {
                    if names.contains(p) {
                        failures.push(format!("excludes: `{p}` is offered"));
                    }
                }
                if let Some(d) = &c.expect.denied_by {
                    if d.as_slice() != actual.denied_by() {
                        failures.push(format!(
                            "denied_by: expected {}, got {}",
                            show(d),
                            show(actual.denied_by())
                        ));
                    }
                }
                let passed = failures.is_empty();
                let explain =
                    (!passed).then(|| explain(self.engine.policy(), &c.values).to_string());
                CaseResult {
                    name: c.name.clone(),
                    location: format!("{file}:{}", c.line),
                    passed,
                    failures,
                    actual,
                    explain,
                    terminal,
                }
            })
            .collect()
    }
}

/// What a suite run reached.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Coverage {
    /// Paths offered in some case / all paths.
    pub paths: (usize, usize),
    /// Deny rules that fired in some case / all rules.
    pub denies: (usize, usize),
    /// Graph terminals reached / all terminals.
    pub terminals: (usize, usize),
    /// Percentage of terminals reached.
    pub terminal_pct: f64,
    /// Paths never offered.
    pub missed_paths: Vec<String>,
    /// Deny reasons never given.
    pub missed_denies: Vec<String>,
    /// Unreached terminals: the decision and a condition that reaches it.
    pub missed_regions: Vec<(String, String)>,
}

/// Coverage of a run over its suite's graph.
pub fn coverage(suite: &Suite, results: &[CaseResult]) -> Coverage {
    let ir = suite.engine.policy().ir();
    let decisions = suite.engine.graph().decisions();
    let mut reached = vec![false; decisions.len()];
    for r in results {
        if let Some(x) = reached.get_mut(r.terminal) {
            *x = true;
        }
    }
    let offered = |p: &str| results.iter().any(|r| r.actual.path_names().contains(&p));
    let fired = |d: &str| {
        results
            .iter()
            .any(|r| r.actual.denied_by().iter().any(|x| x == d))
    };
    let missed_paths: Vec<String> = ir
        .paths
        .iter()
        .filter(|p| !offered(&p.name))
        .map(|p| p.name.clone())
        .collect();
    let missed_denies: Vec<String> = ir
        .denies
        .iter()
        .filter(|d| !fired(&d.reason))
        .map(|d| d.reason.clone())
        .collect();
    let v: View<'_> = crate::analyze::view(&suite.engine);
    let mut missed_regions = Vec::new();
    for (t, hit) in reached.iter().enumerate() {
        if *hit {
            continue;
        }
        let cond = v
            .cover(&|x| x as usize == t, 64)
            .and_then(|cubes| {
                cubes
                    .into_iter()
                    .max_by(|a, b| v.cube_share(a).total_cmp(&v.cube_share(b)))
            })
            .map(|c| v.render(&c))
            .unwrap_or_else(|| "(too fragmented to show)".into());
        missed_regions.push((crate::graph::dot::decision_label(&decisions[t]), cond));
    }
    let n = reached.iter().filter(|x| **x).count();
    Coverage {
        paths: (ir.paths.len() - missed_paths.len(), ir.paths.len()),
        denies: (ir.denies.len() - missed_denies.len(), ir.denies.len()),
        terminals: (n, decisions.len()),
        terminal_pct: if decisions.is_empty() {
            100.0
        } else {
            100.0 * n as f64 / decisions.len() as f64
        },
        missed_paths,
        missed_denies,
        missed_regions,
    }
}

/// A suite that reaches every terminal of `engine`'s graph, one case per terminal,
/// expecting today's decisions (a starting point for QA; review every case).
pub fn generate(engine: &Engine, policy_rel: &str) -> String {
    let ir = engine.policy().ir();
    let v = crate::analyze::view(engine);
    let mut out = format!(
        "# Generated by `regain test --generate`: one case per decision-graph terminal,\n# expecting the decisions of the policy as it is now. Review before relying on it.\npolicy: {policy_rel}\ncases:\n"
    );
    for (t, d) in engine.graph().decisions().iter().enumerate() {
        let Some(cube) = v.cover(&|x| x as usize == t, 64).and_then(|cubes| {
            cubes
                .into_iter()
                .max_by(|a, b| v.cube_share(a).total_cmp(&v.cube_share(b)))
        }) else {
            continue;
        };
        // Representative values: the cube's first class, defaults or the lowest value.
        let mut values: Vec<i64> = ir
            .facts
            .iter()
            .map(|f| f.default.unwrap_or(f.ty.bounds().0))
            .collect();
        for lit in &cube {
            if let Some(c) = lit.classes.first() {
                values[lit.fact as usize] =
                    engine.graph().classes()[lit.fact as usize].representative(*c as usize);
            }
        }
        let profile: Vec<String> = ir
            .facts
            .iter()
            .zip(&values)
            .filter(|(f, v)| f.default != Some(**v))
            .map(|(f, v)| {
                let shown = f.show(*v);
                match f.ty {
                    // Quoted: a variant such as `null` or `NO` must stay a string in YAML.
                    crate::check::ir::FactType::Enum(_) => format!("{}: \"{shown}\"", f.name),
                    _ => format!("{}: {shown}", f.name),
                }
            })
            .collect();
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        out.push_str(&format!(
            "  - name: {}\n",
            quote(&format!(
                "terminal {t}: {}",
                crate::graph::dot::decision_label(d)
            ))
        ));
        out.push_str(&format!("    profile: {{{}}}\n", profile.join(", ")));
        out.push_str(&format!(
            "    expect:\n      decision: {}\n",
            d.kind().as_str()
        ));
        match d.kind() {
            DecisionKind::Allow => {
                out.push_str(&format!("      paths: [{}]\n", d.path_names().join(", ")))
            }
            DecisionKind::Deny => out.push_str(&format!(
                "      denied_by: [{}]\n",
                d.denied_by()
                    .iter()
                    .map(|r| quote(r))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            DecisionKind::Lockout => {}
        }
    }
    out
}
