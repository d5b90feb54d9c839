//! Pest pairs → typed AST. One function per grammar rule; every match over grammar rules
//! is exhaustive or turns an unexpected shape into an internal-error diagnostic (never a
//! panic).

use pest::iterators::{Pair, Pairs};
use pest::Parser as _;

use super::ast::*;
use super::error::syntax_error;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/regain.pest"]
pub(super) struct Grammar;

/// The largest source accepted (DESIGN.md: 1 MiB).
pub const MAX_SOURCE_BYTES: usize = 1 << 20;
/// The deepest expression nesting accepted: each `(` and each `not` counts one.
///
/// Conjunctions and disjunctions are flat lists in the AST and the IR, so this bound is
/// also the bound on the depth of every recursive walk over a condition (checker,
/// interpreter, explain, formatter): a condition of 20,000 facts is one level deep.
pub const MAX_NESTING: usize = 64;

type Result<T> = std::result::Result<T, Diagnostic>;

/// Parse a policy source into its AST. Syntax errors stop at the first one (pest does not
/// recover); errors found while building the tree (integer overflow…) are all returned.
pub fn parse(source: &str) -> std::result::Result<File, Vec<Diagnostic>> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(vec![Diagnostic::new(
            Code::E0017,
            Span::new(0, 0),
            format!(
                "the policy is {} bytes; the limit is {} bytes (1 MiB)",
                source.len(),
                MAX_SOURCE_BYTES
            ),
            "file starts here",
        )
        .with_help("split the policy, or generate a smaller one")]);
    }
    if let Some(d) = check_nesting(source) {
        return Err(vec![d]);
    }
    // pest's recursive descent uses several frames per nesting level, and debug builds
    // make them large: parse on a thread with a generous stack so that 64 levels fit
    // whatever stack the caller runs on.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("regain-parse".into())
            .stack_size(64 << 20)
            .spawn_scoped(s, || parse_bounded(source))
            .ok()
            .and_then(|h| h.join().ok())
    })
    .unwrap_or_else(|| parse_bounded(source))
}

/// Parse a lone expression (a condition written outside a policy, e.g. in a simulation
/// model). Same limits as [`parse`]; spans are offsets into `source`.
pub(crate) fn parse_expr(source: &str) -> std::result::Result<Expr, Vec<Diagnostic>> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(vec![Diagnostic::new(
            Code::E0017,
            Span::new(0, 0),
            format!(
                "the condition is {} bytes; the limit is 1 MiB",
                source.len()
            ),
            "starts here",
        )]);
    }
    if let Some(d) = check_nesting(source) {
        return Err(vec![d]);
    }
    let bounded = || {
        let mut pairs =
            Grammar::parse(Rule::expr_input, source).map_err(|e| vec![syntax_error(source, e)])?;
        let top = pairs
            .next()
            .ok_or_else(|| vec![internal(Span::new(0, 0))])?;
        let e = top
            .into_inner()
            .find(|p| p.as_rule() == Rule::expr)
            .ok_or_else(|| vec![internal(Span::new(0, 0))])?;
        let mut b = Builder { errors: Vec::new() };
        let expr = b.expr(e).map_err(|d| vec![d])?;
        if b.errors.is_empty() {
            Ok(expr)
        } else {
            Err(b.errors)
        }
    };
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("regain-parse".into())
            .stack_size(64 << 20)
            .spawn_scoped(s, bounded)
            .ok()
            .and_then(|h| h.join().ok())
    })
    .unwrap_or_else(bounded)
}

/// Parse a source whose size and nesting are already known to be within the limits.
fn parse_bounded(source: &str) -> std::result::Result<File, Vec<Diagnostic>> {
    let mut pairs =
        Grammar::parse(Rule::file, source).map_err(|e| vec![syntax_error(source, e)])?;
    let file = pairs
        .next()
        .ok_or_else(|| vec![internal(Span::new(0, 0))])?;
    let mut b = Builder { errors: Vec::new() };
    let f = b.file(file).map_err(|d| vec![d])?;
    if b.errors.is_empty() {
        Ok(f)
    } else {
        Err(b.errors)
    }
}

/// A lexical pre-pass that bounds expression nesting before the recursive-descent parser
/// runs, so that 10,000 `(` or `not` report an error instead of overflowing the stack.
fn check_nesting(source: &str) -> Option<Diagnostic> {
    let b = source.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(b'\n');
    let mut i = 0;
    // Per open parenthesis: the `not`s pending outside it.
    let mut stack: Vec<usize> = Vec::new();
    let mut outer_nots = 0usize; // sum of the stack
    let mut nots = 0usize; // pending `not`s at the current level
    while i < b.len() {
        match at(i) {
            b'#' => {
                while i < b.len() && at(i) != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && at(i) != b'"' && at(i) != b'\n' {
                    if at(i) == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                nots = 0;
                continue;
            }
            b'(' => {
                stack.push(nots);
                outer_nots += nots;
                nots = 0;
                let depth = stack.len() + outer_nots;
                if depth > MAX_NESTING {
                    return Some(too_deep(i, i + 1));
                }
            }
            b')' => {
                if let Some(n) = stack.pop() {
                    outer_nots -= n;
                }
                nots = 0;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < b.len()
                    && (at(i).is_ascii_alphanumeric() || at(i) == b'_' || at(i) == b'.')
                {
                    i += 1;
                }
                if b.get(start..i) == Some(b"not".as_slice()) {
                    nots += 1;
                    if stack.len() + outer_nots + nots > MAX_NESTING {
                        return Some(too_deep(start, i));
                    }
                } else {
                    nots = 0;
                }
                continue;
            }
            c if c.is_ascii_whitespace() => {}
            _ => nots = 0,
        }
        i += 1;
    }
    None
}

fn too_deep(start: usize, end: usize) -> Diagnostic {
    Diagnostic::new(
        Code::E0016,
        Span::new(start, end),
        format!("expression nested more than {MAX_NESTING} levels deep"),
        format!("level {} starts here", MAX_NESTING + 1),
    )
    .with_help(
        "each `(` and each `not` counts one level; flatten the condition or split it across rules",
    )
}

/// The parse tree does not have the shape the grammar promises: a bug in regain, reported
/// as a diagnostic rather than a panic.
fn internal(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0001,
        span,
        "internal error: the parse tree did not have the expected shape",
        "here",
    )
    .with_help("this is a bug in regain; please report it with the policy")
}

fn unexpected(p: &Pair<'_, Rule>) -> Diagnostic {
    internal(p.as_span().into())
}

/// The reserved words of the language (every keyword alternative of `grammar/regain.pest`;
/// a test reads the grammar and checks that the two lists agree).
pub const KEYWORDS: &[&str] = &[
    "policy",
    "facts",
    "methods",
    "deny",
    "path",
    "when",
    "steps",
    "then",
    "grants",
    "wait",
    "notify",
    "any",
    "of",
    "requires",
    "restricted",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "bool",
    "int",
    "knowledge",
    "possession",
    "inherence",
    "document",
    "human",
];

/// True for a reserved word.
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

struct Builder {
    errors: Vec<Diagnostic>,
}

/// Rules that only mark a token (keywords, punctuation, end of input): the builder skips
/// them.
pub(super) fn is_token_rule(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_policy
            | Rule::kw_facts
            | Rule::kw_methods
            | Rule::kw_deny
            | Rule::kw_path
            | Rule::kw_when
            | Rule::kw_steps
            | Rule::kw_then
            | Rule::kw_grants
            | Rule::kw_wait
            | Rule::kw_notify
            | Rule::kw_any
            | Rule::kw_of
            | Rule::kw_requires
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_in
            | Rule::kw_int
            | Rule::lbrace
            | Rule::rbrace
            | Rule::lparen
            | Rule::rparen
            | Rule::lbracket
            | Rule::rbracket
            | Rule::comma
            | Rule::colon
            | Rule::dotdot
            | Rule::pipe
            | Rule::equals
            | Rule::EOI
    )
}

/// The next pair that is not a token marker.
fn next_node<'a>(pairs: &mut Pairs<'a, Rule>, span: Span) -> Result<Pair<'a, Rule>> {
    pairs
        .find(|p| !is_token_rule(p.as_rule()))
        .ok_or_else(|| internal(span))
}

/// The pairs that are not token markers.
fn nodes<'a>(p: Pair<'a, Rule>) -> impl Iterator<Item = Pair<'a, Rule>> {
    p.into_inner().filter(|x| !is_token_rule(x.as_rule()))
}

/// The span of a pair without the whitespace and comments that pest lets a rule absorb
/// after its last token (a rule ending in `x*` or `x?` keeps the skipped trivia).
/// Iterative: it follows the chain of last children down to a leaf.
fn tight(p: &Pair<'_, Rule>) -> Span {
    let own = p.as_span();
    let mut leaf = p.clone();
    while let Some(last) = leaf.clone().into_inner().last() {
        leaf = last;
    }
    let mut end = leaf.as_span().end();
    if leaf.as_span() == own {
        return own.into();
    }
    let bytes = own.get_input().as_bytes();
    let limit = own.end().min(bytes.len());
    let mut i = end;
    while i < limit {
        match bytes.get(i).copied().unwrap_or(b' ') {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => {
                while i < limit && bytes.get(i) != Some(&b'\n') {
                    i += 1;
                }
            }
            _ => {
                i += 1;
                end = i;
            }
        }
    }
    Span::new(own.start(), end)
}

fn name(p: Pair<'_, Rule>) -> Name {
    Name {
        text: p.as_str().to_string(),
        span: p.as_span().into(),
    }
}

/// Unescape a `string` pair (`\"` and `\\` only; the grammar allows nothing else).
fn string(p: Pair<'_, Rule>) -> String {
    let raw = p.as_str();
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Builder {
    fn int(&mut self, p: Pair<'_, Rule>) -> i64 {
        match p.as_str().parse::<i64>() {
            Ok(v) => v,
            Err(_) => {
                self.errors.push(
                    Diagnostic::new(
                        Code::E0022,
                        p.as_span().into(),
                        format!("integer `{}` does not fit in 64 bits", p.as_str()),
                        "too large",
                    )
                    .with_help(format!(
                        "integers lie in {}..{}",
                        i64::MIN,
                        i64::MAX
                    )),
                );
                0
            }
        }
    }

    fn file(&mut self, p: Pair<'_, Rule>) -> Result<File> {
        let span = tight(&p);
        let mut inner = p.into_inner();
        let policy_name = name(next_node(&mut inner, span)?);
        let mut items = Vec::new();
        for item in inner {
            match item.as_rule() {
                Rule::facts => items.push(Item::Facts(self.facts(item)?)),
                Rule::methods => items.push(Item::Methods(self.methods(item)?)),
                Rule::deny => items.push(Item::Deny(self.deny(item)?)),
                Rule::path => items.push(Item::Path(self.path(item)?)),
                Rule::EOI => {}
                _ => return Err(unexpected(&item)),
            }
        }
        Ok(File {
            name: policy_name,
            items,
        })
    }

    fn facts(&mut self, p: Pair<'_, Rule>) -> Result<FactsBlock> {
        let span = tight(&p);
        let mut facts = Vec::new();
        for d in nodes(p) {
            match d.as_rule() {
                Rule::fact_decl => facts.push(self.fact_decl(d)?),
                _ => return Err(unexpected(&d)),
            }
        }
        Ok(FactsBlock { facts, span })
    }

    fn fact_decl(&mut self, p: Pair<'_, Rule>) -> Result<FactDecl> {
        let span = tight(&p);
        let mut inner = p.into_inner();
        let fact = name(next_node(&mut inner, span)?);
        let ty_pair = next_node(&mut inner, span)?;
        let ty = match ty_pair.as_rule() {
            Rule::bool_type => TypeExpr::Bool,
            Rule::int_type => {
                let tspan = tight(&ty_pair);
                let mut it = ty_pair.into_inner();
                let lo_p = next_node(&mut it, tspan)?;
                let lo_span = tight(&lo_p);
                let lo = self.int(lo_p);
                let hi_p = next_node(&mut it, tspan)?;
                let hi_span = tight(&hi_p);
                let hi = self.int(hi_p);
                TypeExpr::Int {
                    lo,
                    hi,
                    span: lo_span.to(hi_span),
                }
            }
            Rule::enum_type => {
                let mut variants = Vec::new();
                for v in nodes(ty_pair) {
                    match v.as_rule() {
                        Rule::ident => variants.push(name(v)),
                        _ => return Err(unexpected(&v)),
                    }
                }
                TypeExpr::Enum(variants)
            }
            _ => return Err(unexpected(&ty_pair)),
        };
        let default = match inner.find(|x| !is_token_rule(x.as_rule())) {
            Some(l) => Some(self.literal(l)?),
            None => None,
        };
        Ok(FactDecl {
            name: fact,
            ty,
            default,
            span,
        })
    }

    fn literal(&mut self, p: Pair<'_, Rule>) -> Result<Literal> {
        let span = tight(&p);
        let kind = match p.as_rule() {
            Rule::int_lit => {
                let i = next_node(&mut p.into_inner(), span)?;
                LiteralKind::Int(self.int(i))
            }
            Rule::bool_lit => match p.into_inner().next().map(|k| k.as_rule()) {
                Some(Rule::kw_true) => LiteralKind::Bool(true),
                Some(Rule::kw_false) => LiteralKind::Bool(false),
                _ => return Err(internal(span)),
            },
            Rule::variant => LiteralKind::Variant(p.as_str().to_string()),
            _ => return Err(unexpected(&p)),
        };
        Ok(Literal { kind, span })
    }

    fn methods(&mut self, p: Pair<'_, Rule>) -> Result<MethodsBlock> {
        let span = tight(&p);
        let mut methods = Vec::new();
        for d in nodes(p) {
            match d.as_rule() {
                Rule::method_decl => methods.push(self.method_decl(d)?),
                _ => return Err(unexpected(&d)),
            }
        }
        Ok(MethodsBlock { methods, span })
    }

    fn method_decl(&mut self, p: Pair<'_, Rule>) -> Result<MethodDecl> {
        let span = tight(&p);
        let mut inner = p.into_inner();
        let method = name(next_node(&mut inner, span)?);
        let factor_pair = next_node(&mut inner, span)?;
        let factor = match factor_pair.as_str() {
            "knowledge" => Factor::Knowledge,
            "possession" => Factor::Possession,
            "inherence" => Factor::Inherence,
            "document" => Factor::Document,
            "human" => Factor::Human,
            _ => return Err(unexpected(&factor_pair)),
        };
        let mut restricted = false;
        let mut requires = None;
        for rest in inner {
            match rest.as_rule() {
                Rule::restricted => restricted = true,
                Rule::requires => {
                    let rspan = tight(&rest);
                    let e = next_node(&mut rest.into_inner(), rspan)?;
                    requires = Some(self.expr(e)?);
                }
                _ => return Err(unexpected(&rest)),
            }
        }
        Ok(MethodDecl {
            name: method,
            factor,
            restricted,
            requires,
            span,
        })
    }

    fn deny(&mut self, p: Pair<'_, Rule>) -> Result<DenyRule> {
        let span = tight(&p);
        let mut inner = p.into_inner();
        let s = next_node(&mut inner, span)?;
        let reason_span = s.as_span().into();
        let reason = string(s);
        let e = next_node(&mut inner, span)?;
        Ok(DenyRule {
            reason,
            reason_span,
            when: self.expr(e)?,
            span,
        })
    }

    fn path(&mut self, p: Pair<'_, Rule>) -> Result<PathDecl> {
        let span = tight(&p);
        let mut inner = p.into_inner();
        let path_name = name(next_node(&mut inner, span)?);
        let mut title = None;
        let mut clauses = Vec::new();
        for c in inner.filter(|x| !is_token_rule(x.as_rule())) {
            let cspan = tight(&c);
            match c.as_rule() {
                Rule::string => title = Some(string(c)),
                Rule::when_clause => {
                    let e = next_node(&mut c.into_inner(), cspan)?;
                    clauses.push(Clause::When(self.expr(e)?, cspan));
                }
                Rule::steps_clause => {
                    let mut steps = Vec::new();
                    for s in nodes(c) {
                        steps.push(self.step(s)?);
                    }
                    clauses.push(Clause::Steps(steps, cspan));
                }
                Rule::grants_clause => {
                    let g = next_node(&mut c.into_inner(), cspan)?;
                    clauses.push(Clause::Grants(name(g), cspan));
                }
                Rule::wait_clause => {
                    let d = next_node(&mut c.into_inner(), cspan)?;
                    clauses.push(Clause::Wait(self.duration(&d)?, cspan));
                }
                Rule::notify_clause => {
                    let mut names = Vec::new();
                    for n in nodes(c) {
                        match n.as_rule() {
                            Rule::ident => names.push(name(n)),
                            _ => return Err(unexpected(&n)),
                        }
                    }
                    clauses.push(Clause::Notify(names, cspan));
                }
                _ => return Err(unexpected(&c)),
            }
        }
        Ok(PathDecl {
            name: path_name,
            title,
            clauses,
            span,
        })
    }

    fn duration(&mut self, d: &Pair<'_, Rule>) -> Result<Duration> {
        let text = d.as_str();
        let mut chars = text.chars();
        let unit = chars.next_back().ok_or_else(|| unexpected(d))?;
        let num = chars.as_str();
        let dur = match num.parse::<u64>() {
            Ok(amount) => Duration { amount, unit },
            Err(_) => {
                self.errors.push(duration_error(d.as_span().into(), text));
                return Ok(Duration { amount: 0, unit });
            }
        };
        if dur.seconds().is_none() {
            self.errors.push(duration_error(d.as_span().into(), text));
        }
        Ok(dur)
    }

    fn step(&mut self, p: Pair<'_, Rule>) -> Result<Step> {
        let span = tight(&p);
        match p.as_rule() {
            Rule::method_step => Ok(Step::Method(name(next_node(&mut p.into_inner(), span)?))),
            Rule::any_step => {
                let mut inner = nodes(p);
                let n_pair = inner.next().ok_or_else(|| internal(span))?;
                let n_span = n_pair.as_span().into();
                let n = self.int(n_pair);
                let mut methods = Vec::new();
                for m in inner {
                    match m.as_rule() {
                        Rule::ident => methods.push(name(m)),
                        _ => return Err(unexpected(&m)),
                    }
                }
                Ok(Step::Any {
                    n,
                    n_span,
                    methods,
                    span,
                })
            }
            _ => Err(unexpected(&p)),
        }
    }

    /// Build an expression. Recursion follows the nesting of `(` and `not` only (flat
    /// `and`/`or` lists are loops), so its depth is bounded by [`MAX_NESTING`].
    fn expr(&mut self, p: Pair<'_, Rule>) -> Result<Expr> {
        let span = tight(&p);
        match p.as_rule() {
            Rule::expr | Rule::and_expr => {
                let is_or = p.as_rule() == Rule::expr;
                let mut parts = Vec::new();
                for x in nodes(p) {
                    parts.push(self.expr(x)?);
                }
                if parts.len() == 1 {
                    return parts.pop().ok_or_else(|| internal(span));
                }
                let kind = if is_or {
                    ExprKind::Or(parts)
                } else {
                    ExprKind::And(parts)
                };
                Ok(Expr { kind, span })
            }
            Rule::not_expr => {
                let e = next_node(&mut p.into_inner(), span)?;
                Ok(Expr {
                    kind: ExprKind::Not(Box::new(self.expr(e)?)),
                    span,
                })
            }
            Rule::paren => {
                let e = next_node(&mut p.into_inner(), span)?;
                Ok(Expr {
                    kind: ExprKind::Paren(Box::new(self.expr(e)?)),
                    span,
                })
            }
            Rule::comparison => {
                let mut inner = p.into_inner();
                let fact = name(next_node(&mut inner, span)?);
                let op_pair = next_node(&mut inner, span)?;
                let op = match op_pair.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    ">=" => CmpOp::Ge,
                    _ => return Err(unexpected(&op_pair)),
                };
                let lit = self.literal(next_node(&mut inner, span)?)?;
                Ok(Expr {
                    kind: ExprKind::Compare(fact, op, lit),
                    span,
                })
            }
            Rule::in_list => {
                let mut inner = nodes(p);
                let fact = name(inner.next().ok_or_else(|| internal(span))?);
                let mut lits = Vec::new();
                for l in inner {
                    lits.push(self.literal(l)?);
                }
                Ok(Expr {
                    kind: ExprKind::In(fact, lits),
                    span,
                })
            }
            Rule::true_lit => Ok(Expr {
                kind: ExprKind::Bool(true),
                span,
            }),
            Rule::false_lit => Ok(Expr {
                kind: ExprKind::Bool(false),
                span,
            }),
            Rule::fact_ref => Ok(Expr {
                kind: ExprKind::Fact(name(next_node(&mut p.into_inner(), span)?)),
                span,
            }),
            _ => Err(unexpected(&p)),
        }
    }
}

fn duration_error(span: Span, text: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0023,
        span,
        format!("duration `{text}` is too long"),
        "does not fit in 64-bit seconds",
    )
    .with_help("use a shorter wait")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> File {
        match parse(src) {
            Ok(f) => f,
            Err(e) => panic!("parse failed: {e:?}"),
        }
    }

    #[test]
    fn parses_every_construct() {
        let f = ok(r#"
            # comment
            policy p
            facts { a.b: bool  n: int -5..10 = 3  e: x | y | z = y }
            methods { m: knowledge restricted requires a.b and not (n < 2 or e in [x, y]) k: human }
            deny "it \"quoted\" \\ here" when n == -1
            path q "title" {
              when true or false or a.b != true
              steps m then any 1 of (m, k)
              grants reset
              wait 48h
              notify m, k
            }
        "#);
        assert_eq!(f.name.text, "p");
        assert_eq!(f.items.len(), 4);
        match &f.items[2] {
            Item::Deny(d) => assert_eq!(d.reason, "it \"quoted\" \\ here"),
            other => panic!("{other:?}"),
        }
        match &f.items[3] {
            Item::Path(p) => {
                assert_eq!(p.title.as_deref(), Some("title"));
                assert_eq!(p.clauses.len(), 5);
                match &p.clauses[3] {
                    Clause::Wait(d, _) => assert_eq!(d.seconds(), Some(48 * 3600)),
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keywords_are_reserved_but_prefixes_are_not() {
        ok("policy p facts { in_service: bool interest: int 0..1 }");
        assert!(parse("policy p facts { a.in: bool }").is_err());
        assert!(parse("policy in").is_err());
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        ok("\u{FEFF}policy p\r\nfacts {\r\n a: bool\r\n}\r\n");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!(
            "policy p deny \"x\" when {}a{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        let e = parse(&src).unwrap_err();
        assert_eq!(e[0].code, Code::E0016);
        let src = format!("policy p deny \"x\" when {}a", "not ".repeat(10_000));
        assert_eq!(parse(&src).unwrap_err()[0].code, Code::E0016);
        // 64 levels are fine.
        let src = format!(
            "policy p deny \"x\" when {}a{}",
            "(".repeat(64),
            ")".repeat(64)
        );
        ok(&src);
    }

    #[test]
    fn syntax_error_says_what_was_expected() {
        let e = parse("policy p\npath x { steps }").unwrap_err();
        assert_eq!(e[0].code, Code::E0001);
        assert!(e[0].message.contains("expected"), "{}", e[0].message);
    }

    #[test]
    fn integer_overflow_is_reported() {
        let e = parse("policy p facts { n: int 0..99999999999999999999 }").unwrap_err();
        assert_eq!(e[0].code, Code::E0022);
    }

    /// The quoted words of `grammar/regain.pest` (comments removed), in order.
    fn grammar_words(grammar: &str) -> Vec<String> {
        let mut words = Vec::new();
        for line in grammar.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut parts = code.split('"');
            parts.next();
            // Odd-numbered parts are inside quotes.
            while let Some(inside) = parts.next() {
                if !inside.is_empty() && inside.chars().all(|c| c.is_ascii_lowercase()) {
                    words.push(inside.to_string());
                }
                parts.next();
            }
        }
        words
    }

    #[test]
    fn keyword_list_matches_the_grammar() {
        let grammar = include_str!("../../grammar/regain.pest");
        // 1. The grammar's `keyword` rule lists exactly KEYWORDS, in the same order.
        let start = grammar.find("keyword = @{").expect("keyword rule");
        let end = start + grammar[start..].find('}').expect("end of keyword rule");
        let listed = grammar_words(&grammar[start..end]);
        assert_eq!(listed, KEYWORDS, "grammar `keyword` rule vs KEYWORDS");
        // 2. Every word the grammar quotes anywhere is reserved (a keyword token, a factor
        //    or a duration unit letter).
        let units = ["s", "m", "h", "d"];
        for w in grammar_words(grammar) {
            assert!(
                is_keyword(&w) || units.contains(&w.as_str()),
                "`{w}` is quoted in the grammar but is not in KEYWORDS"
            );
        }
        // 3. Every `kw_*` rule is named after its keyword and matches it.
        for line in grammar.lines().filter(|l| l.starts_with("kw_")) {
            let rule = line.split_whitespace().next().unwrap_or("");
            let word = rule.trim_start_matches("kw_");
            assert!(is_keyword(word), "{rule} is not a keyword rule");
            assert_eq!(grammar_words(line), [word], "{line}");
        }
        // 4. The parser agrees: each keyword is rejected as a name, and a longer word
        //    that starts with one is accepted.
        for kw in KEYWORDS {
            assert!(
                parse(&format!("policy {kw}")).is_err(),
                "`{kw}` accepted as a name"
            );
            ok(&format!("policy {kw}_x"));
            ok(&format!("policy {kw}1"));
        }
    }
}
