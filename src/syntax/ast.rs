//! The typed syntax tree of a policy file. Every node keeps its source span.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::source::Span;

/// A name with the span where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    /// The text of the name (a dotted fact name keeps its dots).
    pub text: String,
    /// Where it was written.
    pub span: Span,
}

/// A whole policy file.
#[derive(Clone, Debug)]
pub struct File {
    /// `policy NAME`.
    pub name: Name,
    /// Items in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug)]
pub enum Item {
    /// A `facts { … }` block.
    Facts(FactsBlock),
    /// A `methods { … }` block.
    Methods(MethodsBlock),
    /// `deny "reason" when expr`.
    Deny(DenyRule),
    /// `path name "title" { … }`.
    Path(PathDecl),
}

impl Item {
    /// The span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::Facts(b) => b.span,
            Item::Methods(b) => b.span,
            Item::Deny(d) => d.span,
            Item::Path(p) => p.span,
        }
    }
}

/// A `facts { … }` block.
#[derive(Clone, Debug)]
pub struct FactsBlock {
    /// Declarations in order.
    pub facts: Vec<FactDecl>,
    /// The block's span.
    pub span: Span,
}

/// `name: type [= default]`.
#[derive(Clone, Debug)]
pub struct FactDecl {
    /// The (possibly dotted) name.
    pub name: Name,
    /// The declared type.
    pub ty: TypeExpr,
    /// The default, if any.
    pub default: Option<Literal>,
    /// The whole declaration.
    pub span: Span,
}

/// A fact type as written.
#[derive(Clone, Debug)]
pub enum TypeExpr {
    /// `bool`.
    Bool,
    /// `int lo..hi`, both ends included.
    Int {
        /// Lower bound.
        lo: i64,
        /// Upper bound.
        hi: i64,
        /// The span of `lo..hi`.
        span: Span,
    },
    /// `a | b | c`.
    Enum(Vec<Name>),
}

/// A `methods { … }` block.
#[derive(Clone, Debug)]
pub struct MethodsBlock {
    /// Declarations in order.
    pub methods: Vec<MethodDecl>,
    /// The block's span.
    pub span: Span,
}

/// The kind of evidence a method gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Factor {
    /// Something the person knows (security questions, a PIN).
    Knowledge,
    /// Something the person has (a phone, a mailbox, a card).
    Possession,
    /// Something the person is (a face, a fingerprint).
    Inherence,
    /// An identity document.
    Document,
    /// A human reviewer.
    Human,
}

impl Factor {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Knowledge => "knowledge",
            Factor::Possession => "possession",
            Factor::Inherence => "inherence",
            Factor::Document => "document",
            Factor::Human => "human",
        }
    }
}

/// `name: factor [restricted] [requires expr]`.
#[derive(Clone, Debug)]
pub struct MethodDecl {
    /// The method name.
    pub name: Name,
    /// Its factor.
    pub factor: Factor,
    /// `restricted` (NIST SP 800-63B-4 §3.2.9, e.g. SMS).
    pub restricted: bool,
    /// When the person can use it.
    pub requires: Option<Expr>,
    /// The whole declaration.
    pub span: Span,
}

/// `deny "reason" when expr`.
#[derive(Clone, Debug)]
pub struct DenyRule {
    /// The reason, unescaped.
    pub reason: String,
    /// The span of the quoted reason.
    pub reason_span: Span,
    /// The condition.
    pub when: Expr,
    /// The whole rule.
    pub span: Span,
}

/// `path name ["title"] { clauses }`.
#[derive(Clone, Debug)]
pub struct PathDecl {
    /// The path name.
    pub name: Name,
    /// The optional human title, unescaped.
    pub title: Option<String>,
    /// Clauses in source order (the checker enforces which may repeat).
    pub clauses: Vec<Clause>,
    /// The whole path.
    pub span: Span,
}

/// One clause of a path.
#[derive(Clone, Debug)]
pub enum Clause {
    /// `when expr`.
    When(Expr, Span),
    /// `steps a then any 2 of (b, c)`.
    Steps(Vec<Step>, Span),
    /// `grants what`.
    Grants(Name, Span),
    /// `wait 48h`, in seconds.
    Wait(Duration, Span),
    /// `notify a, b`.
    Notify(Vec<Name>, Span),
}

impl Clause {
    /// The clause's span.
    pub fn span(&self) -> Span {
        match self {
            Clause::When(_, s)
            | Clause::Steps(_, s)
            | Clause::Grants(_, s)
            | Clause::Wait(_, s)
            | Clause::Notify(_, s) => *s,
        }
    }

    /// The keyword that starts it.
    pub fn keyword(&self) -> &'static str {
        match self {
            Clause::When(..) => "when",
            Clause::Steps(..) => "steps",
            Clause::Grants(..) => "grants",
            Clause::Wait(..) => "wait",
            Clause::Notify(..) => "notify",
        }
    }
}

/// A duration as written (`48h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    /// The number.
    pub amount: u64,
    /// The unit letter: `s`, `m`, `h` or `d`.
    pub unit: char,
}

impl Duration {
    /// The duration in seconds, or `None` on overflow.
    pub fn seconds(&self) -> Option<u64> {
        let mul = match self.unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => 86_400,
        };
        self.amount.checked_mul(mul)
    }
}

/// One step of a path.
#[derive(Clone, Debug)]
pub enum Step {
    /// A single method.
    Method(Name),
    /// `any N of (a, b, c)`.
    Any {
        /// How many must succeed.
        n: i64,
        /// The span of N.
        n_span: Span,
        /// The listed methods.
        methods: Vec<Name>,
        /// The whole step.
        span: Span,
    },
}

impl Step {
    /// The step's span.
    pub fn span(&self) -> Span {
        match self {
            Step::Method(n) => n.span,
            Step::Any { span, .. } => *span,
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Apply to two integers.
    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// A literal value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiteralKind {
    /// An integer.
    Int(i64),
    /// `true` / `false`.
    Bool(bool),
    /// An enum variant name.
    Variant(String),
}

/// A literal with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Literal {
    /// The value.
    pub kind: LiteralKind,
    /// Where it was written.
    pub span: Span,
}

/// An expression with its span.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The shapes of expressions.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `a or b or …` (two or more).
    Or(Vec<Expr>),
    /// `a and b and …` (two or more).
    And(Vec<Expr>),
    /// `not e`.
    Not(Box<Expr>),
    /// `( e )`.
    Paren(Box<Expr>),
    /// `fact op literal`.
    Compare(Name, CmpOp, Literal),
    /// `fact in [lits]`.
    In(Name, Vec<Literal>),
    /// `true` / `false`.
    Bool(bool),
    /// A bare (bool) fact.
    Fact(Name),
}
