//! Syntax errors: what pest expected where parsing stopped, said in the language's words,
//! with a specific hint for the mistakes people make most (`&&`, `int 0-10`, `7 days`, a
//! missing comma, a deny without its reason, an unclosed block, `=` for `==`, a keyword
//! used as a name).

use pest::Parser as _;

use super::parser::{is_keyword, Grammar, Rule};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{line_col, Span};

/// What a user calls each token the grammar expects (`None`: never reported, because
/// the rule is silent or only part of another token).
fn rule_name(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::ident | Rule::method_step | Rule::variant => "a name",
        Rule::fact_name | Rule::fact_ref => "a fact name",
        Rule::int | Rule::int_lit => "an integer",
        Rule::duration => "a duration like `48h`",
        Rule::string | Rule::string_inner => "a quoted string",
        Rule::escape => "`\\\"` or `\\\\`",
        Rule::kw_policy | Rule::file => "`policy`",
        Rule::kw_facts | Rule::facts => "`facts`",
        Rule::kw_methods | Rule::methods => "`methods`",
        Rule::kw_deny | Rule::deny => "`deny`",
        Rule::kw_path | Rule::path => "`path`",
        Rule::kw_when | Rule::when_clause => "`when`",
        Rule::kw_steps | Rule::steps_clause => "`steps`",
        Rule::kw_then => "`then`",
        Rule::kw_grants | Rule::grants_clause => "`grants`",
        Rule::kw_wait | Rule::wait_clause => "`wait`",
        Rule::kw_notify | Rule::notify_clause => "`notify`",
        Rule::kw_any | Rule::any_step => "`any`",
        Rule::kw_of => "`of`",
        Rule::kw_requires | Rule::requires => "`requires`",
        Rule::kw_restricted | Rule::restricted => "`restricted`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not | Rule::not_expr => "`not`",
        Rule::kw_in => "`in`",
        Rule::kw_true | Rule::true_lit => "`true`",
        Rule::kw_false | Rule::false_lit => "`false`",
        Rule::bool_lit => "`true` or `false`",
        Rule::kw_bool | Rule::bool_type => "`bool`",
        Rule::kw_int | Rule::int_type => "`int`",
        Rule::enum_type => "enum variants `a | b`",
        Rule::factor => "a factor (`knowledge`, `possession`, `inherence`, `document`, `human`)",
        Rule::cmp_op => "a comparison operator",
        Rule::comparison | Rule::in_list | Rule::expr | Rule::expr_input | Rule::and_expr => {
            "an expression"
        }
        Rule::paren | Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::dotdot => "`..`",
        Rule::pipe => "`|`",
        Rule::equals => "`=`",
        Rule::EOI => "end of file",
        Rule::fact_decl => "a fact declaration",
        Rule::method_decl => "a method declaration",
        Rule::item => "`facts`, `methods`, `deny` or `path`",
        Rule::fact_type => "a type (`bool`, `int lo..hi` or `a | b`)",
        Rule::clause => "a clause (`when`, `steps`, `grants`, `wait`, `notify`)",
        Rule::step => "a step",
        Rule::unary => "an expression",
        Rule::literal => "a value",
        Rule::WHITESPACE | Rule::COMMENT | Rule::ident_char | Rule::keyword => return None,
    })
}

/// A token of the source, as the hints see it (a rough lexer: words, strings, runs of
/// operator characters, single punctuation).
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    span: Span,
}

impl Tok<'_> {
    fn is(&self, s: &str) -> bool {
        self.text == s
    }
    fn is_word(&self) -> bool {
        self.text
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
    }
    fn is_name(&self) -> bool {
        self.text
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
            && !is_keyword(self.text)
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_op_byte(c: u8) -> bool {
    matches!(c, b'=' | b'!' | b'<' | b'>' | b'&' | b'|')
}

/// Split a source into tokens, skipping whitespace and comments. Words may be dotted
/// (`phone.active`); `0..10` is three tokens.
fn lex(src: &str) -> Vec<Tok<'_>> {
    let b = src.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(b'\n');
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = at(i);
        let start = i;
        if c == b'#' {
            while i < b.len() && at(i) != b'\n' {
                i += 1;
            }
            continue;
        } else if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if is_word_byte(c) {
            while i < b.len() {
                if is_word_byte(at(i)) {
                    i += 1;
                } else if at(i) == b'.' && (at(i + 1).is_ascii_alphabetic() || at(i + 1) == b'_') {
                    i += 2;
                } else {
                    break;
                }
            }
        } else if c == b'"' {
            i += 1;
            while i < b.len() && at(i) != b'"' && at(i) != b'\n' {
                if at(i) == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            if at(i) == b'"' {
                i += 1;
            }
        } else if is_op_byte(c) {
            while i < b.len() && is_op_byte(at(i)) {
                i += 1;
            }
        } else if c == b'.' {
            while i < b.len() && at(i) == b'.' {
                i += 1;
            }
        } else {
            // One character (possibly several bytes).
            i += src
                .get(i..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8);
        }
        let i_end = i.min(b.len());
        if let Some(text) = src.get(start..i_end) {
            out.push(Tok {
                text,
                span: Span::new(start, i_end),
            });
        }
        i = i_end;
    }
    out
}

/// A hint: help text, extra labels, and optionally a better primary location.
#[derive(Default)]
struct Hint {
    help: String,
    labels: Vec<(Span, String)>,
    /// Replace the primary span, label and message (an unclosed block points at its
    /// opening brace).
    primary: Option<(Span, String, String)>,
}

impl Hint {
    fn help(help: impl Into<String>) -> Option<Hint> {
        Some(Hint {
            help: help.into(),
            ..Hint::default()
        })
    }
}

/// Everything a hint may look at.
struct Ctx<'a> {
    src: &'a str,
    toks: Vec<Tok<'a>>,
    /// Index in `toks` of the first token at or after the error position (`toks.len()`
    /// at end of file).
    at: usize,
    pos: usize,
    expected: Vec<&'static str>,
}

impl<'a> Ctx<'a> {
    fn found(&self) -> Option<Tok<'a>> {
        self.toks.get(self.at).copied()
    }
    /// The `k`-th token before the error position (1 = the one just before).
    fn before(&self, k: usize) -> Option<Tok<'a>> {
        self.at
            .checked_sub(k)
            .and_then(|i| self.toks.get(i))
            .copied()
    }
    fn after(&self, k: usize) -> Option<Tok<'a>> {
        self.toks.get(self.at + k).copied()
    }
    fn expects(&self, what: &str) -> bool {
        self.expected.contains(&what)
    }
    fn expects_name(&self) -> bool {
        self.expects("a name") || self.expects("a fact name")
    }
    /// Parsing stopped inside or right after a condition.
    fn in_condition(&self) -> bool {
        self.expects("`and`")
            || self.expects("`or`")
            || self.expects("an expression")
            || self.expects("a comparison operator")
    }
    fn at_eof(&self) -> bool {
        self.at >= self.toks.len()
    }
    fn line(&self, offset: usize) -> usize {
        line_col(self.src, offset).line
    }
}

/// Turn a pest error into a diagnostic: where, what was expected, what was found, and a
/// hint when the mistake is a common one.
pub(super) fn syntax_error(source: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
    .min(source.len());
    let toks = lex(source);
    let at = toks.partition_point(|t| t.span.end <= pos);
    let mut expected: Vec<&'static str> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| rule_name(*r)).collect()
        }
        ErrorVariant::CustomError { .. } => vec![],
    };
    expected.sort_unstable();
    expected.dedup();
    let ctx = Ctx {
        src: source,
        toks,
        at,
        pos,
        expected,
    };
    let (span, found_txt) = match ctx.found() {
        // An error inside a word (`a.in`) shows the whole word.
        Some(t) if t.span.start <= pos => (t.span, t.text),
        Some(t) => (t.span, t.text),
        None => (Span::new(source.len(), source.len()), ""),
    };
    let found_txt = if found_txt.is_empty() {
        "end of file".to_string()
    } else if found_txt.chars().count() > 40 {
        let head: String = found_txt.chars().take(40).collect();
        format!("`{head}…`")
    } else {
        format!("`{found_txt}`")
    };
    let expected_txt = match ctx.expected.as_slice() {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    };
    let mut d = Diagnostic::new(
        Code::E0001,
        span,
        format!("expected {expected_txt}, found {found_txt}"),
        format!("expected {expected_txt}"),
    );
    if let Some(h) = hint(&ctx) {
        if let Some((span, label, message)) = h.primary {
            d.span = span;
            d.label = label;
            d.message = format!("{message} (expected {expected_txt}, found {found_txt})");
        }
        for (s, l) in h.labels {
            d = d.with_label(s, l);
        }
        d = d.with_help(h.help);
    }
    d
}

/// The first hint that applies, most specific first.
fn hint(c: &Ctx<'_>) -> Option<Hint> {
    let hints: [fn(&Ctx<'_>) -> Option<Hint>; 15] = [
        empty_or_no_policy,
        unterminated_string,
        unclosed,
        c_operators,
        single_equals,
        deny_reason,
        duration,
        int_range,
        steps_separator,
        missing_comma,
        keyword_as_name,
        missing_type,
        dotted,
        stray_closer,
        construct,
    ];
    hints.iter().find_map(|h| h(c))
}

fn empty_or_no_policy(c: &Ctx<'_>) -> Option<Hint> {
    let empty = c.src.trim_start_matches('\u{FEFF}').trim().is_empty();
    let first = c.toks.first().is_none_or(|t| t.span.start >= c.pos);
    if empty || (first && c.expects("`policy`")) {
        return Hint::help("a policy file starts with `policy NAME`, e.g. `policy password_reset`");
    }
    None
}

fn unterminated_string(c: &Ctx<'_>) -> Option<Hint> {
    let found = c.found()?;
    if c.expects("a quoted string") && found.text.starts_with('"') {
        return Hint::help(
            "a string ends with `\"` on the same line; inside it only the escapes `\\\"` and `\\\\` are allowed",
        );
    }
    None
}

/// The brackets of the whole source, matched; the unmatched openers, innermost last.
fn unmatched_openers<'a>(toks: &[Tok<'a>]) -> Vec<Tok<'a>> {
    let mut stack: Vec<Tok<'a>> = Vec::new();
    let mut unmatched = Vec::new();
    for t in toks {
        match t.text {
            "{" | "(" | "[" => stack.push(*t),
            "}" | ")" | "]" => {
                let open = match t.text {
                    "}" => "{",
                    ")" => "(",
                    _ => "[",
                };
                // Close the nearest opener of the same kind; openers of other kinds
                // skipped on the way are unmatched.
                if let Some(k) = stack.iter().rposition(|o| o.text == open) {
                    unmatched.extend(stack.drain(k..).skip(1));
                    stack.truncate(k);
                }
            }
            _ => {}
        }
    }
    unmatched.extend(stack);
    unmatched.sort_by_key(|t| t.span.start);
    unmatched
}

/// What a `{` opens: `facts`, `methods`, `path NAME`.
fn block_name(toks: &[Tok<'_>], brace: usize) -> String {
    let Some(i) = toks.get(..brace).and_then(|ts| {
        ts.iter()
            .rposition(|t| matches!(t.text, "facts" | "methods" | "path"))
    }) else {
        return "block".into();
    };
    match toks.get(i).map(|t| t.text) {
        Some("path") => match toks.get(i + 1) {
            Some(n) if n.is_name() => format!("`path {}` block", n.text),
            _ => "`path` block".into(),
        },
        Some(kw) => format!("`{kw}` block"),
        None => "block".into(),
    }
}

fn unclosed(c: &Ctx<'_>) -> Option<Hint> {
    let closers = [("{", "`}`", "}"), ("(", "`)`", ")"), ("[", "`]`", "]")];
    let open = unmatched_openers(&c.toks)
        .into_iter()
        .rev()
        .find(|o| o.span.start < c.pos)?;
    let (_, close_name, close) = closers.iter().find(|(o, _, _)| *o == open.text)?;
    if !(c.at_eof() || c.expects(close_name)) {
        return None;
    }
    let what = if open.text == "{" {
        let idx = c.toks.iter().position(|t| t.span == open.span).unwrap_or(0);
        format!("the {}", block_name(&c.toks, idx))
    } else {
        format!("this `{}`", open.text)
    };
    let line = c.line(open.span.start);
    if c.at_eof() {
        let eof = Span::new(c.src.len(), c.src.len());
        return Some(Hint {
            help: format!(
                "add `{close}` to close {what} opened on line {line}, after its last {}",
                if open.text == "{" { "line" } else { "item" }
            ),
            labels: vec![(eof, "the file ends here".into())],
            // The message gets "(expected …, found end of file)" appended.
            primary: Some((
                open.span,
                "this is never closed".into(),
                format!("unclosed `{}`: {what} is never closed", open.text),
            )),
        });
    }
    let found = c
        .found()
        .map_or("end of file".to_string(), |t| format!("`{}`", t.text));
    Some(Hint {
        help: format!(
            "{what} opened on line {line} is not closed before {found}: add `{close}` where it should end"
        ),
        labels: vec![(open.span, "opened here, never closed".into())],
        primary: None,
    })
}

fn c_operators(c: &Ctx<'_>) -> Option<Hint> {
    let found = c.found()?;
    if !c.in_condition() {
        return None;
    }
    let word = match found.text {
        t if t.starts_with("&&") || t == "&" => "and",
        t if t.starts_with("||") => "or",
        "|" if !c.expects("`|`") => "or",
        "!" => "not",
        _ => return None,
    };
    // The author's operands, when they are plain.
    let lhs = c.before(1).filter(|t| t.is_name()).map_or("a", |t| t.text);
    let rhs = match (c.after(1), c.after(2)) {
        (Some(n), Some(f)) if n.is("not") && f.is_name() => format!("not {}", f.text),
        (Some(f), _) if f.is_name() => f.text.to_string(),
        _ => "b".to_string(),
    };
    let example = if word == "not" {
        format!("not {rhs}")
    } else {
        format!("{lhs} {word} {rhs}")
    };
    Hint::help(format!(
        "regain writes `{word}`, not `{}`: `{example}`",
        found.text
    ))
}

fn single_equals(c: &Ctx<'_>) -> Option<Hint> {
    let found = c.found()?;
    if !c.in_condition() {
        return None;
    }
    let fix = match found.text {
        "=" | "===" => "==",
        "=<" => "<=",
        "=>" => ">=",
        "<>" => "!=",
        "=!" => "!=",
        _ => return None,
    };
    let lhs = c
        .before(1)
        .filter(|t| t.is_word())
        .map_or("fact", |t| t.text);
    let rhs = c
        .after(1)
        .filter(|t| t.is_word())
        .map_or("value", |t| t.text);
    Hint::help(format!("to compare, write `{fix}`: `{lhs} {fix} {rhs}`"))
}

fn deny_reason(c: &Ctx<'_>) -> Option<Hint> {
    let prev = c.before(1)?;
    if prev.is("deny") && c.expects("a quoted string") {
        // Show the rule with a reason, keeping the author's condition when there is one.
        let cond = match c.found() {
            Some(t) if t.is("when") => {
                let rest = c.src.get(t.span.end..).unwrap_or("");
                let line = rest.lines().next().unwrap_or("").trim();
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() || line.len() > 60 {
                    "…".to_string()
                } else {
                    line.to_string()
                }
            }
            _ => "…".to_string(),
        };
        return Hint::help(format!(
            "a deny rule gives its reason first, in double quotes, then `when` and the condition: `deny \"reason shown to the caller\" when {cond}`"
        ));
    }
    // `deny "reason" account.frozen`: the `when` is missing.
    if prev.text.starts_with('"')
        && c.before(2).is_some_and(|t| t.is("deny"))
        && c.expects("`when`")
    {
        return Hint::help(format!(
            "write `when` between the reason and the condition: `deny {} when …`",
            prev.text
        ));
    }
    None
}

/// Seconds per unit word, as people write them.
fn unit_seconds(unit: &str) -> Option<u64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "wk" | "wks" | "week" | "weeks" => 7 * 86_400,
        _ => return None,
    })
}

/// `7 days` → `7d`, `1w` → `7d`, `1.5h` → `90m`: the duration as the language writes it,
/// when the text at `pos` can be read as one.
fn suggest_duration(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let whole = text.get(..i)?;
    if whole.is_empty() {
        return None;
    }
    // An optional fraction: `1.5h`.
    let mut frac = "";
    if b.get(i) == Some(&b'.') {
        let s = i + 1;
        let mut j = s;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        frac = text.get(s..j)?;
        i = j;
    }
    while b.get(i).is_some_and(|c| *c == b' ' || *c == b'\t') {
        i += 1;
    }
    let s = i;
    while b.get(i).is_some_and(u8::is_ascii_alphabetic) {
        i += 1;
    }
    let per = unit_seconds(text.get(s..i)?)?;
    if frac.len() > 6 {
        return None;
    }
    let scale = 10u128.pow(u32::try_from(frac.len()).ok()?);
    let mantissa: u128 = format!("{whole}{frac}").parse().ok()?;
    let total = mantissa.checked_mul(u128::from(per))?;
    if total % scale != 0 {
        return None;
    }
    let secs = total / scale;
    let (n, u) = [(86_400u128, 'd'), (3600, 'h'), (60, 'm'), (1, 's')]
        .into_iter()
        .find(|(k, _)| secs >= *k && secs % k == 0)
        .map_or((secs, 's'), |(k, u)| (secs / k, u));
    Some(format!("{n}{u}"))
}

fn duration(c: &Ctx<'_>) -> Option<Hint> {
    if !(c.before(1)?.is("wait") && c.expects("a duration like `48h`")) {
        return None;
    }
    let general = "a duration is a whole number and a unit with no space between: `s` (seconds), `m` (minutes), `h` (hours) or `d` (days), e.g. `30m`, `48h`, `7d`";
    let rest = c.src.get(c.pos..).unwrap_or("");
    match suggest_duration(rest) {
        Some(s) => Hint::help(format!("write `wait {s}`: {general}")),
        None => Hint::help(general),
    }
}

fn int_range(c: &Ctx<'_>) -> Option<Hint> {
    // `int` then something else than a number.
    if c.before(1)?.is("int") && c.expects("an integer") {
        return Hint::help("an int fact declares its range, both ends included: `int 0..10`");
    }
    // `int 0-10`, `int 0 to 10`, `int 0...10`.
    if c.before(2).is_some_and(|t| t.is("int"))
        && c.before(1)
            .is_some_and(|t| t.text.bytes().all(|b| b.is_ascii_digit()))
        && c.expects("`..`")
    {
        let lo = c.before(1).map_or("0", |t| t.text);
        let hi = match (c.found().map(|t| t.text), c.after(1)) {
            (Some("-" | "to" | "..." | "." | "—" | "–"), Some(n))
                if n.text.bytes().all(|b| b.is_ascii_digit()) =>
            {
                n.text
            }
            _ => "10",
        };
        return Hint::help(format!(
            "write `int {lo}..{hi}`: a range is written with two dots, both ends included"
        ));
    }
    None
}

fn steps_separator(c: &Ctx<'_>) -> Option<Hint> {
    let found = c.found()?;
    if !(c.expects("`then`") && matches!(found.text, "," | "and" | "&&" | "->" | ">")) {
        return None;
    }
    Hint::help(
        "steps follow each other with `then` (`steps email_link then questions`); to accept any of several methods in one step, write `any 1 of (a, b)`",
    )
}

fn missing_comma(c: &Ctx<'_>) -> Option<Hint> {
    let found = c.found()?;
    if !(c.expects("`,`") && found.is_word()) {
        return None;
    }
    // Inside `any N of ( … )`: rebuild the list with commas.
    let open = c
        .toks
        .get(..c.at)?
        .iter()
        .rposition(|t| matches!(t.text, "(" | "[" | ")" | "]"));
    if let Some(o) = open {
        let opener = c.toks.get(o)?;
        if opener.is("(") && o >= 3 && c.toks.get(o - 1).is_some_and(|t| t.is("of")) {
            let n = c.toks.get(o - 2).map_or("N", |t| t.text);
            let items: Vec<&str> = c
                .toks
                .get(o + 1..)?
                .iter()
                .take_while(|t| t.is_word() || t.is(","))
                .filter(|t| t.is_word())
                .map(|t| t.text)
                .collect();
            return Hint::help(format!(
                "separate the methods with commas: `any {n} of ({})`",
                items.join(", ")
            ));
        }
        if opener.is("[") {
            return Hint::help("separate the values with commas: `account.risk in [low, medium]`");
        }
    }
    // `notify a b`.
    let mut k = 1;
    let mut names = Vec::new();
    while let Some(t) = c.before(k) {
        if t.is("notify") {
            names.reverse();
            names.push(found.text);
            return Hint::help(format!(
                "if `{}` is another method to notify, separate the methods with commas: `notify {}`",
                found.text,
                names.join(", ")
            ));
        }
        if t.is_name() {
            names.push(t.text);
        } else if !t.is(",") {
            break;
        }
        k += 1;
    }
    None
}

/// Would the parse get past the keyword and the token after it if the keyword were a
/// name? Then a keyword really stands where a name belongs.
fn keyword_used_as_name(c: &Ctx<'_>, kw: Tok<'_>) -> bool {
    let mut patched = String::with_capacity(c.src.len());
    patched.push_str(c.src.get(..kw.span.start).unwrap_or(""));
    patched.push('x');
    for _ in 1..kw.text.len() {
        patched.push('_');
    }
    patched.push_str(c.src.get(kw.span.end..).unwrap_or(""));
    let next_end = c.after(1).map_or(c.src.len(), |t| t.span.end);
    match Grammar::parse(Rule::file, &patched) {
        Ok(_) => true,
        Err(e) => {
            let p = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            p >= next_end
        }
    }
}

fn keyword_as_name(c: &Ctx<'_>) -> Option<Hint> {
    let found = c.found()?;
    if !(is_keyword(found.text) && c.expects_name()) {
        return None;
    }
    if keyword_used_as_name(c, found) {
        return Hint::help(format!(
            "`{0}` is a reserved keyword and cannot be a name; rename it (e.g. `{0}_`)",
            found.text
        ));
    }
    // A keyword starts the next clause: the name is missing.
    match c.before(1).map(|t| t.text) {
        Some("steps") => {
            Hint::help("`steps` lists at least one method, e.g. `steps email_link then questions`")
        }
        Some("then") => Hint::help("`then` is followed by another step, e.g. `then questions`"),
        Some(prev) if is_keyword(prev) && c.expected.iter().all(|e| e.contains("name")) => {
            Hint::help(format!(
                "a name is missing after `{prev}` (`{}` is a keyword)",
                found.text
            ))
        }
        _ => None,
    }
}

/// `name: phone.active` or `name:` then the next declaration: one name was read as the
/// start of an enum type.
fn missing_type(c: &Ctx<'_>) -> Option<Hint> {
    if c.expected != ["`|`"] {
        return None;
    }
    let variant = c.before(1).filter(|t| t.is_name()).map_or("x", |t| t.text);
    Hint::help(format!(
        "a fact's type is `bool`, `int lo..hi` or two or more variants like `{variant} | other`; a single name is not a type"
    ))
}

fn dotted(c: &Ctx<'_>) -> Option<Hint> {
    let found = c.found()?;
    if !found.text.contains('.') || !found.is_word() {
        return None;
    }
    if let Some(kw) = found.text.split('.').find(|p| is_keyword(p)) {
        let renamed: Vec<String> = found
            .text
            .split('.')
            .map(|p| {
                if is_keyword(p) {
                    format!("{p}_")
                } else {
                    p.to_string()
                }
            })
            .collect();
        return Hint::help(format!(
            "`{kw}` is a keyword, and no part of a dotted fact name may be one; rename it (e.g. `{}`)",
            renamed.join(".")
        ));
    }
    // Stopped at the dot, or where a plain name was expected: dots are not allowed here.
    if found.span.start < c.pos || (c.expects("a name") && !c.expects("a fact name")) {
        return Hint::help(
            "only fact names may contain dots; methods, paths, variants and the policy have plain names like `sms_code`",
        );
    }
    None
}

/// No specific hint: show how the construct being written looks.
fn construct(c: &Ctx<'_>) -> Option<Hint> {
    if c.expects("a comparison operator") || c.expects("an expression") {
        return Hint::help(
            "a condition is built from bool facts, `not`, `and`, `or`, `( … )`, comparisons like `questions.set >= 2` or `account.risk != high`, and `account.risk in [low, medium]`",
        );
    }
    // The innermost block open at the error.
    let mut open: Vec<usize> = Vec::new();
    for (i, t) in c.toks.get(..c.at)?.iter().enumerate() {
        match t.text {
            "{" => open.push(i),
            "}" => {
                open.pop();
            }
            _ => {}
        }
    }
    let block = open.last().map(|b| block_name(&c.toks, *b));
    Hint::help(match block.as_deref() {
        Some("`facts` block") => "a fact is declared `name: bool`, `name: int 0..10` or `name: low | medium | high`, optionally followed by `= default`".to_string(),
        Some("`methods` block") => "a method is declared `name: factor [restricted] [requires condition]`, e.g. `sms_code: possession restricted requires phone.active`; the factors are `knowledge`, `possession`, `inherence`, `document` and `human`".to_string(),
        Some(b) if b.starts_with("`path") => "a path holds the clauses `when condition`, `steps a then any 2 of (b, c, d)`, `grants what`, `wait 48h` and `notify a, b`".to_string(),
        _ => "a policy is `policy NAME` followed by `facts { … }`, `methods { … }`, `deny \"reason\" when condition` and `path NAME [\"title\"] { … }` items".to_string(),
    })
}

fn stray_closer(c: &Ctx<'_>) -> Option<Hint> {
    let found = c.found()?;
    let open = match found.text {
        "}" => "{",
        ")" => "(",
        "]" => "[",
        _ => return None,
    };
    let name = format!("`{}`", found.text);
    if c.expects(&name) {
        return None;
    }
    Hint::help(format!(
        "this `{}` closes nothing: remove it, or add the `{open}` it should close",
        found.text
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_rewritten() {
        assert_eq!(suggest_duration("7 days }").as_deref(), Some("7d"));
        assert_eq!(suggest_duration("1w").as_deref(), Some("7d"));
        assert_eq!(suggest_duration("1 h").as_deref(), Some("1h"));
        assert_eq!(suggest_duration("1.5h").as_deref(), Some("90m"));
        assert_eq!(suggest_duration("90 minutes").as_deref(), Some("90m"));
        assert_eq!(suggest_duration("120 min").as_deref(), Some("2h"));
        assert_eq!(suggest_duration("48").as_deref(), None);
        assert_eq!(suggest_duration("2 fortnights").as_deref(), None);
    }

    #[test]
    fn a_long_token_is_shortened_in_the_message() {
        let src = format!(
            "policy p\nfacts {{ a: bool }}\ndeny {} when a",
            "x".repeat(5000)
        );
        let e = crate::syntax::parse(&src).unwrap_err();
        assert!(e[0].message.len() < 200, "{}", e[0].message);
        assert!(e[0].message.contains("xxx…`"), "{}", e[0].message);
    }

    #[test]
    fn lexer_keeps_dotted_names_and_splits_ranges() {
        let t: Vec<&str> = lex("a.b: int 0..10 # c\n x && y")
            .iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(t, ["a.b", ":", "int", "0", "..", "10", "x", "&&", "y"]);
    }
}
