//! Why each deny rule fires or not, and why each path is or is not available, for one
//! profile. Works on the IR (the reference semantics) and points into the source.

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
    /// Source line of the path (its `path` keyword).
    pub line: usize,
    /// Source line of the `when` condition or step that decides (the path's line when it
    /// is available).
    pub detail_line: usize,
}

/// The first part of `c` that makes it false (for `and`, the first false conjunct, and so
/// on down); the whole condition otherwise. Iterative.
fn culprit(c: &Cond, values: &[i64]) -> Span {
    let mut cur = c;
    loop {
        match &cur.kind {
            CondKind::And(cs) => match cs.iter().find(|x| !x.eval(values)) {
                Some(x) => cur = x,
                None => return cur.span,
            },
            CondKind::Const(_) | CondKind::Test(_) | CondKind::Not(_) | CondKind::Or(_) => {
                return cur.span
            }
        }
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
        // The `path` keyword starts the path's span.
        let path_line = line(p.span);
        if !p.when.eval(values) {
            let s = culprit(&p.when, values);
            paths.push(PathWhy {
                path: p.name.clone(),
                available: false,
                because: format!("`when` (line {}) fails: `{}` is false", line(s), show(s)),
                line: path_line,
                detail_line: line(s),
            });
            continue;
        }
        for (i, step) in p.steps.iter().enumerate() {
            let span = p.step_spans.get(i).copied().unwrap_or(p.span);
            let failing: Vec<String> = step
                .methods()
                .iter()
                .filter_map(|m| ir.methods.get(m.index()))
                .filter(|m| !m.requires.eval(values))
                .map(|m| {
                    let c = culprit(&m.requires, values);
                    format!("`{}` requires `{}` (line {})", m.name, show(c), line(c))
                })
                .collect();
            let usable = step.methods().len().saturating_sub(failing.len());
            if usable < step.needed() {
                let because = match step {
                    Step::Method(_) => format!(
                        "step {} (line {}): {}, which is false",
                        i + 1,
                        line(span),
                        failing.join("; ")
                    ),
                    Step::Any { n, methods } => format!(
                        "step {} (line {}): `any {n} of` has {usable} of {} methods usable: {}",
                        i + 1,
                        line(span),
                        methods.len(),
                        failing.join("; ")
                    ),
                };
                paths.push(PathWhy {
                    path: p.name.clone(),
                    available: false,
                    because,
                    line: path_line,
                    detail_line: line(span),
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
            line: path_line,
            detail_line: path_line,
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
