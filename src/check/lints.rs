//! Warnings about declarations nobody uses.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::Checker;
use crate::diagnostic::{Code, Diagnostic};

impl Checker {
    /// W0002 unused fact, W0003 unused method (a method named only in `notify` counts as used).
    pub(super) fn lint_unused(&mut self) {
        let mut found = Vec::new();
        for (i, f) in self.facts.iter().enumerate() {
            if !self.used_facts.get(i).copied().unwrap_or(true) {
                found.push(
                    Diagnostic::new(
                        Code::W0002,
                        f.span,
                        format!("fact `{}` is never used", f.name),
                        "declared but never tested",
                    )
                    .with_help("test it in a `requires`, `when` or `deny`, or remove it"),
                );
            }
        }
        for (i, m) in self.methods.iter().enumerate() {
            if !self.used_methods.get(i).copied().unwrap_or(true) {
                found.push(
                    Diagnostic::new(
                        Code::W0003,
                        m.span,
                        format!("method `{}` is never used", m.name),
                        "declared but in no path",
                    )
                    .with_help("use it in a path's `steps` or `notify`, or remove it"),
                );
            }
        }
        self.diags.extend(found);
    }
}
