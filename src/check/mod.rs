//! Check: name resolution, typing and limits, from the AST to the [`ir::Ir`].
//!
//! Every error of a file is reported (sorted by position), not only the first; warnings
//! ride along. `check` fails only with at least one error.

pub mod ir;
mod lints;
mod resolve;
mod types;

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Severity};
use crate::syntax::ast::File;
use ir::{FactId, Ir, MethodId};

/// Check a parsed file. Returns the IR when there is no error, and every diagnostic
/// (errors and warnings) sorted by position.
pub fn check(file: &File) -> (Option<Ir>, Vec<Diagnostic>) {
    let mut c = Checker::default();
    let ir = c.run(file);
    let mut diags = c.diags;
    diags.sort_by_key(|d| (d.span.start, d.span.end, d.code));
    let has_errors = diags.iter().any(|d| d.severity() == Severity::Error);
    (if has_errors { None } else { Some(ir) }, diags)
}

/// Type a lone expression against a checked policy's facts (conditions in simulation
/// models). Errors are the same diagnostics as inside a policy; spans are the
/// expression's own.
pub(crate) fn check_expr(
    ir: &Ir,
    e: &crate::syntax::ast::Expr,
) -> Result<ir::Cond, Vec<Diagnostic>> {
    let mut c = Checker {
        facts: ir.facts.clone(),
        fact_ids: ir
            .facts
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), FactId(i as u32)))
            .collect(),
        used_facts: vec![false; ir.facts.len()],
        ..Checker::default()
    };
    let cond = c.cond(e);
    let errors: Vec<Diagnostic> = c
        .diags
        .into_iter()
        .filter(|d| d.severity() == Severity::Error)
        .collect();
    if errors.is_empty() {
        Ok(cond)
    } else {
        Err(errors)
    }
}

#[derive(Default)]
pub(crate) struct Checker {
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) facts: Vec<ir::Fact>,
    pub(crate) fact_ids: HashMap<String, FactId>,
    pub(crate) methods: Vec<ir::Method>,
    pub(crate) method_ids: HashMap<String, MethodId>,
    /// Facts named in some expression.
    pub(crate) used_facts: Vec<bool>,
    /// Methods named in some step or notify.
    pub(crate) used_methods: Vec<bool>,
}

impl Checker {
    fn run(&mut self, file: &File) -> Ir {
        self.declare_facts(file);
        self.declare_methods(file);
        self.used_facts = vec![false; self.facts.len()];
        self.used_methods = vec![false; self.methods.len()];
        self.method_requires(file);
        let denies = self.deny_rules(file);
        let paths = self.paths(file);
        self.lint_unused();
        Ir {
            name: file.name.text.clone(),
            facts: std::mem::take(&mut self.facts),
            methods: std::mem::take(&mut self.methods),
            denies,
            paths,
        }
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}
