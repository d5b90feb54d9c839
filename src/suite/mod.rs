//! Scenario suites (DESIGN.md "Scenario suites"): YAML files of cases with expected
//! decisions, run against the compiled policy, with coverage of paths, deny rules and
//! graph terminals by their typed indices.
//!
//! Every error of a suite names the line and column of the YAML node it is about (the
//! file is read with a YAML parser that keeps positions); every failure names the line
//! of its case.

mod coverage;
mod generate;
mod load;
mod yaml;

use std::fmt;
use std::path::PathBuf;

pub use coverage::{coverage, Coverage, MissedTerminal, Sibling, SiblingDiff, StepDiff};
pub use generate::{decision_name, generate, profile_yaml, yaml_name};

use crate::check::ir::{DenyId, FactId, Ir, MethodId, PathId};
use crate::decision::{Decision, DecisionKind};
use crate::explain::{explain, Explanation};
use crate::Engine;

/// What a case expects. Every name is resolved to its index when the suite is loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// allow / deny / lockout.
    pub decision: Option<DecisionKind>,
    /// The offered paths, exactly and in order.
    pub paths: Option<Vec<PathId>>,
    /// The first offered path.
    pub first: Option<PathId>,
    /// Paths that must be offered.
    pub includes: Vec<PathId>,
    /// Paths that must not be offered.
    pub excludes: Vec<PathId>,
    /// The deny reasons, exactly and in order.
    pub denied_by: Option<Vec<String>>,
    /// Offered paths and what they must look like.
    pub path: Vec<PathExpect>,
}

/// `expect: {path: {name: …, wait_s: …, grants: …, notify: […], steps: …}}`: the path
/// is offered and, for each key given, its offer has that value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathExpect {
    /// The path.
    pub path: PathId,
    /// The waiting period in seconds.
    pub wait_s: Option<u64>,
    /// What completing the path grants.
    pub grants: Option<String>,
    /// The notified methods, exactly and in order.
    pub notify: Option<Vec<MethodId>>,
    /// Usable methods of some steps, exactly and in listed order.
    pub steps: Vec<StepExpect>,
}

/// The usable methods one step of an offered path must have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepExpect {
    /// The step's index (0-based; shown 1-based).
    pub step: usize,
    /// The usable methods, in the order the path lists them.
    pub methods: Vec<MethodId>,
}

/// One case, with its merged, validated profile.
#[derive(Clone, Debug)]
pub struct Case {
    /// The case's name.
    pub name: String,
    /// 1-based line of the case in the suite file (where its mapping starts).
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
    /// The policy file it names (relative to the suite's directory).
    pub policy_file: PathBuf,
    /// The compiled policy.
    pub engine: Engine,
    /// The cases.
    pub cases: Vec<Case>,
    /// Per fact, the value `base` gives it (`None` when `base` does not list it).
    pub base: Vec<Option<i64>>,
}

/// Why a suite could not be run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuiteErrorKind {
    /// The suite or the policy it names cannot be read (missing, no permission).
    Unreadable,
    /// The suite is not valid: YAML, keys, facts, names, expectations, the policy.
    Invalid,
}

/// One problem of a suite, at the YAML node it is about.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SuiteError {
    /// Unreadable or invalid.
    pub kind: SuiteErrorKind,
    /// The suite file, as given.
    pub file: String,
    /// 1-based line, when the problem is at a node of the file.
    pub line: Option<usize>,
    /// 1-based column (characters), with `line`.
    #[serde(rename = "col")]
    pub column: Option<usize>,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for SuiteError {}

/// Every problem found in a suite (at least one), in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuiteErrors(pub Vec<SuiteError>);

impl SuiteErrors {
    /// True when a file could not be read (rather than being invalid).
    pub fn unreadable(&self) -> bool {
        self.0.iter().any(|e| e.kind == SuiteErrorKind::Unreadable)
    }
}

impl fmt::Display for SuiteErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SuiteErrors {}

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// `decision`.
    Decision {
        /// Expected.
        expected: DecisionKind,
        /// Actual.
        actual: DecisionKind,
    },
    /// `paths`.
    Paths {
        /// Expected.
        expected: Vec<PathId>,
        /// Offered.
        actual: Vec<PathId>,
    },
    /// `first`.
    First {
        /// Expected.
        expected: PathId,
        /// The first offered path (none unless allow).
        actual: Option<PathId>,
    },
    /// `includes`: a path that is not offered.
    NotIncluded {
        /// The path.
        path: PathId,
        /// Offered.
        offered: Vec<PathId>,
    },
    /// `excludes`: a path that is offered.
    NotExcluded {
        /// The path.
        path: PathId,
    },
    /// `denied_by`.
    DeniedBy {
        /// Expected.
        expected: Vec<String>,
        /// Actual.
        actual: Vec<String>,
    },
    /// `path`: the path is not offered.
    PathNotOffered {
        /// The path.
        path: PathId,
        /// Offered.
        offered: Vec<PathId>,
    },
    /// `path.wait_s`.
    Wait {
        /// The path.
        path: PathId,
        /// Expected seconds.
        expected: u64,
        /// Actual seconds.
        actual: u64,
    },
    /// `path.grants`.
    Grants {
        /// The path.
        path: PathId,
        /// Expected.
        expected: String,
        /// Actual.
        actual: String,
    },
    /// `path.notify`.
    Notify {
        /// The path.
        path: PathId,
        /// Expected.
        expected: Vec<MethodId>,
        /// Actual method names.
        actual: Vec<String>,
    },
    /// `path.steps`: the usable methods of a step.
    Step {
        /// The path.
        path: PathId,
        /// The step (0-based).
        step: usize,
        /// Expected.
        expected: Vec<MethodId>,
        /// Actual method names.
        actual: Vec<String>,
    },
}

fn list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let v: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    format!("[{}]", v.join(", "))
}

fn path_name(ir: &Ir, p: PathId) -> &str {
    ir.paths.get(p.index()).map_or("?", |x| x.name.as_str())
}

fn method_name(ir: &Ir, m: MethodId) -> &str {
    ir.methods.get(m.index()).map_or("?", |x| x.name.as_str())
}

impl Mismatch {
    /// The expectation's key: `decision`, `paths`, `first`, `includes`, `excludes`,
    /// `denied_by`, `path`, `path.wait_s`, `path.grants`, `path.notify`, `path.steps`.
    pub fn key(&self) -> &'static str {
        match self {
            Mismatch::Decision { .. } => "decision",
            Mismatch::Paths { .. } => "paths",
            Mismatch::First { .. } => "first",
            Mismatch::NotIncluded { .. } => "includes",
            Mismatch::NotExcluded { .. } => "excludes",
            Mismatch::DeniedBy { .. } => "denied_by",
            Mismatch::PathNotOffered { .. } => "path",
            Mismatch::Wait { .. } => "path.wait_s",
            Mismatch::Grants { .. } => "path.grants",
            Mismatch::Notify { .. } => "path.notify",
            Mismatch::Step { .. } => "path.steps",
        }
    }

    /// One line: what was expected and what the policy decided.
    pub fn message(&self, ir: &Ir) -> String {
        let paths = |v: &[PathId]| list(v.iter().map(|p| path_name(ir, *p)));
        let methods = |v: &[MethodId]| list(v.iter().map(|m| method_name(ir, *m)));
        match self {
            Mismatch::Decision { expected, actual } => format!(
                "decision: expected {}, got {}",
                expected.as_str(),
                actual.as_str()
            ),
            Mismatch::Paths { expected, actual } => {
                format!("paths: expected {}, got {}", paths(expected), paths(actual))
            }
            Mismatch::First { expected, actual } => format!(
                "first: expected {}, got {}",
                path_name(ir, *expected),
                actual.map_or("no path", |p| path_name(ir, p))
            ),
            Mismatch::NotIncluded { path, offered } => format!(
                "includes: `{}` is not offered (offered: {})",
                path_name(ir, *path),
                paths(offered)
            ),
            Mismatch::NotExcluded { path } => {
                format!("excludes: `{}` is offered", path_name(ir, *path))
            }
            Mismatch::DeniedBy { expected, actual } => format!(
                "denied_by: expected {}, got {}",
                list(expected),
                list(actual)
            ),
            Mismatch::PathNotOffered { path, offered } => format!(
                "path: `{}` is not offered (offered: {})",
                path_name(ir, *path),
                paths(offered)
            ),
            Mismatch::Wait {
                path,
                expected,
                actual,
            } => format!(
                "path `{}`: wait_s expected {expected}, got {actual}",
                path_name(ir, *path)
            ),
            Mismatch::Grants {
                path,
                expected,
                actual,
            } => format!(
                "path `{}`: grants expected {expected}, got {actual}",
                path_name(ir, *path)
            ),
            Mismatch::Notify {
                path,
                expected,
                actual,
            } => format!(
                "path `{}`: notify expected {}, got {}",
                path_name(ir, *path),
                methods(expected),
                list(actual)
            ),
            Mismatch::Step {
                path,
                step,
                expected,
                actual,
            } => format!(
                "path `{}` step {}: usable methods expected {}, got {}",
                path_name(ir, *path),
                step + 1,
                methods(expected),
                list(actual)
            ),
        }
    }
}

/// The result of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// 1-based line of the case in the suite.
    pub line: usize,
    /// The expectations that did not hold (empty when the case passed).
    pub failures: Vec<Mismatch>,
    /// The actual decision.
    pub actual: Decision,
    /// Why each path is (not) available, for failed cases.
    pub explain: Option<Explanation>,
    /// The graph terminal the case reached (`None` only for values outside the
    /// policy's domains, which a loaded suite never has).
    pub terminal: Option<usize>,
    /// The deny rules whose condition holds for the case.
    pub denies: Vec<DenyId>,
}

impl CaseResult {
    /// True when every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The failed expectations of `e` against decision `d`.
pub fn check(ir: &Ir, e: &Expect, d: &Decision) -> Vec<Mismatch> {
    let offered: Vec<PathId> = d
        .paths()
        .iter()
        .map(|o| PathId(u32::try_from(o.path_index()).unwrap_or(u32::MAX)))
        .collect();
    let mut out = Vec::new();
    if let Some(k) = e.decision {
        if k != d.kind() {
            out.push(Mismatch::Decision {
                expected: k,
                actual: d.kind(),
            });
        }
    }
    if let Some(p) = &e.paths {
        if *p != offered {
            out.push(Mismatch::Paths {
                expected: p.clone(),
                actual: offered.clone(),
            });
        }
    }
    if let Some(f) = e.first {
        if offered.first() != Some(&f) {
            out.push(Mismatch::First {
                expected: f,
                actual: offered.first().copied(),
            });
        }
    }
    for p in &e.includes {
        if !offered.contains(p) {
            out.push(Mismatch::NotIncluded {
                path: *p,
                offered: offered.clone(),
            });
        }
    }
    for p in &e.excludes {
        if offered.contains(p) {
            out.push(Mismatch::NotExcluded { path: *p });
        }
    }
    if let Some(r) = &e.denied_by {
        if r.as_slice() != d.denied_by() {
            out.push(Mismatch::DeniedBy {
                expected: r.clone(),
                actual: d.denied_by().to_vec(),
            });
        }
    }
    for pe in &e.path {
        let Some(o) = d.paths().iter().find(|o| o.path_index() == pe.path.index()) else {
            out.push(Mismatch::PathNotOffered {
                path: pe.path,
                offered: offered.clone(),
            });
            continue;
        };
        if let Some(w) = pe.wait_s {
            if w != o.wait_s() {
                out.push(Mismatch::Wait {
                    path: pe.path,
                    expected: w,
                    actual: o.wait_s(),
                });
            }
        }
        if let Some(g) = &pe.grants {
            if g != o.grants() {
                out.push(Mismatch::Grants {
                    path: pe.path,
                    expected: g.clone(),
                    actual: o.grants().to_string(),
                });
            }
        }
        let same = |ids: &[MethodId], names: &[String]| {
            ids.len() == names.len() && ids.iter().zip(names).all(|(m, n)| method_name(ir, *m) == n)
        };
        if let Some(n) = &pe.notify {
            if !same(n, o.notify()) {
                out.push(Mismatch::Notify {
                    path: pe.path,
                    expected: n.clone(),
                    actual: o.notify().to_vec(),
                });
            }
        }
        for s in &pe.steps {
            let actual = o.steps().get(s.step).cloned().unwrap_or_default();
            if !same(&s.methods, &actual) {
                out.push(Mismatch::Step {
                    path: pe.path,
                    step: s.step,
                    expected: s.methods.clone(),
                    actual,
                });
            }
        }
    }
    out
}

/// The deny rules whose condition holds for `values`, by index.
pub fn denies_holding(ir: &Ir, values: &[i64]) -> Vec<DenyId> {
    ir.denies
        .iter()
        .enumerate()
        .filter(|(_, d)| d.when.eval(values))
        .filter_map(|(i, _)| u32::try_from(i).ok().map(DenyId))
        .collect()
}

impl Suite {
    /// Run the cases whose name contains `filter` (every case when `None`).
    pub fn run(&self, filter: Option<&str>) -> Vec<CaseResult> {
        let ir = self.engine.policy().ir();
        self.cases
            .iter()
            .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
            .map(|c| {
                let terminal = self.engine.terminal_of(&c.values);
                let actual = terminal
                    .and_then(|t| self.engine.graph().decisions().get(t))
                    .cloned()
                    .unwrap_or_else(Decision::fail_closed);
                let failures = check(ir, &c.expect, &actual);
                let explain =
                    (!failures.is_empty()).then(|| explain(self.engine.policy(), &c.values));
                CaseResult {
                    name: c.name.clone(),
                    line: c.line,
                    failures,
                    actual,
                    explain,
                    terminal,
                    denies: denies_holding(ir, &c.values),
                }
            })
            .collect()
    }

    /// The facts of `values` that differ from what a case of this suite gets without
    /// listing them (the base's value, else the fact's default): a profile to paste
    /// into a case. Facts with neither are always listed.
    pub fn case_profile(&self, values: &[i64]) -> Vec<(FactId, i64)> {
        let ir = self.engine.policy().ir();
        diff_profile(ir, &self.fill(), values)
    }

    /// Per fact, the value a case gets when it does not list the fact.
    pub fn fill(&self) -> Vec<Option<i64>> {
        let ir = self.engine.policy().ir();
        ir.facts
            .iter()
            .enumerate()
            .map(|(i, f)| self.base.get(i).copied().flatten().or(f.default))
            .collect()
    }
}

/// The facts of `values` that differ from `fill` (or have no fill).
pub(crate) fn diff_profile(ir: &Ir, fill: &[Option<i64>], values: &[i64]) -> Vec<(FactId, i64)> {
    ir.facts
        .iter()
        .enumerate()
        .zip(values)
        .filter(|((i, _), v)| fill.get(*i).copied().flatten() != Some(**v))
        .filter_map(|((i, _), v)| u32::try_from(i).ok().map(|i| (FactId(i), *v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const POLICY: &str = r#"policy t
facts {
  a: bool
  n: int 0..9
  k: low | high = low
}
methods {
  m1: possession requires a
  m2: knowledge requires n >= 2
  m3: human
}
deny "r" when k == high
deny "r" when k == high and n > 20
path p {
  steps any 1 of (m1, m2) then m3
  grants reset
  wait 1h
  notify m1
}
path q {
  when n > 5
  steps m3
  grants full
}
"#;

    fn load(body: &str) -> Result<Suite, SuiteErrors> {
        let read = |_: &Path| Ok(POLICY.as_bytes().to_vec());
        Suite::from_text(
            Path::new("dir/t.suite.yaml"),
            &format!("policy: t.regain\n{body}"),
            &read,
        )
    }

    fn messages(e: &SuiteErrors) -> Vec<String> {
        e.0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_policy_path_is_relative_to_the_suite() {
        let s = load("cases: []\n").unwrap();
        assert_eq!(s.policy_file, Path::new("dir/t.regain"));
    }

    #[test]
    fn a_bad_base_value_is_reported_once_at_its_key() {
        let e = load(
            "base: {a: 3, n: 1}\ncases:\n  - name: x\n    expect: {decision: allow}\n  - name: y\n    expect: {decision: deny}\n",
        )
        .unwrap_err();
        assert_eq!(
            messages(&e),
            ["dir/t.suite.yaml:2:8: base: fact `a`: expected `true` or `false`, found 3"]
        );
    }

    #[test]
    fn a_missing_fact_points_at_the_case() {
        let e =
            load("cases:\n  - expect: {decision: allow}\n    name: x\n    profile: {a: true}\n")
                .unwrap_err();
        assert_eq!(messages(&e).len(), 1);
        assert!(
            messages(&e)[0].starts_with("dir/t.suite.yaml:3:5: case `x`: missing fact `n`"),
            "{e}"
        );
    }

    #[test]
    fn expectations_are_checked_by_index() {
        let s = load(
            "base: {a: true, n: 3}\ncases:\n  - name: x\n    expect:\n      first: q\n      paths: [q]\n      denied_by: [r]\n      path: {name: p, wait_s: 3600, grants: reset, notify: [m1], steps: [[m1, m2], [m3]]}\n",
        )
        .unwrap();
        let r = s.run(None);
        let ir = s.engine.policy().ir();
        let got: Vec<String> = r[0].failures.iter().map(|m| m.message(ir)).collect();
        assert_eq!(
            got,
            [
                "paths: expected [q], got [p]",
                "first: expected q, got p",
                "denied_by: expected [r], got []",
            ]
        );
        assert!(r[0].denies.is_empty());
        // Both rules give "r"; only the first can hold.
        let s = load(
            "base: {a: true, n: 3, k: high}\ncases:\n  - name: x\n    expect: {denied_by: [r]}\n",
        )
        .unwrap();
        let r = s.run(None);
        assert!(r[0].passed());
        assert_eq!(r[0].denies, [DenyId(0)]);
        let c = coverage(&s, &r, 0);
        assert_eq!(c.denies, (1, 2));
        assert_eq!(c.missed_denies, [DenyId(1)]);
    }

    #[test]
    fn a_step_map_checks_only_the_listed_steps() {
        let s = load(
            "base: {a: false, n: 3}\ncases:\n  - name: x\n    expect:\n      path: {name: p, steps: {1: [m2]}}\n  - name: y\n    expect:\n      path: {name: p, steps: {1: [m1]}}\n",
        )
        .unwrap();
        let r = s.run(None);
        assert!(r[0].passed());
        assert_eq!(
            r[1].failures,
            [Mismatch::Step {
                path: PathId(0),
                step: 0,
                expected: vec![MethodId(0)],
                actual: vec!["m2".into()],
            }]
        );
    }
}
