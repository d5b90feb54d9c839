//! Acknowledged findings, so that CI can fail on new warnings only.
//!
//! In the policy, a comment `# regain: allow CODE "reason"` acknowledges the findings
//! with that code reported on the comment's own line (a trailing comment) or on the next
//! line that is not blank and not a comment (a comment above the item). A baseline file
//! (`analyze --write-baseline FILE`, then `--baseline FILE`) acknowledges findings by
//! code and item, which survive edits that move lines. Acknowledged findings stay in the
//! output, marked, and never fail `--deny-warnings`; an acknowledgement that matches no
//! finding is itself reported (A010), like an unfulfilled `#[expect]`.

use serde::{Deserialize, Serialize};

use super::{Finding, LintCode};
use crate::Severity;

/// How a finding was acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    /// The reason given.
    pub reason: String,
    /// `comment` (in the policy) or `baseline`.
    pub by: AckSource,
}

/// Where an acknowledgement comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AckSource {
    /// A `# regain: allow` comment in the policy.
    Comment,
    /// A baseline file.
    Baseline,
}

/// One `# regain: allow` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckComment {
    /// The code it allows (`A006`, `L003`, `W0002`…).
    pub code: String,
    /// The reason.
    pub reason: String,
    /// 1-based line of the comment.
    pub line: usize,
    /// 1-based column of the comment's `#`.
    pub col: usize,
    /// The line it applies to (its own, or the next line with code).
    pub target: usize,
}

/// A `# regain:` comment that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

/// The start of the comment on a line (the byte offset of `#` outside a string).
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            return Some(i);
        }
    }
    None
}

/// Read the `# regain: allow CODE "reason"` comments of a policy source.
pub fn comments(source: &str) -> (Vec<AckComment>, Vec<AckError>) {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(at) = comment_start(line) else {
            continue;
        };
        let code_before = !line.get(..at).unwrap_or_default().trim().is_empty();
        let text = line.get(at + 1..).unwrap_or_default().trim();
        let Some(rest) = text.strip_prefix("regain:") else {
            continue;
        };
        let col = line.get(..at).map_or(1, |s| s.chars().count() + 1);
        let err = |message: String| AckError {
            line: i + 1,
            col,
            message,
        };
        let rest = rest.trim();
        let Some(rest) = rest.strip_prefix("allow") else {
            errors.push(err(format!(
                "unknown regain directive `{}`; expected `# regain: allow CODE \"reason\"`",
                rest.split_whitespace().next().unwrap_or_default()
            )));
            continue;
        };
        let rest = rest.trim_start();
        let code: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let valid_code = code.len() == 4 || code.len() == 5;
        let known = LintCode::ALL.iter().any(|c| c.as_str() == code)
            || (code.len() == 5 && (code.starts_with('E') || code.starts_with('W')));
        if !valid_code || !known {
            errors.push(err(format!(
                "`# regain: allow` needs a finding code such as A006 or W0002, found `{code}`"
            )));
            continue;
        }
        let after = rest.get(code.len()..).unwrap_or_default().trim();
        let reason = after
            .strip_prefix('"')
            .and_then(|r| r.rfind('"').and_then(|end| r.get(..end)))
            .map(|r| r.replace("\\\"", "\"").replace("\\\\", "\\"));
        let Some(reason) = reason.filter(|r| !r.trim().is_empty()) else {
            errors.push(err(format!(
                "`# regain: allow {code}` needs a reason in quotes: `# regain: allow {code} \"why this is acceptable\"`"
            )));
            continue;
        };
        // A trailing comment applies to its own line; a comment line to the next line
        // that holds code.
        let target = if code_before {
            i + 1
        } else {
            lines
                .iter()
                .enumerate()
                .skip(i + 1)
                .find(|(_, l)| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with('#')
                })
                .map_or(i + 1, |(j, _)| j + 1)
        };
        out.push(AckComment {
            code,
            reason,
            line: i + 1,
            col,
            target,
        });
    }
    (out, errors)
}

/// Mark the findings acknowledged by comments in `source`; add an A010 finding for each
/// comment that cannot be read or matches no finding.
pub(crate) fn apply_comments(file: &str, source: &str, findings: &mut Vec<Finding>) {
    let (acks, errors) = comments(source);
    let mut used = vec![false; acks.len()];
    for f in findings.iter_mut() {
        for (k, a) in acks.iter().enumerate() {
            if a.code == f.code && a.target == f.line {
                f.acknowledged = Some(Acknowledged {
                    reason: a.reason.clone(),
                    by: AckSource::Comment,
                });
                if let Some(u) = used.get_mut(k) {
                    *u = true;
                }
            }
        }
    }
    let a010 = |line: usize, col: usize, message: String| Finding {
        code: LintCode::A010.as_str(),
        severity: Severity::Warning,
        message,
        cites: None,
        location: format!("{file}:{line}:{col}"),
        line,
        share: None,
        item: format!("acknowledgement line {line}"),
        acknowledged: None,
    };
    for e in errors {
        findings.push(a010(e.line, e.col, e.message));
    }
    for (a, u) in acks.iter().zip(used) {
        if !u {
            findings.push(a010(
                a.line,
                a.col,
                format!(
                    "`# regain: allow {}` acknowledges nothing: no {} finding on line {}",
                    a.code, a.code, a.target
                ),
            ));
        }
    }
}

/// A baseline: findings acknowledged by code and item.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// `regain.baseline/1`.
    pub schema: String,
    /// The acknowledged findings.
    pub findings: Vec<BaselineEntry>,
}

/// One acknowledged finding of a baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The finding's code.
    pub code: String,
    /// The finding's item (`path support`, `method sms_code`, `deny #2`, `policy`…).
    pub item: String,
    /// Why it is accepted.
    #[serde(default)]
    pub reason: String,
}

impl Baseline {
    /// The unacknowledged warnings of an analysis, as a baseline to accept them.
    pub fn of(findings: &[Finding]) -> Baseline {
        Baseline {
            schema: "regain.baseline/1".into(),
            findings: findings
                .iter()
                .filter(|f| f.acknowledged.is_none())
                .map(|f| BaselineEntry {
                    code: f.code.to_string(),
                    item: f.item.clone(),
                    reason: "accepted when the baseline was written".into(),
                })
                .collect(),
        }
    }

    /// Mark the findings this baseline acknowledges.
    pub fn apply(&self, findings: &mut [Finding]) {
        for f in findings.iter_mut().filter(|f| f.acknowledged.is_none()) {
            if let Some(e) = self
                .findings
                .iter()
                .find(|e| e.code == f.code && e.item == f.item)
            {
                f.acknowledged = Some(Acknowledged {
                    reason: e.reason.clone(),
                    by: AckSource::Baseline,
                });
            }
        }
    }
}

/// Whether any warning or error is left that is not acknowledged.
pub fn unacknowledged(findings: &[Finding]) -> bool {
    findings.iter().any(|f| {
        f.acknowledged.is_none() && matches!(f.severity, Severity::Warning | Severity::Error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_trailing_and_leading_comments() {
        let src = "policy p\n# regain: allow A006 \"card checked in person\"\n\n# another comment\npath x { steps m grants r }  # regain: allow L003 \"no channel\"\n";
        let (acks, errors) = comments(src);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(acks.len(), 2);
        assert_eq!((acks[0].code.as_str(), acks[0].target), ("A006", 5));
        assert_eq!(acks[0].reason, "card checked in person");
        assert_eq!((acks[1].code.as_str(), acks[1].target), ("L003", 5));
    }

    #[test]
    fn malformed_comments_are_errors_and_strings_are_not_comments() {
        let src = "# regain: alow A006 \"x\"\n# regain: allow A006\n# regain: allow ZZ \"x\"\ndeny \"# regain: allow A006 \\\"x\\\"\" when a\n";
        let (acks, errors) = comments(src);
        assert!(acks.is_empty());
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[1].message.contains("needs a reason"));
    }
}
