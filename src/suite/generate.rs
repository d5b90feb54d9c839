//! Cases drawn from the decision graph: a profile that reaches a terminal, a name that
//! says the terminal's decision, and the case as YAML (for `--generate`, and for
//! `--coverage` to paste).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use saphyr::Scalar;

use super::{denies_holding, diff_profile};
use crate::analyze::regions::{Cube, View};
use crate::check::ir::{DenyId, FactId, FactType, Ir};
use crate::decision::{Decision, DecisionKind, Offer};
use crate::Engine;

/// At most this many cubes are looked at to pick a terminal's condition.
const CUBES: usize = 64;

/// A profile that reaches one terminal, and the condition it was drawn from.
pub(crate) struct Sample {
    /// The condition (the largest of the terminal's cubes that were looked at).
    pub cube: Cube,
    /// Dense values inside the cube, as close to the fill values as it allows.
    pub values: Vec<i64>,
}

/// A profile reaching terminal `t`: facts the condition leaves free keep their fill
/// value (the suite's base or the fact's default; else the lowest value), and so do
/// constrained facts whose fill value satisfies the condition. `None` if no profile
/// was found (the result is checked against the graph).
pub(crate) fn sample(
    engine: &Engine,
    v: &View<'_>,
    t: usize,
    fill: &[Option<i64>],
) -> Option<Sample> {
    let target = |x: u32| x as usize == t;
    let cubes: Vec<Cube> = match v.cover(&target, CUBES) {
        Some(c) => c,
        None => v
            .cubes_upto(&target, CUBES)
            .0
            .into_iter()
            .map(|(_, c)| c)
            .collect(),
    };
    let cube = cubes
        .into_iter()
        .max_by(|a, b| v.cube_share(a).total_cmp(&v.cube_share(b)))?;
    let ir = engine.policy().ir();
    let classes = engine.graph().classes();
    let mut values: Vec<i64> = ir
        .facts
        .iter()
        .enumerate()
        .map(|(i, f)| {
            fill.get(i)
                .copied()
                .flatten()
                .unwrap_or_else(|| f.ty.bounds().0)
        })
        .collect();
    for lit in &cube {
        let f = lit.fact as usize;
        let cls = classes.get(f)?;
        let slot = values.get_mut(f)?;
        if !cls.of(*slot).is_some_and(|c| lit.classes.contains(&c)) {
            *slot = cls.representative(*lit.classes.first()? as usize);
        }
    }
    (engine.terminal_of(&values) == Some(t)).then_some(Sample { cube, values })
}

/// A case name that says the decision: `allow sms, email`, `deny: account is frozen`,
/// `lockout`.
pub fn decision_name(d: &Decision) -> String {
    match d.kind() {
        DecisionKind::Allow => format!("allow {}", d.path_names().join(", ")),
        DecisionKind::Deny => format!("deny: {}", d.denied_by().join("; ")),
        DecisionKind::Lockout => "lockout".into(),
    }
}

/// Terminals grouped by [`decision_name`]: terminals of one group differ only in the
/// usable methods of their paths (allow) or in which deny rules with the same reasons
/// hold (deny).
pub(crate) struct Groups<'a> {
    decisions: &'a [Decision],
    by_name: HashMap<String, Vec<usize>>,
}

impl<'a> Groups<'a> {
    pub fn new(decisions: &'a [Decision]) -> Self {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (t, d) in decisions.iter().enumerate() {
            by_name.entry(decision_name(d)).or_default().push(t);
        }
        Groups { decisions, by_name }
    }

    /// The other terminals with the same decision name as `t`.
    pub fn siblings(&self, t: usize) -> Vec<usize> {
        self.decisions
            .get(t)
            .and_then(|d| self.by_name.get(&decision_name(d)))
            .map(|g| g.iter().copied().filter(|u| *u != t).collect())
            .unwrap_or_default()
    }

    /// The offers of `t` with steps whose usable methods differ in some sibling, and
    /// those steps (0-based).
    pub fn pinned(&self, t: usize) -> Vec<(&'a Offer, Vec<usize>)> {
        let Some(d) = self.decisions.get(t) else {
            return Vec::new();
        };
        let sibs = self.siblings(t);
        d.paths()
            .iter()
            .filter_map(|o| {
                let steps: Vec<usize> = (0..o.steps().len())
                    .filter(|i| {
                        sibs.iter().any(|u| {
                            self.decisions.get(*u).is_some_and(|du| {
                                du.paths().iter().any(|x| {
                                    x.path_index() == o.path_index()
                                        && x.steps().get(*i) != o.steps().get(*i)
                                })
                            })
                        })
                    })
                    .collect();
                (!steps.is_empty()).then_some((&**o, steps))
            })
            .collect()
    }

    /// The case name of terminal `t`, reached with deny rules `fired`: the decision's
    /// name, and when a sibling shares it, what tells them apart (the usable methods of
    /// the differing paths, or the lines of the deny rules).
    pub fn name(&self, engine: &Engine, t: usize, fired: &[DenyId]) -> String {
        let Some(d) = self.decisions.get(t) else {
            return format!("terminal {t}");
        };
        let base = decision_name(d);
        if self.siblings(t).is_empty() {
            return base;
        }
        match d.kind() {
            DecisionKind::Allow => {
                let parts: Vec<String> = self
                    .pinned(t)
                    .iter()
                    .flat_map(|(o, steps)| {
                        steps.iter().map(move |i| {
                            let methods = o.steps().get(*i).map(|m| m.join(", "));
                            format!(
                                "{} step {}: {}",
                                o.name(),
                                i + 1,
                                methods.unwrap_or_default()
                            )
                        })
                    })
                    .collect();
                if parts.is_empty() {
                    base
                } else {
                    format!("{base} ({})", parts.join("; "))
                }
            }
            DecisionKind::Deny => {
                let policy = engine.policy();
                let lines: Vec<String> = fired
                    .iter()
                    .filter_map(|id| policy.ir().denies.get(id.index()))
                    .map(|r| {
                        crate::source::line_col(policy.source(), r.span.start)
                            .line
                            .to_string()
                    })
                    .collect();
                let rules = if lines.len() == 1 {
                    "rule at line"
                } else {
                    "rules at lines"
                };
                format!("{base} ({rules} {})", lines.join(", "))
            }
            DecisionKind::Lockout => base,
        }
    }
}

/// YAML 1.1 words that some readers take for booleans or null.
const YAML11_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

/// A name as a YAML scalar: plain when every reader takes it for that text, else
/// double-quoted (JSON escapes are valid YAML).
pub fn yaml_name(s: &str) -> String {
    let plain_chars = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let is_text = matches!(
        Scalar::parse_from_cow(s.into()),
        Scalar::String(ref t) if t == s
    );
    if plain_chars && is_text && !YAML11_WORDS.contains(&s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A double-quoted YAML scalar.
pub(crate) fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
}

fn value_yaml(ir: &Ir, f: FactId, v: i64) -> String {
    let Some(fact) = ir.facts.get(f.index()) else {
        return v.to_string();
    };
    match fact.ty {
        // Quoted: a variant such as `null` or `NO` must stay a string for every reader.
        FactType::Enum(_) => quoted(&fact.show(v)),
        _ => fact.show(v),
    }
}

/// A profile as a YAML flow mapping: `{phone.active: false, account.risk: "high"}`.
pub fn profile_yaml(ir: &Ir, profile: &[(FactId, i64)]) -> String {
    let parts: Vec<String> = profile
        .iter()
        .filter_map(|(f, v)| {
            let fact = ir.facts.get(f.index())?;
            Some(format!(
                "{}: {}",
                yaml_name(&fact.name),
                value_yaml(ir, *f, *v)
            ))
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn names_yaml<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let v: Vec<String> = items.into_iter().map(|s| yaml_name(s.as_ref())).collect();
    format!("[{}]", v.join(", "))
}

/// One case as YAML, indented as an item of `cases:`. `pinned` offers also get a
/// `path` expectation with the usable methods of the listed steps.
pub(crate) fn case_yaml(
    ir: &Ir,
    name: &str,
    profile: &[(FactId, i64)],
    d: &Decision,
    pinned: &[(&Offer, Vec<usize>)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  - name: {}", quoted(name));
    let _ = writeln!(out, "    profile: {}", profile_yaml(ir, profile));
    let _ = writeln!(out, "    expect:\n      decision: {}", d.kind().as_str());
    match d.kind() {
        DecisionKind::Allow => {
            let _ = writeln!(out, "      paths: {}", names_yaml(d.path_names()));
            let pins: Vec<String> = pinned
                .iter()
                .map(|(o, steps)| {
                    let steps: Vec<String> = steps
                        .iter()
                        .filter_map(|i| {
                            let m = o.steps().get(*i)?;
                            Some(format!("{}: {}", i + 1, names_yaml(m)))
                        })
                        .collect();
                    format!(
                        "{{name: {}, steps: {{{}}}}}",
                        yaml_name(o.name()),
                        steps.join(", ")
                    )
                })
                .collect();
            match pins.as_slice() {
                [] => {}
                [one] => {
                    let _ = writeln!(out, "      path: {one}");
                }
                many => {
                    let _ = writeln!(out, "      path: [{}]", many.join(", "));
                }
            }
        }
        DecisionKind::Deny => {
            let reasons: Vec<String> = d.denied_by().iter().map(|r| quoted(r)).collect();
            let _ = writeln!(out, "      denied_by: [{}]", reasons.join(", "));
        }
        DecisionKind::Lockout => {}
    }
    out
}

/// `name`, or `name #2`, `name #3`, … — the first not in `taken` (which it joins).
pub(crate) fn unique(name: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(name.clone()) {
        return name;
    }
    let mut k = 2usize;
    loop {
        let n = format!("{name} #{k}");
        if taken.insert(n.clone()) {
            return n;
        }
        k = k.saturating_add(1);
    }
}

/// A suite that reaches every terminal of `engine`'s graph, one case per terminal,
/// named by its decision and expecting today's decisions (a starting point for QA:
/// review every case). `policy_path` is written as the suite's `policy`.
pub fn generate(engine: &Engine, policy_path: &str) -> String {
    let ir = engine.policy().ir();
    let v = crate::analyze::view(engine);
    let decisions = engine.graph().decisions();
    let groups = Groups::new(decisions);
    let fill: Vec<Option<i64>> = ir.facts.iter().map(|f| f.default).collect();
    let mut out = format!(
        "# Generated by `regain test --generate`: one case per decision-graph terminal,\n# named by its decision and expecting the decisions of the policy as it is now.\n# Review before relying on it.\npolicy: {}\ncases:\n",
        yaml_name_path(policy_path)
    );
    let mut taken = HashSet::new();
    for (t, d) in decisions.iter().enumerate() {
        let Some(s) = sample(engine, &v, t, &fill) else {
            let _ = writeln!(
                out,
                "  # terminal {t} ({}): no profile found to reach it",
                decision_name(d)
            );
            continue;
        };
        let fired = denies_holding(ir, &s.values);
        let name = unique(groups.name(engine, t, &fired), &mut taken);
        let profile = diff_profile(ir, &fill, &s.values);
        out.push_str(&case_yaml(ir, &name, &profile, d, &groups.pinned(t)));
    }
    out
}

/// A file path as a YAML scalar (plain when it is simple).
fn yaml_name_path(p: &str) -> String {
    let simple = !p.starts_with('-')
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    let is_text = matches!(
        Scalar::parse_from_cow(p.into()),
        Scalar::String(ref t) if t == p
    );
    if simple && is_text && !YAML11_WORDS.contains(&p) {
        p.to_string()
    } else {
        quoted(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_only_when_every_reader_agrees() {
        assert_eq!(yaml_name("support"), "support");
        assert_eq!(yaml_name("phone.active"), "phone.active");
        assert_eq!(yaml_name("null"), "\"null\"");
        assert_eq!(yaml_name("yes"), "\"yes\"");
        assert_eq!(yaml_name("true"), "\"true\"");
        assert_eq!(yaml_name("a: b"), "\"a: b\"");
        assert_eq!(yaml_name(""), "\"\"");
        assert_eq!(quoted("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
    }

    #[test]
    fn paths_are_plain_when_simple() {
        assert_eq!(yaml_name_path("design.regain"), "design.regain");
        assert_eq!(
            yaml_name_path("../policies/a.regain"),
            "../policies/a.regain"
        );
        assert_eq!(yaml_name_path("./a.regain"), "./a.regain");
        assert_eq!(yaml_name_path("my dir/a.regain"), "\"my dir/a.regain\"");
        assert_eq!(yaml_name_path("-a.regain"), "\"-a.regain\"");
        assert_eq!(yaml_name_path("/abs/a.regain"), "/abs/a.regain");
    }

    #[test]
    fn unique_names_get_a_number() {
        let mut taken = HashSet::new();
        assert_eq!(unique("a".into(), &mut taken), "a");
        assert_eq!(unique("a".into(), &mut taken), "a #2");
        assert_eq!(unique("a".into(), &mut taken), "a #3");
    }
}
