//! Loading a suite: YAML with positions, names resolved to indices, profiles merged
//! over `base` and validated, every problem reported at its node.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::yaml::{self, Pos, Y};
use super::{Case, Expect, PathExpect, StepExpect, Suite, SuiteError, SuiteErrorKind, SuiteErrors};
use crate::check::ir::{FactType, Ir, MethodId, PathId};
use crate::decision::DecisionKind;
use crate::diagnostic::suggestion;
use crate::profile::{self, Node};
use crate::{Engine, Policy};

const TOP_KEYS: &[&str] = &["policy", "base", "cases"];
const CASE_KEYS: &[&str] = &["name", "profile", "expect"];
const EXPECT_KEYS: &[&str] = &[
    "decision",
    "paths",
    "first",
    "includes",
    "excludes",
    "denied_by",
    "path",
];
const PATH_KEYS: &[&str] = &["name", "wait_s", "grants", "notify", "steps"];

/// Collects the problems of one suite file.
struct Ctx {
    file: String,
    errors: Vec<SuiteError>,
}

impl Ctx {
    fn at(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(SuiteError {
            kind: SuiteErrorKind::Invalid,
            file: self.file.clone(),
            line: Some(pos.line),
            column: Some(pos.col),
            message: message.into(),
        });
    }

    fn unreadable(&mut self, pos: Option<Pos>, message: impl Into<String>) {
        self.errors.push(SuiteError {
            kind: SuiteErrorKind::Unreadable,
            file: self.file.clone(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.col),
            message: message.into(),
        });
    }

    fn finish(mut self) -> SuiteErrors {
        // File order; a problem of `base` found once per case is reported once.
        self.errors.sort_by_key(|e| (e.line, e.column));
        self.errors.dedup();
        SuiteErrors(self.errors)
    }
}

fn help(name: &str, candidates: &[&str]) -> String {
    suggestion(name, candidates.iter().copied())
        .map(|h| format!("; {h}"))
        .unwrap_or_default()
}

/// Check a mapping's keys; report each unknown one.
fn keys_known(ctx: &mut Ctx, m: &[(Y, Y)], known: &[&str], what: &str) {
    for (k, _) in m {
        match k.as_str() {
            Some(s) if known.contains(&s) => {}
            Some(s) => ctx.at(
                k.pos,
                format!(
                    "unknown key `{s}` in {what} (expected {}){}",
                    known.join(", "),
                    help(s, known)
                ),
            ),
            None => ctx.at(
                k.pos,
                format!("keys of {what} are names, found {}", k.describe()),
            ),
        }
    }
}

/// A profile node (`base` or a case's `profile`) flattened into dotted entries, with the
/// position of every key for later errors. `None` after reporting a problem.
struct Flat {
    entries: Vec<(String, Node)>,
    keys: Vec<(String, Pos)>,
}

impl Flat {
    fn pos_of(&self, fact: &str) -> Option<Pos> {
        self.keys
            .iter()
            .rev()
            .find(|(k, _)| k == fact)
            .map(|(_, p)| *p)
    }
}

fn flatten(ctx: &mut Ctx, ir: &Ir, y: Option<&Y>, label: &str) -> Option<Flat> {
    let Some(y) = y else {
        return Some(Flat {
            entries: Vec::new(),
            keys: Vec::new(),
        });
    };
    if y.kind == yaml::Kind::Null {
        return Some(Flat {
            entries: Vec::new(),
            keys: Vec::new(),
        });
    }
    let keys = y.dotted_keys();
    let node = y.to_node();
    let at = |e: &profile::ProfileError| {
        e.fact
            .as_deref()
            .and_then(|f| keys.iter().rev().find(|(k, _)| k == f).map(|(_, p)| *p))
            .unwrap_or(y.pos)
    };
    let entries = match profile::flatten(ir, &node) {
        Ok(e) => e,
        Err(e) => {
            let pos = at(&e);
            ctx.at(pos, format!("{label}{}", e.message));
            return None;
        }
    };
    let mut out: Vec<(String, Node)> = Vec::new();
    for (k, n) in entries {
        if out.iter().any(|(x, _)| *x == k) {
            let pos = keys
                .iter()
                .rev()
                .find(|(x, _)| *x == k)
                .map_or(y.pos, |(_, p)| *p);
            ctx.at(
                pos,
                format!(
                    "{label}fact `{k}` is given twice (nested and dotted keys name the same fact)"
                ),
            );
            return None;
        }
        out.push((k, n.clone()));
    }
    Some(Flat { entries: out, keys })
}

fn names<'y>(ctx: &mut Ctx, v: &'y Y, what: &str) -> Option<Vec<(&'y str, Pos)>> {
    let Some(seq) = v.as_seq() else {
        ctx.at(
            v.pos,
            format!("`{what}` is a list of names, found {}", v.describe()),
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in seq {
        match item.as_str() {
            Some(s) => out.push((s, item.pos)),
            None => {
                ctx.at(
                    item.pos,
                    format!("`{what}` is a list of names, found {}", item.describe()),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

fn path_id(ctx: &mut Ctx, ir: &Ir, name: &str, pos: Pos) -> Option<PathId> {
    let id = ir.path_id(name);
    if id.is_none() {
        let all: Vec<&str> = ir.paths.iter().map(|p| p.name.as_str()).collect();
        ctx.at(
            pos,
            format!("the policy has no path `{name}`{}", help(name, &all)),
        );
    }
    id
}

fn path_list(ctx: &mut Ctx, ir: &Ir, v: &Y, what: &str) -> Option<Vec<PathId>> {
    let ns = names(ctx, v, what)?;
    let mut out: Vec<PathId> = Vec::new();
    let mut ok = true;
    for (n, pos) in ns {
        match path_id(ctx, ir, n, pos) {
            Some(id) if out.contains(&id) => {
                ctx.at(pos, format!("`{what}` lists path `{n}` twice"));
                ok = false;
            }
            Some(id) => out.push(id),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn method_list(ctx: &mut Ctx, ir: &Ir, v: &Y, what: &str) -> Option<Vec<MethodId>> {
    let ns = names(ctx, v, what)?;
    let all: Vec<&str> = ir.methods.iter().map(|m| m.name.as_str()).collect();
    let mut out = Vec::new();
    let mut ok = true;
    for (n, pos) in ns {
        match ir.method_id(n) {
            Some(id) => out.push(id),
            None => {
                ctx.at(
                    pos,
                    format!("the policy has no method `{n}`{}", help(n, &all)),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// The usable methods of step `step` of path `p`: listed methods of that step, in the
/// step's order, at least as many as it needs.
fn step_methods(ctx: &mut Ctx, ir: &Ir, p: PathId, step: usize, v: &Y) -> Option<StepExpect> {
    let path = ir.paths.get(p.index())?;
    let s = path.steps.get(step)?;
    let listed: Vec<&str> = s
        .methods()
        .iter()
        .filter_map(|m| ir.methods.get(m.index()))
        .map(|m| m.name.as_str())
        .collect();
    let what = format!("path `{}` step {}", path.name, step + 1);
    let ns = names(ctx, v, &what)?;
    let mut out: Vec<MethodId> = Vec::new();
    let mut last: Option<usize> = None;
    for (n, pos) in &ns {
        let Some(i) = listed.iter().position(|x| x == n) else {
            let elsewhere = path
                .steps
                .iter()
                .position(|o| {
                    o.methods()
                        .iter()
                        .any(|m| ir.methods.get(m.index()).is_some_and(|m| m.name == *n))
                })
                .map(|k| format!("; `{n}` is in step {}", k + 1))
                .unwrap_or_else(|| help(n, &listed));
            ctx.at(
                *pos,
                format!(
                    "{what} lists no method `{n}` (it lists {}){elsewhere}",
                    listed.join(", ")
                ),
            );
            return None;
        };
        if last.is_some_and(|l| i <= l) {
            ctx.at(
                *pos,
                format!(
                    "{what}: usable methods are offered once each, in the order the path lists them ({})",
                    listed.join(", ")
                ),
            );
            return None;
        }
        last = Some(i);
        out.push(*s.methods().get(i)?);
    }
    if out.len() < s.needed() {
        ctx.at(
            v.pos,
            format!(
                "{what} needs {} usable methods to be offered; the expectation lists {}",
                s.needed(),
                out.len()
            ),
        );
        return None;
    }
    Some(StepExpect { step, methods: out })
}

fn path_expect(ctx: &mut Ctx, ir: &Ir, y: &Y) -> Option<PathExpect> {
    let Some(m) = y.as_map() else {
        ctx.at(
            y.pos,
            format!(
                "`path` is a mapping ({}) or a list of them, found {}",
                PATH_KEYS.join(", "),
                y.describe()
            ),
        );
        return None;
    };
    keys_known(ctx, m, PATH_KEYS, "a `path` expectation");
    let Some((_, n)) = y.get("name") else {
        ctx.at(y.pos, "a `path` expectation needs the path's `name`");
        return None;
    };
    let Some(name) = n.as_str() else {
        ctx.at(
            n.pos,
            format!("`name` is a path name, found {}", n.describe()),
        );
        return None;
    };
    let path = path_id(ctx, ir, name, n.pos)?;
    let mut pe = PathExpect {
        path,
        wait_s: None,
        grants: None,
        notify: None,
        steps: Vec::new(),
    };
    let mut ok = true;
    if let Some((_, w)) = y.get("wait_s") {
        match w.kind {
            yaml::Kind::Int(i) if i >= 0 => pe.wait_s = u64::try_from(i).ok(),
            _ => {
                ctx.at(
                    w.pos,
                    format!(
                        "`wait_s` is the wait in seconds (e.g. 172800 for 48h), found {}",
                        w.describe()
                    ),
                );
                ok = false;
            }
        }
    }
    if let Some((_, g)) = y.get("grants") {
        match g.as_str() {
            Some(s) => pe.grants = Some(s.to_string()),
            None => {
                ctx.at(g.pos, format!("`grants` is a name, found {}", g.describe()));
                ok = false;
            }
        }
    }
    if let Some((_, v)) = y.get("notify") {
        pe.notify = method_list(ctx, ir, v, "notify");
        ok &= pe.notify.is_some();
    }
    if let Some((_, v)) = y.get("steps") {
        let n_steps = ir.paths.get(path.index()).map_or(0, |p| p.steps.len());
        match &v.kind {
            yaml::Kind::Seq(items) => {
                if items.len() != n_steps {
                    ctx.at(
                        v.pos,
                        format!(
                            "path `{name}` has {n_steps} step(s); `steps` lists {} (give every step, or a mapping such as {{1: [...]}} for some)",
                            items.len()
                        ),
                    );
                    ok = false;
                } else {
                    for (i, item) in items.iter().enumerate() {
                        match step_methods(ctx, ir, path, i, item) {
                            Some(s) => pe.steps.push(s),
                            None => ok = false,
                        }
                    }
                }
            }
            yaml::Kind::Map(entries) => {
                for (k, item) in entries {
                    let step = match k.kind {
                        yaml::Kind::Int(i) if i >= 1 && (i as u64) <= n_steps as u64 => {
                            usize::try_from(i - 1).ok()
                        }
                        _ => None,
                    };
                    let Some(step) = step else {
                        ctx.at(
                            k.pos,
                            format!(
                                "`steps` keys are step numbers 1..={n_steps} of path `{name}`, found {}",
                                k.describe()
                            ),
                        );
                        ok = false;
                        continue;
                    };
                    match step_methods(ctx, ir, path, step, item) {
                        Some(s) => pe.steps.push(s),
                        None => ok = false,
                    }
                }
            }
            _ => {
                ctx.at(
                    v.pos,
                    format!(
                        "`steps` is a list with the usable methods of every step ([[a, b], [c]]) or a mapping from step number to methods ({{2: [c]}}), found {}",
                        v.describe()
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(pe)
}

fn expect(ctx: &mut Ctx, ir: &Ir, y: &Y, case: &str) -> Option<Expect> {
    let Some(m) = y.as_map() else {
        ctx.at(
            y.pos,
            format!(
                "case `{case}`: `expect` is a mapping with some of {}, found {}",
                EXPECT_KEYS.join(", "),
                y.describe()
            ),
        );
        return None;
    };
    if m.is_empty() {
        ctx.at(
            y.pos,
            format!(
                "case `{case}` expects nothing: give at least one of {}",
                EXPECT_KEYS.join(", ")
            ),
        );
        return None;
    }
    keys_known(ctx, m, EXPECT_KEYS, "`expect`");
    let mut e = Expect::default();
    let mut ok = true;
    for (k, v) in m {
        match k.as_str() {
            Some("decision") => {
                e.decision = match v.as_str() {
                    Some("allow") => Some(DecisionKind::Allow),
                    Some("deny") => Some(DecisionKind::Deny),
                    Some("lockout") => Some(DecisionKind::Lockout),
                    other => {
                        let h = other
                            .map(|s| help(s, &["allow", "deny", "lockout"]))
                            .unwrap_or_default();
                        ctx.at(
                            v.pos,
                            format!(
                                "`decision` is allow, deny or lockout, found {}{h}",
                                v.describe()
                            ),
                        );
                        None
                    }
                };
                ok &= e.decision.is_some();
            }
            Some("paths") => {
                e.paths = path_list(ctx, ir, v, "paths");
                ok &= e.paths.is_some();
            }
            Some("first") => {
                e.first = match v.as_str() {
                    Some(n) => path_id(ctx, ir, n, v.pos),
                    None => {
                        ctx.at(
                            v.pos,
                            format!("`first` is a path name, found {}", v.describe()),
                        );
                        None
                    }
                };
                ok &= e.first.is_some();
            }
            Some("includes") => match path_list(ctx, ir, v, "includes") {
                Some(p) => e.includes = p,
                None => ok = false,
            },
            Some("excludes") => match path_list(ctx, ir, v, "excludes") {
                Some(p) => e.excludes = p,
                None => ok = false,
            },
            Some("denied_by") => {
                let Some(rs) = names(ctx, v, "denied_by") else {
                    ok = false;
                    continue;
                };
                let reasons: Vec<&str> = ir.denies.iter().map(|d| d.reason.as_str()).collect();
                for (r, pos) in &rs {
                    if !reasons.contains(r) {
                        let known = if reasons.is_empty() {
                            " (the policy has no deny rules)".to_string()
                        } else {
                            help(r, &reasons)
                        };
                        ctx.at(*pos, format!("no deny rule has the reason \"{r}\"{known}"));
                        ok = false;
                    }
                }
                e.denied_by = Some(rs.iter().map(|(r, _)| r.to_string()).collect());
            }
            Some("path") => {
                let items: Vec<&Y> = match &v.kind {
                    yaml::Kind::Seq(items) => items.iter().collect(),
                    _ => vec![v],
                };
                for item in items {
                    match path_expect(ctx, ir, item) {
                        Some(pe) if e.path.iter().any(|x| x.path == pe.path) => {
                            ctx.at(
                                item.pos,
                                "`path` describes the same path twice: merge the two",
                            );
                            ok = false;
                        }
                        Some(pe) => e.path.push(pe),
                        None => ok = false,
                    }
                }
            }
            // Reported by `keys_known`.
            _ => ok = false,
        }
    }
    ok.then_some(e)
}

/// Merge a case's facts over the base's and validate them into dense values; errors
/// point at the key that holds the bad value (in the case or in `base`).
fn values(
    ctx: &mut Ctx,
    ir: &Ir,
    base: &Flat,
    own: &Flat,
    case: &str,
    case_pos: Pos,
) -> Option<Vec<i64>> {
    let mut merged: Vec<(String, &Node)> = base
        .entries
        .iter()
        .filter(|(k, _)| !own.entries.iter().any(|(o, _)| o == k))
        .map(|(k, n)| (k.clone(), n))
        .collect();
    merged.extend(own.entries.iter().map(|(k, n)| (k.clone(), n)));
    match profile::values_from_entries(ir, &merged) {
        Ok(v) => Some(v),
        Err(e) => {
            let fact = e.fact.as_deref().unwrap_or("");
            if let Some(p) = own.pos_of(fact) {
                ctx.at(p, format!("case `{case}`: {}", e.message));
            } else if let Some(p) = base.pos_of(fact) {
                ctx.at(p, format!("base: {}", e.message));
            } else {
                ctx.at(
                    case_pos,
                    format!(
                        "case `{case}`: {} (give it in the case's `profile` or in `base`)",
                        e.message
                    ),
                );
            }
            None
        }
    }
}

impl Suite {
    /// Load a suite file; the policy path is relative to the suite's directory.
    pub fn load(path: &Path) -> Result<Suite, SuiteErrors> {
        let file = path.display().to_string();
        let mut ctx = Ctx {
            file,
            errors: Vec::new(),
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                ctx.unreadable(None, format!("cannot read the suite: {e}"));
                return Err(ctx.finish());
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                ctx.errors.push(SuiteError {
                    kind: SuiteErrorKind::Invalid,
                    file: ctx.file.clone(),
                    line: None,
                    column: None,
                    message: format!("not UTF-8 text (invalid byte at offset {at})"),
                });
                return Err(ctx.finish());
            }
        };
        Suite::from_text(path, &text, &|p: &Path| std::fs::read(p))
    }

    /// Load a suite from its text. `path` names the suite (for messages, and its
    /// directory resolves the policy path); `read` reads the policy file.
    pub fn from_text(
        path: &Path,
        text: &str,
        read: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
    ) -> Result<Suite, SuiteErrors> {
        let mut ctx = Ctx {
            file: path.display().to_string(),
            errors: Vec::new(),
        };
        let doc = match yaml::parse(text) {
            Ok(d) => d,
            Err(e) => {
                ctx.at(e.pos, format!("invalid YAML: {}", e.message));
                return Err(ctx.finish());
            }
        };
        let Some(top) = doc.as_map() else {
            ctx.at(
                doc.pos,
                format!(
                    "a suite is a mapping with `policy`, `cases` and optionally `base`, found {}",
                    doc.describe()
                ),
            );
            return Err(ctx.finish());
        };
        keys_known(&mut ctx, top, TOP_KEYS, "a suite");
        // The policy.
        let Some((pk, pv)) = doc.get("policy") else {
            ctx.at(
                doc.pos,
                "missing `policy: FILE.regain` (relative to the suite)",
            );
            return Err(ctx.finish());
        };
        let Some(policy_rel) = pv.as_str() else {
            ctx.at(
                pv.pos,
                format!(
                    "`policy` is a file name (relative to the suite), found {}",
                    pv.describe()
                ),
            );
            return Err(ctx.finish());
        };
        let _ = pk;
        let policy_file: PathBuf = path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(policy_rel);
        let shown = policy_file.display().to_string();
        let src = match read(&policy_file) {
            Ok(b) => b,
            Err(e) => {
                ctx.unreadable(Some(pv.pos), format!("cannot read policy `{shown}`: {e}"));
                return Err(ctx.finish());
            }
        };
        let Ok(src) = String::from_utf8(src) else {
            ctx.at(pv.pos, format!("policy `{shown}` is not UTF-8 text"));
            return Err(ctx.finish());
        };
        let policy = match Policy::parse_named(&shown, &src) {
            Ok(p) => p,
            Err(d) => {
                ctx.at(pv.pos, format!("policy `{shown}` does not check:\n{d}"));
                return Err(ctx.finish());
            }
        };
        let engine = match Engine::new(&policy) {
            Ok(e) => e,
            Err(e) => {
                ctx.at(pv.pos, format!("policy `{shown}`: {e}"));
                return Err(ctx.finish());
            }
        };
        let ir = policy.ir();
        // The base.
        let base = flatten(&mut ctx, ir, doc.get("base").map(|(_, v)| v), "base: ");
        let base_values = base
            .as_ref()
            .and_then(|b| base_values(&mut ctx, ir, b, doc.pos));
        // The cases.
        let Some((_, cases_v)) = doc.get("cases") else {
            ctx.at(
                doc.pos,
                "missing `cases`: a list of cases (name, profile, expect)",
            );
            return Err(ctx.finish());
        };
        let Some(seq) = cases_v.as_seq() else {
            ctx.at(
                cases_v.pos,
                format!("`cases` is a list, found {}", cases_v.describe()),
            );
            return Err(ctx.finish());
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut cases = Vec::new();
        for c in seq {
            let Some(m) = c.as_map() else {
                ctx.at(
                    c.pos,
                    format!(
                        "a case is a mapping with name, profile and expect, found {}",
                        c.describe()
                    ),
                );
                continue;
            };
            keys_known(&mut ctx, m, CASE_KEYS, "a case");
            let name = match c.get("name") {
                Some((_, n)) => match n.as_str() {
                    Some(s) if !s.trim().is_empty() => {
                        if let Some(first) = seen.get(s) {
                            ctx.at(
                                n.pos,
                                format!(
                                    "duplicate case name `{s}` (first at line {first}): names identify cases in reports and --filter"
                                ),
                            );
                        } else {
                            seen.insert(s.to_string(), n.pos.line);
                        }
                        Some(s.to_string())
                    }
                    _ => {
                        ctx.at(
                            n.pos,
                            format!("a case's `name` is non-empty text, found {}", n.describe()),
                        );
                        None
                    }
                },
                None => {
                    ctx.at(c.pos, "a case needs a `name`");
                    None
                }
            };
            let label = name.as_deref().unwrap_or("?");
            let own = flatten(
                &mut ctx,
                ir,
                c.get("profile").map(|(_, v)| v),
                &format!("case `{label}`: "),
            );
            let values = match (&base, &base_values, &own) {
                (Some(b), Some(_), Some(o)) => values(&mut ctx, ir, b, o, label, c.pos),
                _ => None,
            };
            let exp = match c.get("expect") {
                Some((_, e)) => expect(&mut ctx, ir, e, label),
                None => {
                    ctx.at(
                        c.pos,
                        format!(
                            "case `{label}` has no `expect` (some of {})",
                            EXPECT_KEYS.join(", ")
                        ),
                    );
                    None
                }
            };
            if let (Some(name), Some(values), Some(expect)) = (name, values, exp) {
                cases.push(Case {
                    name,
                    line: c.pos.line,
                    values,
                    expect,
                });
            }
        }
        if !ctx.errors.is_empty() {
            return Err(ctx.finish());
        }
        Ok(Suite {
            file: path.to_path_buf(),
            policy_file,
            engine,
            cases,
            base: base_values.unwrap_or_default(),
        })
    }
}

/// Any value of a fact's type, to stand for a fact that `base` does not list.
fn placeholder(ty: &FactType) -> Node {
    match ty {
        FactType::Bool => Node::Bool(false),
        FactType::Int { lo, .. } => Node::Int(*lo),
        FactType::Enum(vs) => Node::Str(vs.first().cloned().unwrap_or_default()),
    }
}

/// Validate `base` on its own (every bad value reported at its key): per fact, the
/// value it gives. `None` after reporting a problem.
fn base_values(ctx: &mut Ctx, ir: &Ir, base: &Flat, doc: Pos) -> Option<Vec<Option<i64>>> {
    let mut bad: Vec<String> = Vec::new();
    // Each round reports one bad value and leaves it out.
    for _ in 0..=base.entries.len() {
        let good: Vec<&(String, Node)> = base
            .entries
            .iter()
            .filter(|(k, _)| !bad.contains(k))
            .collect();
        // Facts that neither the base nor a default gives get a stand-in value.
        let fillers: Vec<(String, Node)> = ir
            .facts
            .iter()
            .filter(|f| f.default.is_none() && !good.iter().any(|(k, _)| *k == f.name))
            .map(|f| (f.name.clone(), placeholder(&f.ty)))
            .collect();
        let refs: Vec<(String, &Node)> = good
            .into_iter()
            .chain(fillers.iter())
            .map(|(k, n)| (k.clone(), n))
            .collect();
        match profile::values_from_entries(ir, &refs) {
            Ok(_) if !bad.is_empty() => return None,
            Ok(v) => {
                let mut out = vec![None; ir.facts.len()];
                for (k, _) in &base.entries {
                    if let Some(id) = ir.fact_id(k) {
                        if let Some(slot) = out.get_mut(id.index()) {
                            *slot = v.get(id.index()).copied();
                        }
                    }
                }
                return Some(out);
            }
            Err(e) => {
                let fact = e.fact.clone().unwrap_or_default();
                ctx.at(
                    base.pos_of(&fact).unwrap_or(doc),
                    format!("base: {}", e.message),
                );
                if fact.is_empty() || bad.contains(&fact) {
                    return None;
                }
                bad.push(fact);
            }
        }
    }
    None
}
