//! Analysis: where the policy strands people and where one stolen channel is enough.
//!
//! From the decision graph: the share of the profile space for each decision kind, every
//! region (a readable condition and its exact share), lockout regions first, dead items,
//! single points of compromise and lints citing NIST SP 800-63B-4 and OWASP. `diff`
//! compares two versions of a policy on the product of their graphs.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod diff;
mod lints;
pub(crate) mod regions;

use serde::Serialize;

use crate::decision::DecisionKind;
use crate::graph::Stats;
use crate::source::line_col;
use crate::{Diagnostic, Engine, Severity};
use regions::View;

pub use lints::LintCode;

/// How many cubes the analysis writes out before it summarises the rest.
pub const CUBE_LIMIT: usize = 20_000;

/// Shares of the profile space per decision kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Shares {
    /// Some path is available.
    pub allow: f64,
    /// A deny rule fires.
    pub deny: f64,
    /// No deny rule fires and no path is available.
    pub lockout: f64,
}

/// One region: profiles with the same decision (kind, paths by name, deny reasons)
/// that one readable condition describes.
#[derive(Clone, Debug, Serialize)]
pub struct Region {
    /// allow, deny or lockout.
    pub decision: DecisionKind,
    /// Names of the available paths, in order.
    pub paths: Vec<String>,
    /// Deny reasons.
    pub denied_by: Vec<String>,
    /// The condition, in the language's own expression syntax.
    pub condition: String,
    /// Its exact share of the profile space.
    pub share: f64,
}

/// A finding: a lint, a dead item, a single point of compromise.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Stable code (`A001`…).
    pub code: &'static str,
    /// error / warning.
    pub severity: Severity,
    /// What was found.
    pub message: String,
    /// The standard or study it follows, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cites: Option<&'static str>,
    /// `file:line:col` of the item concerned.
    pub location: String,
    /// 1-based line.
    pub line: usize,
    /// Share of the profile space concerned, when it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
}

/// The whole analysis of one policy.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// The policy's name.
    pub policy: String,
    /// Decision-graph size.
    pub graph: Stats,
    /// Shares per decision kind.
    pub shares: Shares,
    /// Regions: lockout first, then deny, then allow; largest first within each.
    pub regions: Vec<Region>,
    /// True when some regions were too fragmented to write out (see findings).
    pub truncated: bool,
    /// Lints, dead items, single points of compromise, sorted by severity then line.
    pub findings: Vec<Finding>,
}

/// Per path: the share of the profile space for which it is offered, and offered first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PathShare {
    /// The path is among the offered paths of the decision.
    pub available: f64,
    /// The path is the first offered path.
    pub first: f64,
}

/// Exact per-path shares, indexed like the policy's paths (declaration order).
pub fn path_shares(engine: &Engine) -> Vec<PathShare> {
    let v = view(engine);
    let tshares = v.terminal_shares();
    let mut out = vec![PathShare::default(); engine.policy().ir().paths.len()];
    for (d, s) in engine.graph().decisions().iter().zip(tshares) {
        for (i, offer) in d.paths().iter().enumerate() {
            if let Some(p) = out.get_mut(offer.path_index()) {
                p.available += s;
                if i == 0 {
                    p.first += s;
                }
            }
        }
    }
    out
}

/// A group of terminals with the same decision as regions show it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Key {
    pub kind_rank: u8,
    pub paths: Vec<String>,
    pub denied_by: Vec<String>,
}

pub(crate) fn kind_rank(k: DecisionKind) -> u8 {
    match k {
        DecisionKind::Lockout => 0,
        DecisionKind::Deny => 1,
        DecisionKind::Allow => 2,
    }
}

pub(crate) fn kind_of_rank(r: u8) -> DecisionKind {
    match r {
        0 => DecisionKind::Lockout,
        1 => DecisionKind::Deny,
        _ => DecisionKind::Allow,
    }
}

pub(crate) fn view(engine: &Engine) -> View<'_> {
    let c = &engine.graph().c;
    View {
        nodes: &c.nodes,
        kids: &c.kids,
        classes: &c.classes,
        facts: &engine.policy().ir().facts,
        root: c.root,
        terminals: c.decisions.len(),
    }
}

/// Analyse a compiled policy.
pub fn analyze(engine: &Engine) -> Analysis {
    let v = view(engine);
    let decisions = engine.graph().decisions();
    let tshares = v.terminal_shares();
    let mut shares = Shares::default();
    let mut groups: std::collections::BTreeMap<Key, (Vec<u32>, f64)> = Default::default();
    for (t, d) in decisions.iter().enumerate() {
        let s = tshares[t];
        match d.kind() {
            DecisionKind::Allow => shares.allow += s,
            DecisionKind::Deny => shares.deny += s,
            DecisionKind::Lockout => shares.lockout += s,
        }
        let key = Key {
            kind_rank: kind_rank(d.kind()),
            paths: d.path_names().iter().map(|s| s.to_string()).collect(),
            denied_by: d.denied_by().to_vec(),
        };
        let e = groups.entry(key).or_default();
        e.0.push(t as u32);
        e.1 += s;
    }
    let mut keys: Vec<(Key, Vec<u32>, f64)> =
        groups.into_iter().map(|(k, (ts, s))| (k, ts, s)).collect();
    keys.sort_by(|a, b| {
        a.0.kind_rank
            .cmp(&b.0.kind_rank)
            .then(b.2.partial_cmp(&a.2).unwrap_or(std::cmp::Ordering::Equal))
            .then(a.0.cmp(&b.0))
    });
    let (regions, truncated) = regions_for(&v, &keys);
    let mut findings = lints::findings(engine, &v, &tshares, &shares);
    if truncated {
        findings.push(Finding {
            code: LintCode::A009.as_str(),
            severity: Severity::Warning,
            message: format!(
                "the decision graph has too many regions to write out; conditions are listed for the first {CUBE_LIMIT} cubes (lockout first), shares are exact for all"
            ),
            cites: None,
            location: format!("{}:1:1", engine.policy().name()),
            line: 1,
            share: None,
        });
    }
    findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.line.cmp(&b.line))
            .then(a.code.cmp(b.code))
    });
    Analysis {
        policy: engine.policy().ir().name.clone(),
        graph: engine.graph().stats(),
        shares,
        regions,
        truncated,
        findings,
    }
}

/// Regions for groups of terminals (sorted lockout, deny, allow), within the cube
/// budget: one walk per decision kind, so the work follows the output, not the number
/// of groups.
pub(crate) fn regions_for(v: &View<'_>, keys: &[(Key, Vec<u32>, f64)]) -> (Vec<Region>, bool) {
    let mut group_of: std::collections::HashMap<u32, usize> = Default::default();
    for (g, (_, terms, _)) in keys.iter().enumerate() {
        for t in terms {
            group_of.insert(*t, g);
        }
    }
    let mut per_group: Vec<Vec<regions::Cube>> = vec![Vec::new(); keys.len()];
    let mut budget = CUBE_LIMIT;
    let mut truncated = false;
    for rank in 0..3u8 {
        let target = |t: u32| {
            group_of
                .get(&t)
                .is_some_and(|g| keys[*g].0.kind_rank == rank)
        };
        let (cubes, complete) = v.cubes_upto(&target, budget);
        if !complete {
            truncated = true;
        }
        budget -= cubes.len();
        for (t, c) in cubes {
            if let Some(g) = group_of.get(&t) {
                per_group[*g].push(c);
            }
        }
    }
    let mut out = Vec::new();
    for ((key, _, _), mut cubes) in keys.iter().zip(per_group) {
        regions::merge_cubes(&mut cubes);
        let mut rs: Vec<(f64, String)> = cubes
            .iter()
            .map(|c| (v.cube_share(c), v.render(c)))
            .collect();
        rs.sort_by(|a, b| {
            b.0.partial_cmp(&a.0)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.1.cmp(&b.1))
        });
        for (share, condition) in rs {
            out.push(Region {
                decision: kind_of_rank(key.kind_rank),
                paths: key.paths.clone(),
                denied_by: key.denied_by.clone(),
                condition,
                share,
            });
        }
    }
    (out, truncated)
}

/// `file:line:col` and line of a span in the engine's policy.
pub(crate) fn locate(engine: &Engine, span: crate::source::Span) -> (String, usize) {
    let lc = line_col(engine.policy().source(), span.start);
    (format!("{}:{}", engine.policy().name(), lc), lc.line)
}

/// Findings from the checker's warnings, so `analyze` shows everything in one list.
pub(crate) fn from_diagnostic(engine: &Engine, d: &Diagnostic) -> Finding {
    let (location, line) = locate(engine, d.span);
    let code: &'static str = d.code.as_str();
    Finding {
        code,
        severity: d.severity(),
        message: d.message.clone(),
        cites: None,
        location,
        line,
        share: None,
    }
}
