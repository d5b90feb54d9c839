//! Decisions: what the policy says for one profile.

use serde::Serialize;

use crate::check::ir::{Ir, PathId};

/// The three kinds of decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    /// At least one path is available.
    Allow,
    /// A deny rule matched.
    Deny,
    /// No deny rule matched, and no path is available: the person cannot get back in.
    Lockout,
}

impl DecisionKind {
    /// `allow`, `deny` or `lockout`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allow => "allow",
            DecisionKind::Deny => "deny",
            DecisionKind::Lockout => "lockout",
        }
    }
}

/// One available path, with the methods the person can use at each step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Offer {
    #[serde(skip)]
    pub(crate) id: u32,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) title: Option<String>,
    pub(crate) steps: Vec<Vec<String>>,
    pub(crate) grants: String,
    pub(crate) wait_s: u64,
    pub(crate) notify: Vec<String>,
}

impl Offer {
    /// The path's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The path's index in the policy (declaration order).
    pub fn path_index(&self) -> usize {
        self.id as usize
    }
    /// The path's title, if it has one.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    /// Per step, the methods the person can use (every usable one, in listed order).
    pub fn steps(&self) -> &[Vec<String>] {
        &self.steps
    }
    /// What completing the path grants.
    pub fn grants(&self) -> &str {
        &self.grants
    }
    /// The waiting period in seconds (0 when none).
    pub fn wait_s(&self) -> u64 {
        self.wait_s
    }
    /// Methods whose channels are notified.
    pub fn notify(&self) -> &[String] {
        &self.notify
    }
}

/// The decision for one profile.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Decision {
    #[serde(rename = "decision")]
    pub(crate) kind: DecisionKind,
    pub(crate) paths: Vec<Offer>,
    pub(crate) denied_by: Vec<String>,
}

impl Decision {
    /// Allow, deny or lockout.
    pub fn kind(&self) -> DecisionKind {
        self.kind
    }
    /// The available paths, in declaration (preference) order; empty unless allow.
    pub fn paths(&self) -> &[Offer] {
        &self.paths
    }
    /// The reasons of every matching deny rule, in declaration order; empty unless deny.
    pub fn denied_by(&self) -> &[String] {
        &self.denied_by
    }
    /// The names of the available paths.
    pub fn path_names(&self) -> Vec<&str> {
        self.paths.iter().map(|p| p.name.as_str()).collect()
    }

    /// The decision returned for a profile that does not belong to the engine: deny,
    /// so that a misuse fails closed.
    pub(crate) fn fail_closed() -> Decision {
        Decision {
            kind: DecisionKind::Deny,
            paths: Vec::new(),
            denied_by: vec!["profile does not belong to this policy (failing closed)".into()],
        }
    }

    /// Assemble the decision from the truth of each deny rule, each path's `when` and
    /// each method's `requires` (DESIGN.md "Meaning").
    pub(crate) fn assemble(
        ir: &Ir,
        deny: impl Fn(usize) -> bool,
        when: impl Fn(usize) -> bool,
        usable: impl Fn(usize) -> bool,
    ) -> Decision {
        let denied_by: Vec<String> = ir
            .denies
            .iter()
            .enumerate()
            .filter(|(i, _)| deny(*i))
            .map(|(_, d)| d.reason.clone())
            .collect();
        if !denied_by.is_empty() {
            return Decision {
                kind: DecisionKind::Deny,
                paths: Vec::new(),
                denied_by,
            };
        }
        let mut paths = Vec::new();
        'paths: for (pi, p) in ir.paths.iter().enumerate() {
            if !when(pi) {
                continue;
            }
            let mut steps = Vec::with_capacity(p.steps.len());
            for step in &p.steps {
                let ok: Vec<String> = step
                    .methods()
                    .iter()
                    .filter(|m| usable(m.index()))
                    .map(|m| ir.methods[m.index()].name.clone())
                    .collect();
                if ok.len() < step.needed() {
                    continue 'paths;
                }
                steps.push(ok);
            }
            paths.push(Offer {
                id: PathId(pi as u32).0,
                name: p.name.clone(),
                title: p.title.clone(),
                steps,
                grants: p.grants.clone(),
                wait_s: p.wait_s,
                notify: p
                    .notify
                    .iter()
                    .map(|m| ir.methods[m.index()].name.clone())
                    .collect(),
            });
        }
        let kind = if paths.is_empty() {
            DecisionKind::Lockout
        } else {
            DecisionKind::Allow
        };
        Decision {
            kind,
            paths,
            denied_by: Vec::new(),
        }
    }
}
