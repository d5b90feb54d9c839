//! What the server knows about one document: the library's diagnostics (exactly those of
//! `regain check`) and a symbol model (declarations and references with spans) taken from
//! the syntax tree, recovered item by item when the document does not parse.

use regain::source::Span;
use regain::syntax::ast::{
    Clause, Expr, ExprKind, FactDecl, File, Item, MethodDecl, PathDecl, Step, TypeExpr,
};
use regain::{Diagnostic, Policy};

use super::lex;

/// The three kinds of named things a policy declares and refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A fact (`facts { … }`).
    Fact,
    /// A method (`methods { … }`).
    Method,
    /// A path (`path name { … }`).
    Path,
}

impl Kind {
    /// The word for messages.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Fact => "fact",
            Kind::Method => "method",
            Kind::Path => "path",
        }
    }
}

/// A declared or referenced name.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// Fact, method or path.
    pub kind: Kind,
    /// The name as written.
    pub name: String,
    /// Where the name is written.
    pub span: Span,
    /// True for the declaration, false for a use.
    pub decl: bool,
}

/// The analysed state of one document.
pub struct Model {
    /// The checked policy, when the document has no error.
    pub policy: Option<Policy>,
    /// Every diagnostic `regain check` reports, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The syntax tree: exact when the document parses, else what recovery kept.
    pub file: Option<File>,
    /// The document parses.
    pub parses: bool,
    /// Declarations and uses, in source order.
    pub occurrences: Vec<Occurrence>,
}

/// Blank `text[start..end]` with spaces, keeping line breaks (and so every offset and
/// line).
fn blank(text: &mut [u8], start: usize, end: usize) {
    for b in text.iter_mut().take(end).skip(start) {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
}

/// Parses allowed to recovery for a text of `len` bytes: many for small documents,
/// fewer for large ones (each parse reads the whole text).
fn parse_budget(len: usize) -> usize {
    ((64usize << 20) / len.max(1)).clamp(8, 256)
}

/// Where a broken item may be cut so that what precedes the cut still parses, best
/// first: just after the last token before the error, at that token, then at the
/// members (`name:` in a block, a clause keyword in a path) before the error, last
/// first. Each is `(offset, close)`: `close` when the cut is inside the item's braces
/// and a `}` must close the block there.
fn cuts(text: &str, item: usize, err_at: usize) -> Vec<(usize, bool)> {
    let toks: Vec<lex::Token<'_>> = lex::tokens(text.get(item..err_at).unwrap_or(""))
        .into_iter()
        .map(|t| lex::Token {
            start: t.start + item,
            ..t
        })
        .collect();
    // The brace depth before each token.
    let mut depth = 0usize;
    let mut depths = Vec::with_capacity(toks.len());
    for t in &toks {
        depths.push(depth);
        match t.text {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let mut out: Vec<(usize, bool)> = Vec::new();
    let mut push = |at: usize, d: usize| {
        if at > item && d <= 1 && !out.iter().any(|(o, _)| *o == at) {
            out.push((at, d == 1));
        }
    };
    if let Some(last) = toks.last() {
        let end = last.start + last.text.len();
        if end < err_at {
            push(end, depth);
        }
        push(last.start, depths.last().copied().unwrap_or(0));
    }
    let members = toks
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            depths.get(*i) == Some(&1)
                && t.kind == lex::Tok::Word
                && (toks.get(i + 1).is_some_and(|n| n.text == ":")
                    || ["when", "steps", "grants", "wait", "notify"].contains(&t.text))
        })
        .map(|(_, t)| t.start)
        .collect::<Vec<_>>();
    for m in members.iter().rev().take(3) {
        push(*m, 1);
    }
    out
}

/// The first error's offset, or the tree.
fn first_error(work: &[u8]) -> Option<Result<File, usize>> {
    let text = std::str::from_utf8(work).ok()?;
    Some(match regain::syntax::parse(text) {
        Ok(file) => Ok(file),
        Err(diags) => Err(diags.first()?.span.start),
    })
}

/// Parse what can be parsed of a document with errors. The item the first error falls
/// in is cut just before the error (or before the member it is in) and closed, so that
/// its parsed prefix stays; when no cut parses, the item is blanked; then the next error.
/// Blanking keeps every offset (and UTF-8: cuts fall on ASCII bytes and blank whole
/// characters). When the budget of parses runs out, the parsed prefix of the document is
/// kept. `None` when not even the policy header parses.
pub fn parse_recovering(text: &str) -> Option<File> {
    let starts = lex::item_starts(text);
    let header_end = lex::header_end(text);
    let mut work = text.as_bytes().to_vec();
    let mut budget = parse_budget(text.len());
    'errors: while budget > 0 {
        budget -= 1;
        let err_at = match first_error(&work)? {
            Ok(file) => return Some(file),
            Err(at) => at,
        };
        // The region to repair: the item being parsed when the error hit (the last one
        // starting before it), up to the item that starts at or after the error; or,
        // before the first item, what follows the header.
        let n = starts
            .iter()
            .copied()
            .find(|s| *s >= err_at)
            .unwrap_or(text.len());
        let Some(b) = starts.iter().rev().copied().find(|s| *s < err_at) else {
            let h = header_end.filter(|h| *h <= err_at)?;
            if work
                .get(h..n)
                .is_none_or(|s| s.iter().all(u8::is_ascii_whitespace))
            {
                return None;
            }
            blank(&mut work, h, n);
            continue;
        };
        let current = String::from_utf8_lossy(&work).into_owned();
        for (at, close) in cuts(&current, b, err_at) {
            if budget == 0 {
                break;
            }
            budget -= 1;
            let mut trial = work.clone();
            blank(&mut trial, at, n);
            if close {
                if let Some(c) = trial.get_mut(at) {
                    *c = b'}';
                }
            }
            match first_error(&trial) {
                Some(Ok(file)) => return Some(file),
                // The error moved past the region (not merely stayed at its end).
                Some(Err(e)) if e >= n && e != err_at => {
                    work = trial;
                    continue 'errors;
                }
                _ => {}
            }
        }
        if work
            .get(b..n)
            .is_none_or(|s| s.iter().all(u8::is_ascii_whitespace))
        {
            return None;
        }
        blank(&mut work, b, n);
    }
    // Out of budget: the items before the current error.
    let err_at = match first_error(&work)? {
        Ok(file) => return Some(file),
        Err(at) => at,
    };
    let b = starts.iter().rev().copied().find(|s| *s < err_at)?;
    blank(&mut work, b, text.len());
    first_error(&work)?.ok()
}

/// Analyse a document's text.
pub fn analyse(text: &str) -> Model {
    let (policy, diagnostics) = match Policy::parse_named("<document>", text) {
        Ok(p) => {
            let items = p.warnings().items;
            (Some(p), items)
        }
        Err(d) => (None, d.items),
    };
    let exact = regain::syntax::parse(text).ok();
    let parses = exact.is_some();
    let file = exact.or_else(|| parse_recovering(text));
    let occurrences = file.as_ref().map(occurrences).unwrap_or_default();
    Model {
        policy,
        diagnostics,
        file,
        parses,
        occurrences,
    }
}

fn expr_uses(e: &Expr, out: &mut Vec<Occurrence>) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Or(xs) | ExprKind::And(xs) => stack.extend(xs.iter().rev()),
            ExprKind::Not(x) | ExprKind::Paren(x) => stack.push(x),
            ExprKind::Compare(n, _, _) | ExprKind::In(n, _) | ExprKind::Fact(n) => {
                out.push(Occurrence {
                    kind: Kind::Fact,
                    name: n.text.clone(),
                    span: n.span,
                    decl: false,
                })
            }
            ExprKind::Bool(_) => {}
        }
    }
}

fn method_use(n: &regain::syntax::ast::Name, out: &mut Vec<Occurrence>) {
    out.push(Occurrence {
        kind: Kind::Method,
        name: n.text.clone(),
        span: n.span,
        decl: false,
    });
}

/// Every declaration and use in a syntax tree, in source order.
pub fn occurrences(file: &File) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let decl = |kind, n: &regain::syntax::ast::Name| Occurrence {
        kind,
        name: n.text.clone(),
        span: n.span,
        decl: true,
    };
    for item in &file.items {
        match item {
            Item::Facts(b) => out.extend(b.facts.iter().map(|f| decl(Kind::Fact, &f.name))),
            Item::Methods(b) => {
                for m in &b.methods {
                    out.push(decl(Kind::Method, &m.name));
                    if let Some(e) = &m.requires {
                        expr_uses(e, &mut out);
                    }
                }
            }
            Item::Deny(d) => expr_uses(&d.when, &mut out),
            Item::Path(p) => {
                out.push(decl(Kind::Path, &p.name));
                for c in &p.clauses {
                    match c {
                        Clause::When(e, _) => expr_uses(e, &mut out),
                        Clause::Steps(steps, _) => {
                            for s in steps {
                                match s {
                                    Step::Method(n) => method_use(n, &mut out),
                                    Step::Any { methods, .. } => {
                                        methods.iter().for_each(|n| method_use(n, &mut out))
                                    }
                                }
                            }
                        }
                        Clause::Notify(ns, _) => ns.iter().for_each(|n| method_use(n, &mut out)),
                        Clause::Grants(..) | Clause::Wait(..) => {}
                    }
                }
            }
        }
    }
    out.sort_by_key(|o| o.span.start);
    out
}

impl Model {
    /// The occurrence whose name touches `offset` (the cursor may sit just after it).
    pub fn occurrence_at(&self, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.span.start <= offset && offset < o.span.end)
            .or_else(|| self.occurrences.iter().find(|o| o.span.end == offset))
    }

    /// Every occurrence of a name of a kind.
    pub fn all_of<'a>(&'a self, kind: Kind, name: &'a str) -> impl Iterator<Item = &'a Occurrence> {
        self.occurrences
            .iter()
            .filter(move |o| o.kind == kind && o.name == name)
    }

    /// The (first) declaration of a name of a kind.
    pub fn declaration(&self, kind: Kind, name: &str) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.decl && o.kind == kind && o.name == name)
    }

    /// The declared facts, in order.
    pub fn facts(&self) -> impl Iterator<Item = &FactDecl> {
        self.file
            .iter()
            .flat_map(|f| &f.items)
            .flat_map(|i| match i {
                Item::Facts(b) => b.facts.as_slice(),
                _ => &[],
            })
    }

    /// The declared methods, in order.
    pub fn methods(&self) -> impl Iterator<Item = &MethodDecl> {
        self.file
            .iter()
            .flat_map(|f| &f.items)
            .flat_map(|i| match i {
                Item::Methods(b) => b.methods.as_slice(),
                _ => &[],
            })
    }

    /// The declared paths, in order.
    pub fn paths(&self) -> impl Iterator<Item = &PathDecl> {
        self.file
            .iter()
            .flat_map(|f| &f.items)
            .filter_map(|i| match i {
                Item::Path(p) => Some(p),
                _ => None,
            })
    }

    /// A fact's declaration by name.
    pub fn fact(&self, name: &str) -> Option<&FactDecl> {
        self.facts().find(|f| f.name.text == name)
    }

    /// A method's declaration by name.
    pub fn method(&self, name: &str) -> Option<&MethodDecl> {
        self.methods().find(|m| m.name.text == name)
    }

    /// A path's declaration by name.
    pub fn path(&self, name: &str) -> Option<&PathDecl> {
        self.paths().find(|p| p.name.text == name)
    }
}

/// A fact's type as written (`bool`, `int 0..5`, `low | medium | high`).
pub fn type_text(ty: &TypeExpr) -> String {
    match ty {
        TypeExpr::Bool => "bool".into(),
        TypeExpr::Int { lo, hi, .. } => format!("int {lo}..{hi}"),
        TypeExpr::Enum(vs) => vs
            .iter()
            .map(|v| v.text.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
    }
}

/// The comment on the line where a declaration ends (`# …`), if any.
pub fn line_comment(text: &str, decl_end: usize) -> Option<String> {
    let end = decl_end.min(text.len());
    let line_end = text
        .get(end..)
        .and_then(|t| t.find(['\n', '\r']))
        .map_or(text.len(), |i| end + i);
    let rest = text.get(end..line_end)?;
    let hash = rest.find('#')?;
    let c = rest.get(hash + 1..)?.trim();
    (!c.is_empty()).then(|| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "policy p
facts {
  a.b: bool   # the comment
  n: int 0..5
}
methods { m: knowledge requires a.b and n >= 2 }
path one { steps m grants x notify m }
";

    #[test]
    fn occurrences_cover_declarations_and_uses() {
        let m = analyse(SRC);
        assert!(m.parses && m.policy.is_some());
        let facts: Vec<_> = m.all_of(Kind::Fact, "a.b").collect();
        assert_eq!(facts.len(), 2);
        assert!(facts[0].decl && !facts[1].decl);
        assert_eq!(m.all_of(Kind::Method, "m").count(), 3);
        let f = m.fact("a.b").unwrap();
        assert_eq!(
            line_comment(SRC, f.span.end).as_deref(),
            Some("the comment")
        );
    }

    #[test]
    fn recovery_keeps_the_items_around_a_broken_one() {
        let broken = SRC.replace("path one { steps m", "path one { steps m then )");
        let m = analyse(&broken);
        assert!(!m.parses);
        assert_eq!(m.diagnostics[0].code, regain::Code::E0001);
        assert!(m.fact("n").is_some());
        assert!(m.method("m").is_some());
        // An unclosed block before a later item: the later item survives.
        let unclosed = SRC.replace("n >= 2 }", "n >= 2 ") + "path two { steps m grants y }\n";
        let m = analyse(&unclosed);
        assert!(!m.parses);
        assert!(m.path("two").is_some() && m.fact("a.b").is_some());
    }

    fn fact_uses(m: &Model, name: &str) -> usize {
        m.all_of(Kind::Fact, name).filter(|o| !o.decl).count()
    }

    #[test]
    fn recovery_keeps_the_parsed_prefix_of_the_broken_item() {
        // A fact being typed: the facts before it and the items after it stay.
        let typing = SRC.replace("  n: int 0..5\n", "  n: int 0..5\n  new: \n");
        let m = analyse(&typing);
        assert!(!m.parses);
        assert!(
            m.fact("a.b").is_some() && m.fact("n").is_some(),
            "facts kept"
        );
        assert!(m.method("m").is_some() && m.path("one").is_some());
        // A block left open before the next item.
        let open = "policy p\nfacts { a: bool  b: bool\nmethods { m: human requires a }\n";
        let m = analyse(open);
        assert!(!m.parses);
        assert!(m.fact("a").is_some() && m.fact("b").is_some() && m.method("m").is_some());
        // Steps being typed: the path and its `when` stay.
        let steps = format!("{SRC}path two {{ when a.b steps m then }}\n");
        let m = analyse(&steps);
        assert!(!m.parses);
        assert!(m.path("two").is_some());
        assert_eq!(
            fact_uses(&m, "a.b"),
            2,
            "the use in the broken path's `when`"
        );
        // A deny rule ending in `and`: its condition so far stays.
        let deny = format!("{SRC}deny \"x\" when n >= 3 and\n");
        let m = analyse(&deny);
        assert!(!m.parses);
        assert_eq!(fact_uses(&m, "n"), 2);
        // Junk between the header and the first item.
        let junk = SRC.replace("policy p\n", "policy p\n} ] junk\n");
        let m = analyse(&junk);
        assert!(!m.parses && m.fact("a.b").is_some() && m.path("one").is_some());
        // More broken items than the parse budget: the items before them stay.
        let many = format!("{SRC}{}", "path z { steps ) }\n".repeat(400));
        let m = analyse(&many);
        assert!(!m.parses);
        assert!(m.fact("a.b").is_some() && m.path("one").is_some());
        // Recovery never changes offsets: every occurrence names what the text says.
        for text in [typing.as_str(), open, &steps, &deny, &junk, &many] {
            let m = analyse(text);
            for o in &m.occurrences {
                assert_eq!(text.get(o.span.start..o.span.end), Some(o.name.as_str()));
            }
        }
    }
}
