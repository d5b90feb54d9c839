//! Declarations: facts, methods, deny rules and paths, with duplicates, resolution and
//! clause rules.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};

use super::ir::{self, Cond, FactId, FactType, MethodId};
use super::Checker;
use crate::diagnostic::{suggestion, Code, Diagnostic};
use crate::syntax::ast::{self, Clause, File, Item, LiteralKind, Name, TypeExpr};

impl Checker {
    pub(super) fn declare_facts(&mut self, file: &File) {
        for item in &file.items {
            let Item::Facts(block) = item else { continue };
            for decl in &block.facts {
                if let Some(first) = self.fact_ids.get(&decl.name.text) {
                    let first_span = self.facts[first.index()].span;
                    let d = Diagnostic::new(
                        Code::E0002,
                        decl.name.span,
                        format!("fact `{}` is declared twice", decl.name.text),
                        "declared again here",
                    )
                    .with_label(first_span, "first declared here")
                    .with_help("remove one of the declarations, or rename one");
                    self.push(d);
                    continue;
                }
                let ty = self.fact_type(decl);
                let mut fact = ir::Fact {
                    name: decl.name.text.clone(),
                    ty,
                    default: None,
                    span: decl.name.span,
                };
                if let Some(lit) = &decl.default {
                    fact.default = self.default_value(&fact, lit);
                }
                let id = FactId(self.facts.len() as u32);
                self.fact_ids.insert(fact.name.clone(), id);
                self.facts.push(fact);
            }
        }
        self.check_prefixes();
    }

    fn fact_type(&mut self, decl: &ast::FactDecl) -> FactType {
        match &decl.ty {
            TypeExpr::Bool => FactType::Bool,
            TypeExpr::Int { lo, hi, span } => {
                if lo > hi {
                    self.push(
                        Diagnostic::new(
                            Code::E0010,
                            *span,
                            format!("the range {lo}..{hi} of `{}` is empty", decl.name.text),
                            "lower bound is above upper bound",
                        )
                        .with_help(format!("write the lower bound first: `int {hi}..{lo}`")),
                    );
                    FactType::Int { lo: *hi, hi: *lo }
                } else {
                    FactType::Int { lo: *lo, hi: *hi }
                }
            }
            TypeExpr::Enum(vs) => {
                let mut seen: HashMap<&str, &Name> = HashMap::new();
                let mut out = Vec::new();
                for v in vs {
                    if let Some(first) = seen.get(v.text.as_str()) {
                        self.push(
                            Diagnostic::new(
                                Code::E0020,
                                v.span,
                                format!(
                                    "variant `{}` of `{}` is listed twice",
                                    v.text, decl.name.text
                                ),
                                "listed again here",
                            )
                            .with_label(first.span, "first listed here")
                            .with_help(
                                "an enum needs at least two distinct variants; remove the repeat",
                            ),
                        );
                        continue;
                    }
                    seen.insert(&v.text, v);
                    out.push(v.text.clone());
                }
                if out.len() < 2 {
                    // Keep a usable type; the error above explains.
                    out.push(format!("{}_", out.first().cloned().unwrap_or_default()));
                }
                FactType::Enum(out)
            }
        }
    }

    fn default_value(&mut self, fact: &ir::Fact, lit: &ast::Literal) -> Option<i64> {
        let v = self.literal_value(fact, lit)?;
        if let FactType::Int { lo, hi } = fact.ty {
            if v < lo || v > hi {
                self.push(
                    Diagnostic::new(
                        Code::E0011,
                        lit.span,
                        format!("default {v} of `{}` lies outside {lo}..{hi}", fact.name),
                        "outside the declared range",
                    )
                    .with_help(format!("pick a default between {lo} and {hi}")),
                );
                return None;
            }
        }
        Some(v)
    }

    /// Encode a literal as a value of `fact`'s type, or report a type error.
    pub(super) fn literal_value(&mut self, fact: &ir::Fact, lit: &ast::Literal) -> Option<i64> {
        match (&fact.ty, &lit.kind) {
            (FactType::Bool, LiteralKind::Bool(b)) => Some(*b as i64),
            (FactType::Int { .. }, LiteralKind::Int(i)) => Some(*i),
            (FactType::Enum(vs), LiteralKind::Variant(v)) => {
                if let Some(i) = vs.iter().position(|x| x == v) {
                    Some(i as i64)
                } else {
                    let help = suggestion(v, vs.iter().map(String::as_str)).unwrap_or_else(|| {
                        format!("`{}` has the variants {}", fact.name, quoted_list(vs))
                    });
                    self.push(
                        Diagnostic::new(
                            Code::E0008,
                            lit.span,
                            format!("`{v}` is not a variant of `{}`", fact.name),
                            "unknown variant",
                        )
                        .with_help(help)
                        .with_label(fact.span, "fact declared here"),
                    );
                    None
                }
            }
            (ty, kind) => {
                let found = match kind {
                    LiteralKind::Bool(_) => "a bool",
                    LiteralKind::Int(_) => "an integer",
                    LiteralKind::Variant(_) => "an enum variant",
                };
                let expected = match ty {
                    FactType::Bool => "`true` or `false`".to_string(),
                    FactType::Int { lo, hi } => format!("an integer in {lo}..{hi}"),
                    FactType::Enum(vs) => format!("one of {}", quoted_list(vs)),
                };
                self.push(
                    Diagnostic::new(
                        Code::E0007,
                        lit.span,
                        format!("`{}` is {}, but this is {found}", fact.name, ty.describe()),
                        format!("expected {expected}"),
                    )
                    .with_label(fact.span, "fact declared here")
                    .with_help(format!("use {expected}")),
                );
                None
            }
        }
    }

    /// DESIGN.md: a fact name may not also be the prefix of another fact.
    fn check_prefixes(&mut self) {
        let mut by_name: Vec<(String, usize)> = self
            .facts
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        by_name.sort();
        let mut found = Vec::new();
        for (name, i) in &by_name {
            let prefix = format!("{name}.");
            for (other, j) in by_name.iter().filter(|(o, _)| o.starts_with(&prefix)) {
                found.push((*i, *j, name.clone(), other.clone()));
            }
        }
        for (i, j, name, other) in found {
            let (later, earlier) = if i > j { (i, j) } else { (j, i) };
            let d = Diagnostic::new(
                Code::E0014,
                self.facts[later].span,
                format!("fact `{name}` is a prefix of fact `{other}`"),
                "clashes with another fact",
            )
            .with_label(self.facts[earlier].span, "the other fact")
            .with_help(format!(
                "a profile could not tell `{name}` from the object holding `{other}`; rename one (e.g. `{name}.value`)"
            ));
            self.push(d);
        }
    }

    pub(super) fn declare_methods(&mut self, file: &File) {
        for item in &file.items {
            let Item::Methods(block) = item else { continue };
            for decl in &block.methods {
                if let Some(first) = self.method_ids.get(&decl.name.text) {
                    let first_span = self.methods[first.index()].span;
                    self.push(
                        Diagnostic::new(
                            Code::E0004,
                            decl.name.span,
                            format!("method `{}` is declared twice", decl.name.text),
                            "declared again here",
                        )
                        .with_label(first_span, "first declared here")
                        .with_help("remove one of the declarations, or rename one"),
                    );
                    continue;
                }
                let id = MethodId(self.methods.len() as u32);
                self.method_ids.insert(decl.name.text.clone(), id);
                self.methods.push(ir::Method {
                    name: decl.name.text.clone(),
                    factor: decl.factor,
                    restricted: decl.restricted,
                    requires: Cond::always(),
                    span: decl.name.span,
                });
            }
        }
    }

    pub(super) fn method_requires(&mut self, file: &File) {
        for item in &file.items {
            let Item::Methods(block) = item else { continue };
            for decl in &block.methods {
                let Some(req) = &decl.requires else { continue };
                let cond = self.cond(req);
                // Duplicates were reported; only the first declaration gets its condition.
                if let Some(id) = self.method_ids.get(&decl.name.text).copied() {
                    if self.methods[id.index()].span == decl.name.span {
                        self.methods[id.index()].requires = cond;
                    }
                }
            }
        }
    }

    pub(super) fn deny_rules(&mut self, file: &File) -> Vec<ir::DenyRule> {
        let mut out = Vec::new();
        let mut reasons: BTreeMap<String, crate::source::Span> = BTreeMap::new();
        for item in &file.items {
            let Item::Deny(rule) = item else { continue };
            if let Some(first) = reasons.get(&rule.reason) {
                self.push(
                    Diagnostic::new(
                        Code::W0005,
                        rule.reason_span,
                        format!("two deny rules give the reason \"{}\"", rule.reason),
                        "same reason again",
                    )
                    .with_label(*first, "first given here")
                    .with_help(
                        "merge the conditions with `or`, or make the reasons tell the cases apart",
                    ),
                );
            } else {
                reasons.insert(rule.reason.clone(), rule.reason_span);
            }
            let when = self.cond(&rule.when);
            out.push(ir::DenyRule {
                reason: rule.reason.clone(),
                when,
                span: rule.span,
            });
        }
        out
    }

    pub(super) fn resolve_method(&mut self, n: &Name) -> Option<MethodId> {
        match self.method_ids.get(&n.text) {
            Some(id) => {
                self.used_methods[id.index()] = true;
                Some(*id)
            }
            None => {
                let help = suggestion(&n.text, self.method_ids.keys().map(String::as_str))
                    .unwrap_or_else(|| "declare it in a `methods { … }` block".into());
                self.push(
                    Diagnostic::new(
                        Code::E0005,
                        n.span,
                        format!("unknown method `{}`", n.text),
                        "not declared",
                    )
                    .with_help(help),
                );
                None
            }
        }
    }

    pub(super) fn paths(&mut self, file: &File) -> Vec<ir::Path> {
        let mut out: Vec<ir::Path> = Vec::new();
        let mut seen: HashMap<String, crate::source::Span> = HashMap::new();
        for item in &file.items {
            let Item::Path(p) = item else { continue };
            if let Some(first) = seen.get(&p.name.text) {
                self.push(
                    Diagnostic::new(
                        Code::E0006,
                        p.name.span,
                        format!("path `{}` is declared twice", p.name.text),
                        "declared again here",
                    )
                    .with_label(*first, "first declared here")
                    .with_help("rename one of the paths"),
                );
            } else {
                seen.insert(p.name.text.clone(), p.name.span);
            }
            out.push(self.path(p));
        }
        out
    }

    fn path(&mut self, p: &ast::PathDecl) -> ir::Path {
        let mut first: HashMap<&'static str, crate::source::Span> = HashMap::new();
        let mut path = ir::Path {
            name: p.name.text.clone(),
            title: p.title.clone(),
            when: Cond::always(),
            steps: Vec::new(),
            step_spans: Vec::new(),
            grants: String::new(),
            wait_s: 0,
            notify: Vec::new(),
            name_span: p.name.span,
            span: p.span,
        };
        for clause in &p.clauses {
            let kw = clause.keyword();
            if let Some(at) = first.get(kw) {
                self.push(
                    Diagnostic::new(
                        Code::E0019,
                        clause.span(),
                        format!("path `{}` has more than one `{kw}` clause", p.name.text),
                        "given again here",
                    )
                    .with_label(*at, "first given here")
                    .with_help(match kw {
                        "when" => "combine the conditions with `and`",
                        "steps" => "chain the steps with `then` in one clause",
                        "notify" => "list every method in one `notify a, b`",
                        _ => "keep one of them",
                    }),
                );
                self.mark_used(clause);
                continue;
            }
            first.insert(kw, clause.span());
            match clause {
                Clause::When(e, _) => path.when = self.cond(e),
                Clause::Steps(steps, _) => self.steps(p, steps, &mut path),
                Clause::Grants(g, _) => path.grants = g.text.clone(),
                Clause::Wait(d, _) => path.wait_s = d.seconds().unwrap_or(u64::MAX),
                Clause::Notify(ms, _) => {
                    for m in ms {
                        if let Some(id) = self.resolve_method(m) {
                            if !path.notify.contains(&id) {
                                path.notify.push(id);
                            }
                        }
                    }
                }
            }
        }
        for kw in ["steps", "grants"] {
            if !first.contains_key(kw) {
                let example = if kw == "steps" {
                    "steps email_link then questions"
                } else {
                    "grants reset_password"
                };
                self.push(
                    Diagnostic::new(
                        Code::E0018,
                        p.name.span,
                        format!("path `{}` has no `{kw}` clause", p.name.text),
                        format!("`{kw}` missing in this path"),
                    )
                    .with_help(format!(
                        "every path needs exactly one `{kw}`, e.g. `{example}`"
                    )),
                );
            }
        }
        path
    }

    /// Mark the methods named in a rejected clause as used, so that one error does not
    /// also produce "unused method" warnings.
    fn mark_used(&mut self, clause: &Clause) {
        let names: Vec<&Name> = match clause {
            Clause::Steps(steps, _) => steps.iter().flat_map(step_method_names).collect(),
            Clause::Notify(ms, _) => ms.iter().collect(),
            _ => Vec::new(),
        };
        for n in names {
            if let Some(id) = self.method_ids.get(&n.text) {
                self.used_methods[id.index()] = true;
            }
        }
    }

    fn steps(&mut self, p: &ast::PathDecl, steps: &[ast::Step], path: &mut ir::Path) {
        let mut used: HashMap<MethodId, crate::source::Span> = HashMap::new();
        for step in steps {
            let ir_step = match step {
                ast::Step::Method(n) => self.resolve_method(n).map(ir::Step::Method),
                ast::Step::Any {
                    n,
                    n_span,
                    methods,
                    span,
                } => {
                    let mut ids = Vec::new();
                    let mut listed: HashMap<&str, &Name> = HashMap::new();
                    for m in methods {
                        if let Some(first) = listed.get(m.text.as_str()) {
                            self.push(
                                Diagnostic::new(
                                    Code::E0013,
                                    m.span,
                                    format!("`{}` is listed twice in `any {n} of`", m.text),
                                    "listed again here",
                                )
                                .with_label(first.span, "first listed here")
                                .with_help("list each method once"),
                            );
                            continue;
                        }
                        listed.insert(&m.text, m);
                        if let Some(id) = self.resolve_method(m) {
                            ids.push(id);
                        }
                    }
                    if *n < 1 || *n > methods.len() as i64 {
                        self.push(
                            Diagnostic::new(
                                Code::E0012,
                                *n_span,
                                format!(
                                    "`any {n} of` lists {} method{}",
                                    methods.len(),
                                    if methods.len() == 1 { "" } else { "s" }
                                ),
                                format!("must be between 1 and {}", methods.len()),
                            )
                            .with_label(*span, "in this step")
                            .with_help(format!(
                                "N counts how many of the listed methods must succeed: 1 ≤ N ≤ {}",
                                methods.len()
                            )),
                        );
                        None
                    } else if ids.len() == methods.len() {
                        Some(ir::Step::Any {
                            n: *n as u32,
                            methods: ids,
                        })
                    } else {
                        None
                    }
                }
            };
            for (name, id) in
                step_method_names(step).zip(ir_step.iter().flat_map(|s| s.methods().to_vec()))
            {
                if let Some(first) = used.get(&id) {
                    self.push(
                        Diagnostic::new(
                            Code::W0004,
                            name.span,
                            format!("method `{}` appears twice in the steps of path `{}`", name.text, p.name.text),
                            "used again here",
                        )
                        .with_label(*first, "first used here")
                        .with_help("a method proven once proves nothing new the second time; use another method"),
                    );
                } else {
                    used.insert(id, name.span);
                }
            }
            if let Some(s) = ir_step {
                path.steps.push(s);
                path.step_spans.push(step.span());
            }
        }
    }
}

fn step_method_names(step: &ast::Step) -> Box<dyn Iterator<Item = &Name> + '_> {
    match step {
        ast::Step::Method(n) => Box::new(std::iter::once(n)),
        ast::Step::Any { methods, .. } => Box::new(methods.iter()),
    }
}

pub(super) fn quoted_list(vs: &[String]) -> String {
    vs.iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
