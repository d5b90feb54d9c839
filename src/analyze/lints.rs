//! Lints, dead items and single points of compromise, each with a stable code and, where
//! it follows one, the standard it cites (docs/research.md).

use super::regions::View;
use super::{from_diagnostic, locate, Finding, Shares};
use crate::check::ir::Step;
use crate::decision::DecisionKind;
use crate::syntax::ast::Factor;
use crate::{Engine, Severity};

macro_rules! lint_codes {
    ($($code:ident $cites:expr, $title:literal;)*) => {
        /// Stable codes of analysis findings.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum LintCode { $(#[doc = $title] $code,)* }
        impl LintCode {
            /// `A001`, `L001`, …
            pub fn as_str(self) -> &'static str { match self { $(LintCode::$code => stringify!($code),)* } }
            /// What the code means.
            pub fn title(self) -> &'static str { match self { $(LintCode::$code => $title,)* } }
            /// The standard it follows, if any.
            pub fn cites(self) -> Option<&'static str> { match self { $(LintCode::$code => $cites,)* } }
            /// Every code.
            pub const ALL: &'static [LintCode] = &[$(LintCode::$code,)*];
        }
    };
}

lint_codes! {
    A001 None, "path never available";
    A002 None, "path never offered first";
    A003 None, "deny rule never fires";
    A004 None, "method can never be used";
    A005 Some("OWASP Forgot Password Cheat Sheet: always keep a way back in, even through support"), "profiles locked out";
    A006 Some("NIST SP 800-63B-4 §4.2.2: recovery at AAL2 needs two different methods"), "one method alone completes a path";
    A009 None, "regions truncated";
    A010 None, "acknowledgement that cannot be read or acknowledges nothing";
    L001 Some("NIST SP 800-63B-4 §3.1.1.2; OWASP: security questions are never the sole mechanism"), "a way through uses only knowledge methods";
    L002 Some("NIST SP 800-63B-4 §3.2.9: a restricted authenticator needs an unrestricted alternative"), "a way through uses only restricted methods";
    L003 Some("NIST SP 800-63B-4 §4.2.3 / §4.6: every recovery SHALL notify the subscriber"), "path grants without notify";
    L004 Some("NIST SP 800-63B-4 §4.2.1: an application-specific method needs a documented risk analysis; §4.2: extended waiting"), "human-only path without a wait";
    L005 Some("NIST SP 800-63B-4 §3.2.9: an unrestricted alternative SHALL be offered"), "only restricted or knowledge ways in";
}

/// Can every step be satisfied using only methods that pass `ok`?
fn way_through(steps: &[Step], ok: impl Fn(usize) -> bool) -> bool {
    steps
        .iter()
        .all(|s| s.methods().iter().filter(|m| ok(m.index())).count() >= s.needed())
}

fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p > 0.0 && p < 0.01 {
        format!("{p:.2e}%")
    } else {
        format!("{p:.2}%")
    }
}

pub(crate) fn findings(
    engine: &Engine,
    v: &View<'_>,
    tshares: &[f64],
    shares: &Shares,
) -> Vec<Finding> {
    let ir = engine.policy().ir();
    let decisions = engine.graph().decisions();
    let mut out: Vec<Finding> = Vec::new();
    let mut push = |code: LintCode, span, item: String, message: String, share: Option<f64>| {
        let (location, line) = locate(engine, span);
        out.push(Finding {
            code: code.as_str(),
            severity: Severity::Warning,
            message,
            cites: code.cites(),
            location,
            line,
            share,
            item,
            acknowledged: None,
        });
    };

    if shares.lockout > 0.0 {
        push(
            LintCode::A005,
            ir.paths.first().map_or(Default::default(), |p| p.name_span),
            "policy".to_string(),
            format!(
                "{} of profiles have no way back in (lockout)",
                pct(shares.lockout)
            ),
            Some(shares.lockout),
        );
    }
    // One pass over the terminals for what every path needs.
    let mut offered = vec![false; ir.paths.len()];
    let mut first = vec![false; ir.paths.len()];
    let mut fired = std::collections::HashSet::new();
    for d in decisions {
        for o in d.paths() {
            if let Some(x) = offered.get_mut(o.path_index()) {
                *x = true;
            }
        }
        if let Some(o) = d.paths().first() {
            if let Some(x) = first.get_mut(o.path_index()) {
                *x = true;
            }
        }
        for r in d.deny_ids() {
            fired.insert(*r);
        }
    }
    // Single points of compromise: (path, method) where the method alone completes
    // every step; their shares come from one more pass.
    let alone: Vec<Vec<usize>> = ir
        .paths
        .iter()
        .map(|p| {
            (0..ir.methods.len())
                .filter(|mi| {
                    p.steps
                        .iter()
                        .all(|s| s.needed() == 1 && s.methods().iter().any(|x| x.index() == *mi))
                })
                .collect()
        })
        .collect();
    let mut alone_share: std::collections::BTreeMap<(usize, usize), f64> = Default::default();
    for (d, share) in decisions.iter().zip(tshares) {
        for o in d.paths() {
            for mi in alone.get(o.path_index()).into_iter().flatten() {
                if o.step_ids()
                    .iter()
                    .all(|s| s.iter().any(|id| id.index() == *mi))
                {
                    *alone_share.entry((o.path_index(), *mi)).or_default() += share;
                }
            }
        }
    }
    for (pi, p) in ir.paths.iter().enumerate() {
        if !offered.get(pi).copied().unwrap_or(false) {
            push(
                LintCode::A001,
                p.name_span,
                format!("path {}", p.name),
                format!("path `{}` is never available", p.name),
                None,
            );
        } else if !first.get(pi).copied().unwrap_or(false) {
            push(
                LintCode::A002,
                p.name_span,
                format!("path {}", p.name),
                format!(
                    "path `{}` is never offered first: an earlier path is always available with it",
                    p.name
                ),
                None,
            );
        }
        let restricted = |m: usize| ir.methods.get(m).is_some_and(|m| m.restricted);
        let knowledge = |m: usize| {
            ir.methods
                .get(m)
                .is_some_and(|m| m.factor == Factor::Knowledge)
        };
        if way_through(&p.steps, knowledge) {
            push(
                LintCode::L001,
                p.name_span,
                format!("path {}", p.name),
                format!("path `{}` can be completed with knowledge methods alone (security questions, card numbers…)", p.name),
                None,
            );
        }
        if way_through(&p.steps, restricted) {
            push(
                LintCode::L002,
                p.name_span,
                format!("path {}", p.name),
                format!(
                    "path `{}` can be completed with restricted methods alone (SMS/voice)",
                    p.name
                ),
                None,
            );
        }
        if p.notify.is_empty() {
            push(
                LintCode::L003,
                p.name_span,
                format!("path {}", p.name),
                format!(
                    "path `{}` grants `{}` without notifying the owner",
                    p.name, p.grants
                ),
                None,
            );
        }
        let human_only = p.steps.iter().all(|s| {
            s.methods().iter().all(|m| {
                ir.methods
                    .get(m.index())
                    .is_some_and(|m| m.factor == Factor::Human)
            })
        });
        if human_only && p.wait_s == 0 {
            push(
                LintCode::L004,
                p.name_span,
                format!("path {}", p.name),
                format!(
                    "path `{}` relies on a human alone and has no `wait` for the owner to object",
                    p.name
                ),
                None,
            );
        }
        for (mi, m) in ir.methods.iter().enumerate() {
            let share = alone_share.get(&(pi, mi)).copied().unwrap_or(0.0);
            if share > 0.0 {
                push(
                    LintCode::A006,
                    p.name_span,
                    format!("path {} method {}", p.name, m.name),
                    format!(
                        "one compromised `{}` completes path `{}` for {} of profiles",
                        m.name,
                        p.name,
                        pct(share)
                    ),
                    Some(share),
                );
            }
        }
    }
    for (i, d) in ir.denies.iter().enumerate() {
        if !fired.contains(&crate::check::ir::DenyId(i as u32)) {
            push(
                LintCode::A003,
                d.span,
                format!("deny #{}", i + 1),
                format!("deny rule #{} (\"{}\") never fires", i + 1, d.reason),
                None,
            );
        }
    }
    for m in &ir.methods {
        if !satisfiable(v, &m.requires) {
            push(
                LintCode::A004,
                m.span,
                format!("method {}", m.name),
                format!(
                    "method `{}` can never be used: its `requires` is always false",
                    m.name
                ),
                None,
            );
        }
    }
    // Regions where every offered path can be done with restricted or knowledge methods.
    let weak: f64 = decisions
        .iter()
        .zip(tshares)
        .filter(|(d, _)| {
            d.kind() == DecisionKind::Allow
                && d.paths().iter().all(|o| {
                    o.step_ids()
                        .iter()
                        .zip(ir.paths.get(o.path_index()).map_or(&[][..], |p| &p.steps))
                        .all(|(usable, step)| {
                            usable
                                .iter()
                                .filter(|id| {
                                    ir.methods.get(id.index()).is_some_and(|m| {
                                        m.restricted || m.factor == Factor::Knowledge
                                    })
                                })
                                .count()
                                >= step.needed()
                        })
                })
        })
        .map(|(_, s)| s)
        .sum();
    if weak > 0.0 {
        push(
            LintCode::L005,
            ir.paths.first().map_or(Default::default(), |p| p.name_span),
            "policy".to_string(),
            format!(
                "for {} of profiles every offered path can be completed with restricted or knowledge methods alone",
                pct(weak)
            ),
            Some(weak),
        );
    }
    for d in engine.policy().warnings().items.iter() {
        out.push(from_diagnostic(engine, d));
    }
    out
}

/// Whether a condition holds for some profile: tries every class combination of the
/// facts it tests (conditions test few facts).
fn satisfiable(v: &View<'_>, c: &crate::check::ir::Cond) -> bool {
    let mut tests = Vec::new();
    c.tests(&mut tests);
    let mut facts: Vec<usize> = tests.iter().map(|t| t.fact().index()).collect();
    facts.sort_unstable();
    facts.dedup();
    let total: u64 = facts
        .iter()
        .map(|f| v.classes.get(*f).map_or(1, |c| c.count() as u64))
        .try_fold(1u64, |a, b| a.checked_mul(b))
        .unwrap_or(u64::MAX);
    if total > 1 << 20 {
        return true; // too many to try; assume satisfiable rather than report wrongly
    }
    let mut values: Vec<i64> = v.facts.iter().map(|f| f.ty.bounds().0).collect();
    for mut k in 0..total {
        for f in &facts {
            let (Some(c), Some(slot)) = (v.classes.get(*f), values.get_mut(*f)) else {
                continue;
            };
            let n = c.count().max(1) as u64;
            *slot = c.representative((k % n) as usize);
            k /= n;
        }
        if c.eval(&values) {
            return true;
        }
    }
    false
}
