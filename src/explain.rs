//! Why each deny rule fires or not, and why each path is or is not available, for one
//! profile. Works on the IR (the reference semantics) and points into the source.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fmt;

use serde::Serialize;

use crate::check::ir::{Cond, CondKind, Ir, Step};
use crate::source::{line_col, Span};
use crate::Policy;

/// The explanation of one decision.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// One entry per deny rule, in declaration order.
    pub denies: Vec<DenyWhy>,
    /// One entry per path, in declaration order.
    pub paths: Vec<PathWhy>,
}

/// Whether a deny rule fired.
#[derive(Clone, Debug, Serialize)]
pub struct DenyWhy {
    /// The rule's reason.
    pub reason: String,
    /// Whether its condition holds.
    pub fires: bool,
    /// Source line of the rule.
    pub line: usize,
}

/// Whether a path is available, and why.
#[derive(Clone, Debug, Serialize)]
pub struct PathWhy {
    /// The path's name.
    pub path: String,
    /// Available for this profile (ignoring deny rules).
    pub available: bool,
    /// The first condition or step requirement that fails, or why it is available.
    pub because: String,
    /// Source line of that condition or step (the path's line when available).
    pub line: usize,
}

/// The first part of `c` that makes it false (for `and`, the first false conjunct,
/// recursively); the whole condition otherwise.
fn culprit(c: &Cond, values: &[i64]) -> Span {
    match &c.kind {
        CondKind::And(cs) => cs
            .iter()
            .find(|x| !x.eval(values))
            .map_or(c.span, |x| culprit(x, values)),
        _ => c.span,
    }
}

fn text(src: &str, span: Span) -> String {
    src.get(span.start..span.end)
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Explain the decision of `policy` for dense `values`.
pub fn explain(policy: &Policy, values: &[i64]) -> Explanation {
    let ir: &Ir = policy.ir();
    let src = policy.source();
    let line = |s: Span| line_col(src, s.start).line;
    let show = |s: Span| text(src, s);
    let denies = ir
        .denies
        .iter()
        .map(|d| DenyWhy {
            reason: d.reason.clone(),
            fires: d.when.eval(values),
            line: line(d.span),
        })
        .collect();
    let mut paths = Vec::new();
    'paths: for p in &ir.paths {
        if !p.when.eval(values) {
            let s = culprit(&p.when, values);
            paths.push(PathWhy {
                path: p.name.clone(),
                available: false,
                because: format!("`when` fails: `{}` is false", show(s)),
                line: line(s),
            });
            continue;
        }
        for (i, step) in p.steps.iter().enumerate() {
            let span = p.step_spans.get(i).copied().unwrap_or(p.span);
            let failing: Vec<String> = step
                .methods()
                .iter()
                .map(|m| ir.method(*m))
                .filter(|m| !m.requires.eval(values))
                .map(|m| {
                    let c = culprit(&m.requires, values);
                    format!("`{}` requires `{}` (line {})", m.name, show(c), line(c))
                })
                .collect();
            let usable = step.methods().len() - failing.len();
            if usable < step.needed() {
                let because = match step {
                    Step::Method(_) => {
                        format!("step {}: {}, which is false", i + 1, failing.join("; "))
                    }
                    Step::Any { n, methods } => format!(
                        "step {}: `any {n} of` has {usable} of {} methods usable: {}",
                        i + 1,
                        methods.len(),
                        failing.join("; ")
                    ),
                };
                paths.push(PathWhy {
                    path: p.name.clone(),
                    available: false,
                    because,
                    line: line(span),
                });
                continue 'paths;
            }
        }
        let when = if p.when.is_always() {
            "no `when`".to_string()
        } else {
            format!("`when {}` holds", show(p.when.span))
        };
        paths.push(PathWhy {
            path: p.name.clone(),
            available: true,
            because: format!("{when} and every step has enough usable methods"),
            line: line(p.name_span),
        });
    }
    Explanation { denies, paths }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.denies {
            let verdict = if d.fires { "fires" } else { "does not fire" };
            writeln!(f, "  deny \"{}\" {verdict} (line {})", d.reason, d.line)?;
        }
        for p in &self.paths {
            let mark = if p.available {
                "available"
            } else {
                "unavailable"
            };
            writeln!(
                f,
                "  path {} (line {}): {mark} — {}",
                p.path, p.line, p.because
            )?;
        }
        Ok(())
    }
}
