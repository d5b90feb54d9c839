//! Diagnostics: a code, a severity, a message, labelled spans and help.
//!
//! The library returns diagnostics as data; the CLI renders them (miette graphical, or
//! plain `file:line:col: error[E0003]: …` lines, or JSON). All wording of the fixed
//! parts lives in [`Code::title`]; the message of each diagnostic adds the names.

use std::fmt;
use std::sync::Arc;

use crate::source::{line_col, Span};

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the policy from being used.
    Error,
    /// Worth fixing; `--deny-warnings` makes it fail.
    Warning,
}

macro_rules! codes {
    ($($code:ident $sev:ident $title:literal,)*) => {
        /// Stable diagnostic codes. Each is documented in the README's code table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $(#[doc = $title] $code,)* }

        impl Code {
            /// `E0003`, `W0001`, …
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }
            /// The short title of the code.
            pub fn title(self) -> &'static str {
                match self { $(Code::$code => $title,)* }
            }
            /// Error or warning.
            pub fn severity(self) -> Severity {
                match self { $(Code::$code => Severity::$sev,)* }
            }
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];
        }
    };
}

codes! {
    E0001 Error "syntax error",
    E0002 Error "duplicate fact",
    E0003 Error "unknown fact",
    E0004 Error "duplicate method",
    E0005 Error "unknown method",
    E0006 Error "duplicate path",
    E0007 Error "type mismatch",
    E0008 Error "unknown enum variant",
    E0009 Error "operator not allowed for this type",
    E0010 Error "empty integer range",
    E0011 Error "default outside the fact's domain",
    E0012 Error "`any N of` count out of range",
    E0013 Error "method listed twice in `any N of`",
    E0014 Error "fact name is the prefix of another fact",
    E0015 Error "`in` on a bool fact",
    E0016 Error "expression nested too deeply",
    E0017 Error "source too large",
    E0018 Error "missing required clause",
    E0019 Error "clause given twice",
    E0020 Error "duplicate enum variant",
    E0021 Error "non-bool fact used as a condition",
    E0022 Error "integer literal out of range",
    E0023 Error "duration out of range",
    W0001 Warning "comparison is constant over the fact's domain",
    W0002 Warning "unused fact",
    W0003 Warning "unused method",
    W0004 Warning "method used twice in one path's steps",
    W0005 Warning "two deny rules with the same reason",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary label: another place that explains the diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What it says there.
    pub message: String,
}

/// One diagnostic about a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// The full message (names included).
    pub message: String,
    /// The primary location.
    pub span: Span,
    /// What the primary label says.
    pub label: String,
    /// Other locations.
    pub secondary: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a primary label and no help.
    pub fn new(
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: label.into(),
            secondary: Vec::new(),
            help: None,
        }
    }

    /// Add help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Add help when there is some.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Add a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Error or warning (from the code).
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// Diagnostics of one source file, with the text they point into.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    /// The file name shown in locations.
    pub name: String,
    /// The source text.
    pub source: Arc<str>,
    /// Sorted by position; errors and warnings together.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// The errors among them.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity() == Severity::Error)
    }

    /// The warnings among them.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity() == Severity::Warning)
    }

    /// True when at least one is an error.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// `file:line:col` of a span.
    pub fn location(&self, span: Span) -> String {
        format!("{}:{}", self.name, line_col(&self.source, span.start))
    }

    /// The diagnostic as a miette report (for graphical rendering).
    pub fn report(&self, d: &Diagnostic) -> Report {
        Report {
            diag: d.clone(),
            source: miette::NamedSource::new(self.name.clone(), self.source.clone()),
        }
    }

    /// Plain one-or-two-line rendering of one diagnostic.
    pub fn plain(&self, d: &Diagnostic) -> String {
        let sev = match d.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut s = format!(
            "{}: {sev}[{}]: {}",
            self.location(d.span),
            d.code,
            d.message
        );
        for l in &d.secondary {
            s.push_str(&format!(
                "\n  {}: note: {}",
                self.location(l.span),
                l.message
            ));
        }
        if let Some(h) = &d.help {
            s.push_str(&format!("\n  help: {h}"));
        }
        s
    }
}

/// Where a span is, 1-based: `line`, `col` (characters), `end_line`, `end_col` (one past
/// the last character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// First line.
    pub line: usize,
    /// First column.
    pub col: usize,
    /// Last line.
    pub end_line: usize,
    /// One past the last column.
    pub end_col: usize,
}

/// One labelled place of a diagnostic, for JSON.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LabelView {
    /// First line.
    pub line: usize,
    /// First column.
    pub col: usize,
    /// Last line.
    pub end_line: usize,
    /// One past the last column.
    pub end_col: usize,
    /// What the label says.
    pub message: String,
    /// Whether this is the primary label.
    pub primary: bool,
}

/// One diagnostic as every machine-readable surface shows it (`check --format json`,
/// the HTTP service, the Python package): code, severity, message, file, the primary
/// place both flat (`line`, `col`, …) and as `location`, the label, help and every
/// labelled place (primary first).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DiagnosticView {
    /// The stable code (`E001`…).
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// The full message.
    pub message: String,
    /// The file name given to the parser.
    pub file: String,
    /// First line of the primary span.
    pub line: usize,
    /// First column of the primary span.
    pub col: usize,
    /// Last line of the primary span.
    pub end_line: usize,
    /// One past the last column of the primary span.
    pub end_col: usize,
    /// The primary span again, as one object.
    pub location: Location,
    /// What the primary label says.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Every labelled place, the primary one first.
    pub labels: Vec<LabelView>,
}

impl Diagnostics {
    /// Where a span is in this file.
    pub fn locate(&self, span: Span) -> Location {
        let s = line_col(&self.source, span.start);
        let e = line_col(&self.source, span.end);
        Location {
            line: s.line,
            col: s.col,
            end_line: e.line,
            end_col: e.col,
        }
    }

    /// One diagnostic in its machine-readable form.
    pub fn view(&self, item: &Diagnostic) -> DiagnosticView {
        let location = self.locate(item.span);
        let label = |span: Span, message: &str, primary: bool| {
            let l = self.locate(span);
            LabelView {
                line: l.line,
                col: l.col,
                end_line: l.end_line,
                end_col: l.end_col,
                message: message.to_string(),
                primary,
            }
        };
        DiagnosticView {
            code: item.code.as_str(),
            severity: item.severity(),
            message: item.message.clone(),
            file: self.name.clone(),
            line: location.line,
            col: location.col,
            end_line: location.end_line,
            end_col: location.end_col,
            location,
            label: item.label.clone(),
            help: item.help.clone(),
            labels: std::iter::once(label(item.span, &item.label, true))
                .chain(
                    item.secondary
                        .iter()
                        .map(|l| label(l.span, &l.message, false)),
                )
                .collect(),
        }
    }

    /// Every diagnostic in its machine-readable form, in order.
    pub fn views(&self) -> Vec<DiagnosticView> {
        self.items.iter().map(|d| self.view(d)).collect()
    }
}

/// Counts of a checked policy's declarations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Facts.
    pub facts: usize,
    /// Methods.
    pub methods: usize,
    /// Deny rules.
    pub denies: usize,
    /// Paths.
    pub paths: usize,
}

/// The result of checking one source file, as `regain check --format json` prints it
/// per file (and the HTTP service's `/v1/check`): made by [`crate::Policy::check_report`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CheckReport {
    /// The file name.
    pub file: String,
    /// No errors.
    pub ok: bool,
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// Declarations, when the policy checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    /// Every diagnostic.
    pub diagnostics: Vec<DiagnosticView>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(&self.plain(d))?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// One diagnostic with its named source, ready for miette's renderers.
#[derive(Debug)]
pub struct Report {
    diag: Diagnostic,
    source: miette::NamedSource<Arc<str>>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let primary = miette::LabeledSpan::new_primary_with_span(
            Some(self.diag.label.clone()),
            self.diag.span,
        );
        let rest = self
            .diag
            .secondary
            .iter()
            .map(|l| miette::LabeledSpan::new_with_span(Some(l.message.clone()), l.span));
        Some(Box::new(std::iter::once(primary).chain(rest)))
    }
}

/// The closest candidate to `name` if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// `help: did you mean `x`?` when there is a close candidate.
pub fn suggestion<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_picks_close_names_only() {
        let c = ["phone.active", "phone.bound", "email.bound"];
        assert_eq!(did_you_mean("phone.activ", c), Some("phone.active"));
        assert_eq!(did_you_mean("emial.bound", c), Some("email.bound"));
        assert_eq!(did_you_mean("zzz", c), None);
    }

    #[test]
    fn codes_are_unique_and_severity_matches_prefix() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()));
            let warn = c.as_str().starts_with('W');
            assert_eq!(warn, c.severity() == Severity::Warning);
        }
    }
}
