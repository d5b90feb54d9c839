//! The answers to requests, each from a document's text and [`Model`].

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeLens, Command, CompletionItem,
    CompletionItemKind, CompletionTextEdit, DiagnosticRelatedInformation, DiagnosticSeverity,
    DocumentSymbol, Hover, HoverContents, Location, MarkupContent, MarkupKind, NumberOrString,
    Position, Range, SymbolKind, TextEdit, Uri, WorkspaceEdit,
};
use regain::source::Span;
use regain::syntax::ast::{Clause, FactDecl, Factor, Item, LiteralKind, PathDecl, Step, TypeExpr};
use regain::{Code, Diagnostic, Severity};

use super::lens::{Answer, Outcome};
use super::lex::{self, Tok};
use super::model::{line_comment, type_text, Kind, Model};
use super::text::LineIndex;

/// One open document.
pub struct Doc {
    /// Its URI.
    pub uri: Uri,
    /// The version the client gave.
    pub version: i32,
    /// The current text.
    pub text: String,
    /// Line starts of the text.
    pub index: LineIndex,
    /// What the library says about it.
    pub model: Model,
}

impl Doc {
    /// A document analysed from its text.
    pub fn new(uri: Uri, version: i32, text: String) -> Doc {
        let index = LineIndex::new(&text);
        let model = super::model::analyse(&text);
        Doc {
            uri,
            version,
            text,
            index,
            model,
        }
    }

    /// The LSP range of a span.
    pub fn range(&self, span: Span) -> Range {
        self.index.range(&self.text, span)
    }

    /// The byte offset of a position.
    pub fn offset(&self, pos: Position) -> usize {
        self.index.offset(&self.text, pos)
    }

    fn location(&self, span: Span) -> Location {
        Location::new(self.uri.clone(), self.range(span))
    }
}

// ---------------------------------------------------------------- diagnostics

/// The library's diagnostics as LSP diagnostics: same code, message and severity;
/// secondary labels and help as related information.
pub fn diagnostics(doc: &Doc) -> Vec<lsp_types::Diagnostic> {
    doc.model
        .diagnostics
        .iter()
        .map(|d| to_lsp(doc, d))
        .collect()
}

fn to_lsp(doc: &Doc, d: &Diagnostic) -> lsp_types::Diagnostic {
    let range = doc.range(d.span);
    let mut related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .map(|l| DiagnosticRelatedInformation {
            location: doc.location(l.span),
            message: l.message.clone(),
        })
        .collect();
    if let Some(h) = &d.help {
        related.push(DiagnosticRelatedInformation {
            location: doc.location(d.span),
            message: format!("help: {h}"),
        });
    }
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().into())),
        source: Some("regain".into()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

// ---------------------------------------------------------------- hover

/// One line of meaning for each keyword.
pub fn keyword_meaning(word: &str) -> Option<&'static str> {
    Some(match word {
        "policy" => "`policy NAME` — names the policy; the first line of every file.",
        "facts" => "`facts { name: type [= default] }` — what is known about the account.",
        "methods" => "`methods { name: factor [restricted] [requires expr] }` — ways a person proves who they are.",
        "deny" => "`deny \"reason\" when expr` — refuse recovery outright when the condition holds.",
        "path" => "`path name [\"title\"] { … }` — a recovery path; the first available one is offered first.",
        "when" => "`when expr` — the condition under which a path is available (or a deny rule applies).",
        "steps" => "`steps a then b` — the methods a person completes, in order.",
        "then" => "`then` — separates consecutive steps of a path.",
        "grants" => "`grants what` — what completing the path gives (e.g. `reset_password`).",
        "wait" => "`wait 48h` — a delay before the path takes effect (s, m, h, d).",
        "notify" => "`notify a, b` — methods through which the owner is told of the recovery.",
        "any" => "`any N of (a, b, …)` — a step done with at least N of the listed methods.",
        "of" => "`any N of (…)` — the list of methods an `any` step chooses from.",
        "requires" => "`requires expr` — when a person can use the method.",
        "restricted" => "`restricted` — a restricted authenticator (NIST SP 800-63B-4 §3.2.9), e.g. SMS.",
        "and" => "`a and b` — both hold.",
        "or" => "`a or b` — at least one holds.",
        "not" => "`not e` — e does not hold.",
        "in" => "`fact in [a, b]` — the fact has one of the listed values (int or enum facts).",
        "true" | "false" => "a bool literal.",
        "bool" => "`bool` — a fact that is true or false.",
        "int" => "`int lo..hi` — an integer fact, both ends included.",
        "knowledge" => "factor `knowledge` — something the person knows (security questions, a PIN).",
        "possession" => "factor `possession` — something the person has (a phone, a mailbox, a card).",
        "inherence" => "factor `inherence` — something the person is (a face, a fingerprint).",
        "document" => "factor `document` — an identity document.",
        "human" => "factor `human` — a human reviewer.",
        _ => return None,
    })
}

fn factor_meaning(f: Factor) -> &'static str {
    match f {
        Factor::Knowledge => "something the person knows",
        Factor::Possession => "something the person has",
        Factor::Inherence => "something the person is",
        Factor::Document => "an identity document",
        Factor::Human => "a human reviewer",
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn literal_text(k: &LiteralKind) -> String {
    match k {
        LiteralKind::Int(i) => i.to_string(),
        LiteralKind::Bool(b) => b.to_string(),
        LiteralKind::Variant(v) => v.clone(),
    }
}

fn uses(doc: &Doc, kind: Kind, name: &str) -> String {
    let n = doc.model.all_of(kind, name).filter(|o| !o.decl).count();
    match n {
        0 => "not used".into(),
        1 => "used once".into(),
        n => format!("used {n} times"),
    }
}

fn fact_hover(doc: &Doc, f: &FactDecl) -> String {
    let mut s = format!("```regain\n{}: {}\n```\n", f.name.text, type_text(&f.ty));
    let domain = match &f.ty {
        TypeExpr::Bool => "`true` or `false`".to_string(),
        TypeExpr::Int { lo, hi, .. } => {
            let n = (*hi as i128 - *lo as i128 + 1).max(0);
            format!("integers {lo} to {hi} ({n} values)")
        }
        TypeExpr::Enum(vs) => vs
            .iter()
            .map(|v| format!("`{}`", v.text))
            .collect::<Vec<_>>()
            .join(", "),
    };
    s.push_str(&format!("\nfact · domain: {domain}"));
    if let Some(d) = &f.default {
        s.push_str(&format!(" · default: `{}`", literal_text(&d.kind)));
    }
    if let Some(c) = line_comment(&doc.text, f.span.end) {
        s.push_str(&format!("\n\n{c}"));
    }
    s.push_str(&format!("\n\n{}", uses(doc, Kind::Fact, &f.name.text)));
    s
}

fn method_hover(doc: &Doc, m: &regain::syntax::ast::MethodDecl) -> String {
    let mut head = format!("{}: {}", m.name.text, m.factor.as_str());
    if m.restricted {
        head.push_str(" restricted");
    }
    let mut s = format!("```regain\n{head}\n```\n");
    s.push_str(&format!(
        "\nmethod · factor: {} ({})",
        m.factor.as_str(),
        factor_meaning(m.factor)
    ));
    s.push_str(if m.restricted {
        " · restricted (NIST SP 800-63B-4 §3.2.9)"
    } else {
        " · not restricted"
    });
    match &m.requires {
        Some(e) => s.push_str(&format!("\n\nrequires `{}`", regain::fmt::expr(e))),
        None => s.push_str("\n\nrequires nothing (always usable)"),
    }
    if let Some(c) = line_comment(&doc.text, m.span.end) {
        s.push_str(&format!("\n\n{c}"));
    }
    s.push_str(&format!("\n\n{}", uses(doc, Kind::Method, &m.name.text)));
    s
}

/// `a then any 2 of (b, c)`.
pub fn steps_text(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s {
            Step::Method(n) => n.text.clone(),
            Step::Any { n, methods, .. } => format!(
                "any {n} of ({})",
                methods
                    .iter()
                    .map(|m| m.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
        .collect::<Vec<_>>()
        .join(" then ")
}

/// What a share line says when it is not about the current text.
fn stale_note(doc: &Doc, answer: &Answer) -> &'static str {
    if answer.version == doc.version {
        ""
    } else {
        " (earlier version)"
    }
}

/// The lens/hover line for one path from the analyser's answer.
pub fn path_share_line(doc: &Doc, answer: &Answer, name: &str) -> Option<String> {
    let Outcome::Shares(_, per_path) = &answer.outcome else {
        return None;
    };
    let i = answer.paths.iter().position(|p| p == name)?;
    let s = per_path.get(i)?;
    Some(format!(
        "available for {} of profiles · first for {}{}",
        pct(s.available),
        pct(s.first),
        stale_note(doc, answer)
    ))
}

fn path_hover(doc: &Doc, p: &PathDecl, answer: Option<&Answer>) -> String {
    let mut s = format!("```regain\npath {}\n```\n", p.name.text);
    if let Some(t) = &p.title {
        s.push_str(&format!("\n**{t}**\n"));
    }
    for c in &p.clauses {
        let line = match c {
            Clause::When(e, _) => format!("when `{}`", regain::fmt::expr(e)),
            Clause::Steps(st, _) => format!("steps `{}`", steps_text(st)),
            Clause::Grants(g, _) => format!("grants `{}`", g.text),
            Clause::Wait(d, _) => format!("wait `{}{}`", d.amount, d.unit),
            Clause::Notify(ns, _) => format!(
                "notify `{}`",
                ns.iter()
                    .map(|n| n.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        s.push_str(&format!("\n- {line}"));
    }
    if let Some(line) = answer.and_then(|a| path_share_line(doc, a, &p.name.text)) {
        s.push_str(&format!("\n\n{line}"));
    }
    s
}

/// Hover at an offset. `answer` is the analyser's answer for this version, if ready.
pub fn hover(doc: &Doc, offset: usize, answer: Option<&Answer>) -> Option<Hover> {
    let (text, span) = if let Some(o) = doc.model.occurrence_at(offset) {
        let m = &doc.model;
        let text = match o.kind {
            Kind::Fact => m.fact(&o.name).map(|f| fact_hover(doc, f)),
            Kind::Method => m.method(&o.name).map(|x| method_hover(doc, x)),
            Kind::Path => m.path(&o.name).map(|p| path_hover(doc, p, answer)),
        };
        let text =
            text.unwrap_or_else(|| format!("{} `{}` is not declared", o.kind.word(), o.name));
        (text, o.span)
    } else {
        if lex::in_comment_or_string(&doc.text, offset) {
            return None;
        }
        let (start, end, word) = lex::word_at(&doc.text, offset)?;
        (keyword_meaning(word)?.to_string(), Span::new(start, end))
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(doc.range(span)),
    })
}

// ---------------------------------------------------------------- navigation

/// The declaration of the name at an offset.
pub fn definition(doc: &Doc, offset: usize) -> Option<Location> {
    let o = doc.model.occurrence_at(offset)?;
    let d = doc.model.declaration(o.kind, &o.name)?;
    Some(doc.location(d.span))
}

/// Every occurrence of the name at an offset.
pub fn references(doc: &Doc, offset: usize, include_declaration: bool) -> Vec<Location> {
    let Some(o) = doc.model.occurrence_at(offset) else {
        return Vec::new();
    };
    doc.model
        .all_of(o.kind, &o.name)
        .filter(|x| include_declaration || !x.decl)
        .map(|x| doc.location(x.span))
        .collect()
}

// ---------------------------------------------------------------- rename

/// The range of the renameable name at an offset.
pub fn prepare_rename(doc: &Doc, offset: usize) -> Result<Range, String> {
    let o = doc
        .model
        .occurrence_at(offset)
        .ok_or("only facts, methods and paths can be renamed")?;
    Ok(doc.range(o.span))
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why `new` cannot be the new name of a `kind`, if it cannot.
pub fn invalid_name(doc: &Doc, kind: Kind, old: &str, new: &str) -> Option<String> {
    let parts: Vec<&str> = if kind == Kind::Fact {
        new.split('.').collect()
    } else {
        vec![new]
    };
    if parts.iter().any(|p| !is_ident(p)) {
        return Some(if kind == Kind::Fact {
            format!("`{new}` is not a fact name (identifiers joined by dots)")
        } else {
            format!("`{new}` is not an identifier")
        });
    }
    if let Some(k) = parts.iter().find(|p| regain::syntax::is_keyword(p)) {
        return Some(format!("`{k}` is a keyword"));
    }
    if new == old {
        return None;
    }
    if let Some(d) = doc.model.declaration(kind, new) {
        let line = doc.range(d.span).start.line + 1;
        return Some(format!(
            "`{new}` collides with the {} `{new}` declared on line {line}",
            kind.word()
        ));
    }
    if kind == Kind::Fact {
        for f in doc.model.facts() {
            let other = f.name.text.as_str();
            if other == old {
                continue;
            }
            if other.starts_with(&format!("{new}.")) || new.starts_with(&format!("{other}.")) {
                return Some(format!(
                    "`{new}` collides with the fact `{other}`: a fact name may not be the prefix of another"
                ));
            }
        }
    }
    None
}

/// The edits renaming the name at an offset to `new`.
pub fn rename(doc: &Doc, offset: usize, new: &str) -> Result<WorkspaceEdit, String> {
    if !doc.model.parses {
        return Err("the document has syntax errors; fix them before renaming".into());
    }
    let o = doc
        .model
        .occurrence_at(offset)
        .ok_or("only facts, methods and paths can be renamed")?;
    if let Some(why) = invalid_name(doc, o.kind, &o.name, new) {
        return Err(why);
    }
    let edits: Vec<TextEdit> = doc
        .model
        .all_of(o.kind, &o.name)
        .map(|x| TextEdit::new(doc.range(x.span), new.to_string()))
        .collect();
    Ok(WorkspaceEdit {
        changes: Some(HashMap::from([(doc.uri.clone(), edits)])),
        ..Default::default()
    })
}

// ---------------------------------------------------------------- completion

fn item(
    label: &str,
    kind: CompletionItemKind,
    detail: Option<String>,
    edit: Range,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
            edit,
            label.to_string(),
        ))),
        ..Default::default()
    }
}

const FACTORS: &[&str] = &["knowledge", "possession", "inherence", "document", "human"];
const CLAUSES: &[&str] = &["when", "steps", "grants", "wait", "notify"];

/// Where the cursor is, as completion sees it.
#[derive(Debug, PartialEq)]
enum Ctx {
    Nothing,
    TopLevel {
        after_expr: bool,
        empty: bool,
    },
    Expr,
    Variants(String),
    Factor,
    AfterFactor {
        restricted: bool,
    },
    FactType,
    Methods {
        any: bool,
    },
    Clause {
        present: Vec<String>,
        then: bool,
        expr: bool,
    },
}

fn context(toks: &[lex::Token<'_>]) -> Ctx {
    // The enclosing item and brace depth.
    let mut item: Option<(&str, usize)> = None;
    let mut depth = 0usize;
    for t in toks {
        match (t.kind, t.text) {
            (Tok::Punct, "{") => depth += 1,
            (Tok::Punct, "}") => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    item = None;
                }
            }
            (Tok::Word, w) if depth == 0 && lex::ITEM_KEYWORDS.contains(&w) => {
                item = Some((w, t.start))
            }
            _ => {}
        }
    }
    let text = |i: usize| -> &str {
        toks.len()
            .checked_sub(i + 1)
            .and_then(|k| toks.get(k))
            .map_or("", |t| t.text)
    };
    let last = text(0);
    let prev = text(1);
    if matches!(last, "==" | "!=") && prev.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return Ctx::Variants(prev.to_string());
    }
    // A number, a range end, a literal or a `[` comes next: nothing to offer.
    if matches!(last, "<" | ">" | "<=" | ">=" | "in" | ".." | "|") {
        return Ctx::Nothing;
    }
    // Inside `fact in [ … ` : the last unclosed `[`.
    if let Some(k) = toks.iter().rposition(|t| t.text == "[") {
        let closed = toks.iter().skip(k).any(|t| t.text == "]");
        if !closed && matches!(last, "[" | ",") && k >= 2 {
            if let (Some(i), Some(f)) = (toks.get(k - 1), toks.get(k - 2)) {
                if i.text == "in" {
                    return Ctx::Variants(f.text.to_string());
                }
            }
        }
    }
    if toks.is_empty() {
        return Ctx::TopLevel {
            after_expr: false,
            empty: true,
        };
    }
    let in_any = || {
        toks.iter()
            .rposition(|t| t.text == "(")
            .is_some_and(|k| k >= 1 && toks.get(k - 1).is_some_and(|t| t.text == "of"))
            && !toks
                .iter()
                .rev()
                .take_while(|t| t.text != "(")
                .any(|t| t.text == ")")
    };
    if matches!(last, "when" | "requires" | "and" | "or" | "not") || (last == "(" && !in_any()) {
        return Ctx::Expr;
    }
    match item {
        Some(("methods", _)) if depth >= 1 => match last {
            ":" => Ctx::Factor,
            w if FACTORS.contains(&w) => Ctx::AfterFactor { restricted: false },
            "restricted" => Ctx::AfterFactor { restricted: true },
            _ => Ctx::Nothing,
        },
        Some(("facts", _)) if depth >= 1 => match last {
            ":" => Ctx::FactType,
            _ => Ctx::Nothing,
        },
        Some(("path", start)) if depth >= 1 => {
            if matches!(last, "steps" | "then") {
                return Ctx::Methods { any: true };
            }
            if in_any() && matches!(last, "(" | ",") {
                return Ctx::Methods { any: false };
            }
            let clause = toks
                .iter()
                .rev()
                .find(|t| t.kind == Tok::Word && CLAUSES.contains(&t.text))
                .map_or("", |t| t.text);
            if last == "notify" || (last == "," && clause == "notify") {
                return Ctx::Methods { any: false };
            }
            if matches!(last, "grants" | "wait" | "any" | "of" | ",") {
                return Ctx::Nothing;
            }
            if last.chars().all(|c| c.is_ascii_digit()) && prev == "any" {
                return Ctx::Nothing;
            }
            let present = toks
                .iter()
                .filter(|t| t.start > start && t.kind == Tok::Word && CLAUSES.contains(&t.text))
                .map(|t| t.text.to_string())
                .collect();
            Ctx::Clause {
                present,
                then: clause == "steps",
                expr: clause == "when",
            }
        }
        Some(("path", _)) => Ctx::Nothing,
        Some(("deny", _)) if depth == 0 => {
            if toks.iter().rev().any(|t| t.text == "when") {
                Ctx::TopLevel {
                    after_expr: true,
                    empty: false,
                }
            } else {
                Ctx::Nothing
            }
        }
        _ if depth == 0 => {
            if matches!(last, "policy" | "path" | "deny" | "facts" | "methods") {
                Ctx::Nothing
            } else {
                Ctx::TopLevel {
                    after_expr: false,
                    empty: false,
                }
            }
        }
        _ => Ctx::Nothing,
    }
}

/// Completion items at an offset.
pub fn completion(doc: &Doc, offset: usize) -> Vec<CompletionItem> {
    let text = &doc.text;
    let offset = offset.min(text.len());
    if lex::in_comment_or_string(text, offset) {
        return Vec::new();
    }
    // The word being typed ends at the cursor.
    let mut start = offset;
    while start > 0
        && text
            .as_bytes()
            .get(start - 1)
            .is_some_and(|b| lex::is_word_char(*b as char))
    {
        start -= 1;
    }
    let edit = doc.range(Span::new(start, offset));
    let before = text.get(..start).unwrap_or("");
    let toks = lex::tokens(before);
    let m = &doc.model;
    let mut out = Vec::new();
    let keywords = |out: &mut Vec<CompletionItem>, ws: &[&str]| {
        for w in ws {
            out.push(item(
                w,
                CompletionItemKind::KEYWORD,
                keyword_meaning(w).map(String::from),
                edit,
            ));
        }
    };
    let facts = |out: &mut Vec<CompletionItem>| {
        for f in m.facts() {
            out.push(item(
                &f.name.text,
                CompletionItemKind::FIELD,
                Some(type_text(&f.ty)),
                edit,
            ));
        }
    };
    let methods = |out: &mut Vec<CompletionItem>| {
        for x in m.methods() {
            let mut d = x.factor.as_str().to_string();
            if x.restricted {
                d.push_str(" restricted");
            }
            out.push(item(
                &x.name.text,
                CompletionItemKind::FUNCTION,
                Some(d),
                edit,
            ));
        }
    };
    match context(&toks) {
        Ctx::Nothing => {}
        Ctx::TopLevel { after_expr, empty } => {
            if empty {
                keywords(&mut out, &["policy"]);
            } else {
                if after_expr {
                    keywords(&mut out, &["and", "or"]);
                }
                keywords(&mut out, lex::ITEM_KEYWORDS);
            }
        }
        Ctx::Expr => {
            facts(&mut out);
            keywords(&mut out, &["not", "true", "false"]);
        }
        Ctx::Variants(fact) => match m.fact(&fact).map(|f| &f.ty) {
            Some(TypeExpr::Enum(vs)) => {
                for v in vs {
                    out.push(item(
                        &v.text,
                        CompletionItemKind::ENUM_MEMBER,
                        Some(format!("variant of {fact}")),
                        edit,
                    ));
                }
            }
            Some(TypeExpr::Bool) => keywords(&mut out, &["true", "false"]),
            _ => {}
        },
        Ctx::Factor => {
            for f in FACTORS {
                out.push(item(
                    f,
                    CompletionItemKind::ENUM_MEMBER,
                    keyword_meaning(f).map(String::from),
                    edit,
                ));
            }
        }
        Ctx::AfterFactor { restricted } => {
            if !restricted {
                keywords(&mut out, &["restricted"]);
            }
            keywords(&mut out, &["requires"]);
        }
        Ctx::FactType => keywords(&mut out, &["bool", "int"]),
        Ctx::Methods { any } => {
            methods(&mut out);
            if any {
                keywords(&mut out, &["any"]);
            }
        }
        Ctx::Clause {
            present,
            then,
            expr,
        } => {
            if then {
                keywords(&mut out, &["then"]);
            }
            if expr {
                keywords(&mut out, &["and", "or"]);
            }
            let missing: Vec<&str> = CLAUSES
                .iter()
                .copied()
                .filter(|c| !present.iter().any(|p| p == c))
                .collect();
            keywords(&mut out, &missing);
        }
    }
    out
}

// ---------------------------------------------------------------- formatting

/// The edits turning the document into `regain fmt`'s output (none when it does not
/// parse or is already canonical).
pub fn formatting(doc: &Doc) -> Vec<TextEdit> {
    match regain::fmt::format(&doc.text) {
        Ok(s) if s != doc.text => vec![TextEdit::new(doc.range(Span::new(0, doc.text.len())), s)],
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------- symbols

#[allow(deprecated, reason = "DocumentSymbol::deprecated must still be given")]
fn symbol(
    doc: &Doc,
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: doc.range(span),
        selection_range: doc.range(selection),
        children: (!children.is_empty()).then_some(children),
    }
}

/// Facts, methods, deny rules and paths, nested under their blocks.
pub fn symbols(doc: &Doc) -> Vec<DocumentSymbol> {
    let Some(file) = &doc.model.file else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for it in &file.items {
        match it {
            Item::Facts(b) => {
                let kids = b
                    .facts
                    .iter()
                    .map(|f| {
                        symbol(
                            doc,
                            f.name.text.clone(),
                            Some(type_text(&f.ty)),
                            SymbolKind::FIELD,
                            f.span,
                            f.name.span,
                            Vec::new(),
                        )
                    })
                    .collect();
                let head = Span::new(b.span.start, b.span.start + "facts".len());
                out.push(symbol(
                    doc,
                    "facts".into(),
                    None,
                    SymbolKind::NAMESPACE,
                    b.span,
                    head,
                    kids,
                ));
            }
            Item::Methods(b) => {
                let kids = b
                    .methods
                    .iter()
                    .map(|x| {
                        symbol(
                            doc,
                            x.name.text.clone(),
                            Some(x.factor.as_str().into()),
                            SymbolKind::METHOD,
                            x.span,
                            x.name.span,
                            Vec::new(),
                        )
                    })
                    .collect();
                let head = Span::new(b.span.start, b.span.start + "methods".len());
                out.push(symbol(
                    doc,
                    "methods".into(),
                    None,
                    SymbolKind::NAMESPACE,
                    b.span,
                    head,
                    kids,
                ));
            }
            Item::Deny(d) => out.push(symbol(
                doc,
                format!("deny \"{}\"", d.reason),
                None,
                SymbolKind::EVENT,
                d.span,
                d.reason_span,
                Vec::new(),
            )),
            Item::Path(p) => out.push(symbol(
                doc,
                p.name.text.clone(),
                p.title.clone(),
                SymbolKind::CLASS,
                p.span,
                p.name.span,
                Vec::new(),
            )),
        }
    }
    out
}

// ---------------------------------------------------------------- code actions

fn overlaps(a: Range, b: Range) -> bool {
    (a.start.line, a.start.character) <= (b.end.line, b.end.character)
        && (b.start.line, b.start.character) <= (a.end.line, a.end.character)
}

/// `did you mean `x`?` → `x`.
pub fn suggested(help: &str) -> Option<&str> {
    help.strip_prefix("did you mean `")?.strip_suffix("`?")
}

/// Quick fixes for the diagnostics in a range: did-you-mean replacements and a default
/// moved into the fact's domain.
pub fn code_actions(doc: &Doc, range: Range) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in &doc.model.diagnostics {
        let r = doc.range(d.span);
        if !overlaps(r, range) {
            continue;
        }
        let fix = if let Some(name) = d.help.as_deref().and_then(suggested) {
            Some((format!("Replace with `{name}`"), name.to_string()))
        } else if d.code == Code::E0011 {
            default_fix(doc, d)
        } else {
            None
        };
        if let Some((title, new_text)) = fix {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![to_lsp(doc, d)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(
                        doc.uri.clone(),
                        vec![TextEdit::new(r, new_text)],
                    )])),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }));
        }
    }
    out
}

/// For a default outside an int fact's range: the nearest end of the range.
fn default_fix(doc: &Doc, d: &Diagnostic) -> Option<(String, String)> {
    let f = doc
        .model
        .facts()
        .find(|f| f.default.as_ref().is_some_and(|l| l.span == d.span))?;
    let (TypeExpr::Int { lo, hi, .. }, Some(LiteralKind::Int(v))) =
        (&f.ty, f.default.as_ref().map(|l| &l.kind))
    else {
        return None;
    };
    let fixed = (*v).clamp(*lo, *hi);
    Some((
        format!("Use the default `{fixed}` (inside {lo}..{hi})"),
        fixed.to_string(),
    ))
}

// ---------------------------------------------------------------- code lens

/// Lenses: the policy's shares on its name line, each path's on its name. A document
/// with errors, or whose analysis is not ready, shows those of the last version
/// analysed, marked "(earlier version)", on the paths that are still there.
pub fn code_lenses(doc: &Doc, answer: Option<&Answer>) -> Vec<CodeLens> {
    let Some(file) = &doc.model.file else {
        return Vec::new();
    };
    if doc.model.policy.is_none() && answer.is_none() {
        return Vec::new();
    }
    let lens = |span: Span, title: String| CodeLens {
        range: doc.range(span),
        command: Some(Command {
            title,
            command: String::new(),
            arguments: None,
        }),
        data: None,
    };
    let Some(answer) = answer else {
        return vec![lens(file.name.span, "analysing…".into())];
    };
    match &answer.outcome {
        Outcome::Skipped(why) => vec![lens(file.name.span, format!("analysis skipped: {why}"))],
        Outcome::Shares(s, _) => {
            let mut out = vec![lens(
                file.name.span,
                format!(
                    "allow {} · deny {} · lockout {}{}",
                    pct(s.allow),
                    pct(s.deny),
                    pct(s.lockout),
                    stale_note(doc, answer)
                ),
            )];
            for p in doc.model.paths() {
                if let Some(line) = path_share_line(doc, answer, &p.name.text) {
                    out.push(lens(p.name.span, line));
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenses_before_the_analysis_and_when_it_was_skipped() {
        let uri: Uri = "file:///x.regain".parse().unwrap();
        let src = "policy p\nmethods { m: human }\npath q { steps m grants x }\n";
        let doc = Doc::new(uri, 1, src.into());
        let waiting = code_lenses(&doc, None);
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].command.as_ref().unwrap().title, "analysing…");
        let skipped = Answer {
            version: 1,
            paths: vec!["q".into()],
            outcome: Outcome::Skipped("the decision graph needs more than 1 nodes".into()),
        };
        let l = code_lenses(&doc, Some(&skipped));
        assert_eq!(l.len(), 1, "no path lens without shares");
        assert_eq!(
            l[0].command.as_ref().unwrap().title,
            "analysis skipped: the decision graph needs more than 1 nodes"
        );
        assert_eq!(
            l[0].range,
            Range::new(Position::new(0, 7), Position::new(0, 8))
        );
    }

    fn ctx(src: &str) -> Ctx {
        context(&lex::tokens(src))
    }

    #[test]
    fn completion_contexts() {
        assert_eq!(
            ctx("policy p facts { r: a | b } deny \"x\" when r == "),
            Ctx::Variants("r".into())
        );
        assert_eq!(
            ctx("policy p path q { when r in [a, "),
            Ctx::Variants("r".into())
        );
        assert_eq!(ctx("policy p methods { m: "), Ctx::Factor);
        assert_eq!(
            ctx("policy p methods { m: knowledge "),
            Ctx::AfterFactor { restricted: false }
        );
        assert_eq!(ctx("policy p path q { steps "), Ctx::Methods { any: true });
        assert_eq!(
            ctx("policy p path q { steps any 2 of (a, "),
            Ctx::Methods { any: false }
        );
        assert_eq!(
            ctx("policy p path q { notify a, "),
            Ctx::Methods { any: false }
        );
        assert_eq!(ctx("policy p path q { when "), Ctx::Expr);
        assert_eq!(
            ctx("policy p facts { a: bool } "),
            Ctx::TopLevel {
                after_expr: false,
                empty: false
            }
        );
        assert_eq!(ctx("policy p facts { a: "), Ctx::FactType);
        assert!(matches!(
            ctx("policy p path q { steps a "),
            Ctx::Clause { then: true, .. }
        ));
        assert_eq!(ctx("policy p path q { grants "), Ctx::Nothing);
        assert_eq!(ctx("policy p path q { when n >= "), Ctx::Nothing);
        assert_eq!(ctx("policy p deny \"x\" when n < "), Ctx::Nothing);
        assert_eq!(ctx("policy p path q { when r in "), Ctx::Nothing);
        assert!(matches!(
            ctx("policy p path q { when n >= 3 "),
            Ctx::Clause { expr: true, .. }
        ));
        assert_eq!(suggested("did you mean `a.b`?"), Some("a.b"));
    }
}
