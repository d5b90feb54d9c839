//! The checked policy: names resolved to indices, expressions typed, clauses validated.
//!
//! Values of a profile are dense `i64`s, one per fact: a bool is 0 or 1, an int is
//! itself, an enum is the index of its variant.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::source::Span;
use crate::syntax::ast::{CmpOp, Factor};

/// Index of a fact in [`Ir::facts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FactId(pub u32);
/// Index of a method in [`Ir::methods`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MethodId(pub u32);
/// Index of a path in [`Ir::paths`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathId(pub u32);

impl FactId {
    /// As a vector index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl MethodId {
    /// As a vector index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
impl PathId {
    /// As a vector index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The type (domain) of a fact.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FactType {
    /// `bool`: values 0 (false) and 1 (true).
    Bool,
    /// `int lo..hi`, both ends included.
    Int {
        /// Lowest value.
        lo: i64,
        /// Highest value.
        hi: i64,
    },
    /// Variants by name; a value is the variant's index.
    Enum(Vec<String>),
}

impl FactType {
    /// The number of values in the domain.
    pub fn size(&self) -> u128 {
        match self {
            FactType::Bool => 2,
            FactType::Int { lo, hi } => (*hi as i128 - *lo as i128 + 1).max(0) as u128,
            FactType::Enum(v) => v.len() as u128,
        }
    }

    /// The smallest and largest encoded value.
    pub fn bounds(&self) -> (i64, i64) {
        match self {
            FactType::Bool => (0, 1),
            FactType::Int { lo, hi } => (*lo, *hi),
            FactType::Enum(v) => (0, v.len() as i64 - 1),
        }
    }

    /// How the type is written in the language.
    pub fn describe(&self) -> String {
        match self {
            FactType::Bool => "bool".into(),
            FactType::Int { lo, hi } => format!("int {lo}..{hi}"),
            FactType::Enum(v) => v.join(" | "),
        }
    }
}

/// A declared fact.
#[derive(Clone, Debug)]
pub struct Fact {
    /// The dotted name.
    pub name: String,
    /// Its type.
    pub ty: FactType,
    /// Encoded default value.
    pub default: Option<i64>,
    /// The declaration.
    pub span: Span,
}

impl Fact {
    /// A value written the way the language writes it (`true`, `3`, `high`).
    pub fn show(&self, v: i64) -> String {
        match &self.ty {
            FactType::Bool => (v != 0).to_string(),
            FactType::Int { .. } => v.to_string(),
            FactType::Enum(vs) => usize::try_from(v)
                .ok()
                .and_then(|i| vs.get(i))
                .cloned()
                .unwrap_or_else(|| format!("#{v}")),
        }
    }
}

/// A declared recovery method.
#[derive(Clone, Debug)]
pub struct Method {
    /// Name.
    pub name: String,
    /// Factor.
    pub factor: Factor,
    /// A restricted authenticator (NIST SP 800-63B-4 §3.2.9).
    pub restricted: bool,
    /// When the person can use it (`true` when absent).
    pub requires: Cond,
    /// The declaration.
    pub span: Span,
}

/// A `deny` rule.
#[derive(Clone, Debug)]
pub struct DenyRule {
    /// The reason shown to the caller.
    pub reason: String,
    /// When it applies.
    pub when: Cond,
    /// The rule.
    pub span: Span,
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// One method.
    Method(MethodId),
    /// At least `n` of the listed methods.
    Any {
        /// How many must succeed.
        n: u32,
        /// The listed methods, in order.
        methods: Vec<MethodId>,
    },
}

impl Step {
    /// The methods the step lists.
    pub fn methods(&self) -> &[MethodId] {
        match self {
            Step::Method(m) => std::slice::from_ref(m),
            Step::Any { methods, .. } => methods,
        }
    }

    /// How many of [`Step::methods`] must be usable / succeed.
    pub fn needed(&self) -> usize {
        match self {
            Step::Method(_) => 1,
            Step::Any { n, .. } => *n as usize,
        }
    }
}

/// A recovery path.
#[derive(Clone, Debug)]
pub struct Path {
    /// Name.
    pub name: String,
    /// Optional human title.
    pub title: Option<String>,
    /// The `when` condition (`true` when absent).
    pub when: Cond,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The spans of the steps.
    pub step_spans: Vec<Span>,
    /// What it grants.
    pub grants: String,
    /// Waiting period in seconds.
    pub wait_s: u64,
    /// Methods whose channels are notified.
    pub notify: Vec<MethodId>,
    /// The path's name in the source.
    pub name_span: Span,
    /// The whole path.
    pub span: Span,
}

/// A test of one fact.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Test {
    /// A bool fact equals `value`.
    Bool {
        /// The fact.
        fact: FactId,
        /// The value it must have.
        value: bool,
    },
    /// An int fact compared with a constant.
    Int {
        /// The fact.
        fact: FactId,
        /// The operator.
        op: CmpOp,
        /// The constant.
        k: i64,
    },
    /// An int fact is one of the constants.
    IntIn {
        /// The fact.
        fact: FactId,
        /// Sorted, deduplicated constants.
        values: Vec<i64>,
    },
    /// An enum fact's variant is in the set (`mask[variant]`).
    Enum {
        /// The fact.
        fact: FactId,
        /// One flag per variant.
        mask: Vec<bool>,
    },
}

impl Test {
    /// The fact tested.
    pub fn fact(&self) -> FactId {
        match self {
            Test::Bool { fact, .. }
            | Test::Int { fact, .. }
            | Test::IntIn { fact, .. }
            | Test::Enum { fact, .. } => *fact,
        }
    }

    /// Whether value `v` of the fact passes.
    pub fn holds(&self, v: i64) -> bool {
        match self {
            Test::Bool { value, .. } => (v != 0) == *value,
            Test::Int { op, k, .. } => op.holds(v, *k),
            Test::IntIn { values, .. } => values.binary_search(&v).is_ok(),
            Test::Enum { mask, .. } => usize::try_from(v)
                .ok()
                .and_then(|i| mask.get(i))
                .copied()
                .unwrap_or(false),
        }
    }

    /// The points where the test's outcome may change, as the start of each new interval
    /// (`v` such that `holds(v-1)` may differ from `holds(v)`). Used to cut int domains.
    pub fn cuts(&self) -> Vec<i64> {
        match self {
            Test::Bool { .. } | Test::Enum { .. } => Vec::new(),
            Test::Int { op, k, .. } => match op {
                CmpOp::Lt | CmpOp::Ge => vec![*k],
                CmpOp::Le | CmpOp::Gt => k.checked_add(1).into_iter().collect(),
                CmpOp::Eq | CmpOp::Ne => std::iter::once(*k).chain(k.checked_add(1)).collect(),
            },
            Test::IntIn { values, .. } => values
                .iter()
                .flat_map(|k| std::iter::once(*k).chain(k.checked_add(1)))
                .collect(),
        }
    }
}

/// A typed condition.
#[derive(Clone, Debug)]
pub struct Cond {
    /// Its shape.
    pub kind: CondKind,
    /// Where it was written (empty for an absent `when` / `requires`).
    pub span: Span,
}

/// The shapes of conditions.
#[derive(Clone, Debug)]
pub enum CondKind {
    /// Always true / always false.
    Const(bool),
    /// A test of one fact.
    Test(Test),
    /// Negation.
    Not(Box<Cond>),
    /// All hold (two or more).
    And(Vec<Cond>),
    /// One holds (two or more).
    Or(Vec<Cond>),
}

impl Cond {
    /// The condition `true` with no source.
    pub fn always() -> Cond {
        Cond {
            kind: CondKind::Const(true),
            span: Span::default(),
        }
    }

    /// True when it is the constant `true`.
    pub fn is_always(&self) -> bool {
        matches!(self.kind, CondKind::Const(true))
    }

    /// Evaluate over dense profile values.
    pub fn eval(&self, values: &[i64]) -> bool {
        match &self.kind {
            CondKind::Const(b) => *b,
            CondKind::Test(t) => values.get(t.fact().index()).is_some_and(|v| t.holds(*v)),
            CondKind::Not(c) => !c.eval(values),
            CondKind::And(cs) => cs.iter().all(|c| c.eval(values)),
            CondKind::Or(cs) => cs.iter().any(|c| c.eval(values)),
        }
    }

    /// Every test in the condition.
    pub fn tests<'a>(&'a self, out: &mut Vec<&'a Test>) {
        match &self.kind {
            CondKind::Const(_) => {}
            CondKind::Test(t) => out.push(t),
            CondKind::Not(c) => c.tests(out),
            CondKind::And(cs) | CondKind::Or(cs) => cs.iter().for_each(|c| c.tests(out)),
        }
    }
}

/// A checked policy.
#[derive(Clone, Debug)]
pub struct Ir {
    /// `policy NAME`.
    pub name: String,
    /// Facts in declaration order.
    pub facts: Vec<Fact>,
    /// Methods in declaration order.
    pub methods: Vec<Method>,
    /// Deny rules in declaration order.
    pub denies: Vec<DenyRule>,
    /// Paths in declaration order (= preference order).
    pub paths: Vec<Path>,
}

impl Ir {
    /// Look up a fact by name.
    pub fn fact_id(&self, name: &str) -> Option<FactId> {
        self.facts
            .iter()
            .position(|f| f.name == name)
            .map(|i| FactId(i as u32))
    }

    /// Look up a method by name.
    pub fn method_id(&self, name: &str) -> Option<MethodId> {
        self.methods
            .iter()
            .position(|m| m.name == name)
            .map(|i| MethodId(i as u32))
    }

    /// Look up a path by name.
    pub fn path_id(&self, name: &str) -> Option<PathId> {
        self.paths
            .iter()
            .position(|p| p.name == name)
            .map(|i| PathId(i as u32))
    }

    /// The fact of an id.
    pub fn fact(&self, id: FactId) -> &Fact {
        &self.facts[id.index()]
    }

    /// The method of an id.
    pub fn method(&self, id: MethodId) -> &Method {
        &self.methods[id.index()]
    }
}

/// How the facts of one policy map onto a shared list of facts (used by `diff`): the
/// shared index of each fact, and for enums the shared index of each variant.
#[derive(Clone, Debug)]
pub(crate) struct FactMap {
    pub fact: Vec<FactId>,
    pub variants: Vec<Vec<usize>>,
}

impl Test {
    fn remap(&self, m: &FactMap) -> Test {
        let f = |id: &FactId| m.fact[id.index()];
        match self {
            Test::Bool { fact, value } => Test::Bool {
                fact: f(fact),
                value: *value,
            },
            Test::Int { fact, op, k } => Test::Int {
                fact: f(fact),
                op: *op,
                k: *k,
            },
            Test::IntIn { fact, values } => Test::IntIn {
                fact: f(fact),
                values: values.clone(),
            },
            Test::Enum { fact, mask } => {
                let vm = &m.variants[fact.index()];
                let mut out = vec![false; vm.len()];
                for (i, b) in mask.iter().enumerate() {
                    if let Some(j) = vm.get(i) {
                        if let Some(slot) = out.get_mut(*j) {
                            *slot = *b;
                        }
                    }
                }
                Test::Enum {
                    fact: f(fact),
                    mask: out,
                }
            }
        }
    }
}

impl Cond {
    fn remap(&self, m: &FactMap) -> Cond {
        let kind = match &self.kind {
            CondKind::Const(b) => CondKind::Const(*b),
            CondKind::Test(t) => CondKind::Test(t.remap(m)),
            CondKind::Not(c) => CondKind::Not(Box::new(c.remap(m))),
            CondKind::And(cs) => CondKind::And(cs.iter().map(|c| c.remap(m)).collect()),
            CondKind::Or(cs) => CondKind::Or(cs.iter().map(|c| c.remap(m)).collect()),
        };
        Cond {
            kind,
            span: self.span,
        }
    }
}

impl Ir {
    /// The same policy over a shared list of facts.
    pub(crate) fn remap(&self, facts: &[Fact], m: &FactMap) -> Ir {
        Ir {
            name: self.name.clone(),
            facts: facts.to_vec(),
            methods: self
                .methods
                .iter()
                .map(|x| Method {
                    requires: x.requires.remap(m),
                    ..x.clone()
                })
                .collect(),
            denies: self
                .denies
                .iter()
                .map(|d| DenyRule {
                    when: d.when.remap(m),
                    ..d.clone()
                })
                .collect(),
            paths: self
                .paths
                .iter()
                .map(|p| Path {
                    when: p.when.remap(m),
                    ..p.clone()
                })
                .collect(),
        }
    }
}
