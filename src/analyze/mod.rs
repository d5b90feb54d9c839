//! Analysis: where the policy strands people and where one stolen channel is enough.
//!
//! From the decision graph: the share of the profile space for each decision kind, every
//! region (a readable condition and its exact share), lockout regions first, dead items,
//! single points of compromise and lints citing NIST SP 800-63B-4 and OWASP. `diff`
//! compares two versions of a policy on the product of their graphs.

pub mod ack;
pub mod diff;
mod lints;
pub(crate) mod regions;

use serde::Serialize;

use crate::decision::{Decision, DecisionKind};
use crate::graph::Stats;
use crate::source::line_col;
use crate::{Diagnostic, Engine, Severity};
use regions::{Cube, View};

pub use lints::LintCode;

/// How many literals the conditions of all regions may hold together before the rest
/// are summarised (A009). A policy whose graph compiles stays far below it; it bounds the
/// memory of pathological inputs (a 35,000-fact conjunction has a quadratic disjoint
/// cover).
pub const LITERAL_BUDGET: usize = 8_000_000;

/// Kept for callers of the previous API: the cube budget is now a literal budget.
pub const CUBE_LIMIT: usize = LITERAL_BUDGET;

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

/// Shares among the profiles that are not denied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct NotDenied {
    /// Some path is available.
    pub allow: f64,
    /// No path is available.
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

/// A condition with its share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Condition {
    /// In the language's expression syntax (`true`, `false`, or `a or (b and c)`).
    pub condition: String,
    /// Its exact share (of the condition alone).
    pub share: f64,
}

/// Where a path is available and where it is offered first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathAnswer {
    /// The path is among the offered paths: share and an irredundant condition.
    pub available: Condition,
    /// The path is the first offered path.
    pub first: Condition,
}

/// Named entries in a fixed order, serialised as an object keyed by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyed<T>(pub Vec<(String, T)>);

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Keyed(Vec::new())
    }
}

impl<T: Serialize> Serialize for Keyed<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Per path, in declaration order (an object keyed by path name).
pub type PathAnswers = Keyed<PathAnswer>;

/// The lockout region as an irredundant cover.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Lockout {
    /// The exact lockout share.
    pub share: f64,
    /// Conditions whose union is exactly the lockout region (they may overlap); each
    /// share is of its own condition.
    pub conditions: Vec<Condition>,
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
    /// What it is about, stable across edits that move lines: `policy`, `path NAME`,
    /// `method NAME`, `path NAME method NAME`, `deny #N`, or the checker's code and line.
    pub item: String,
    /// Set when the finding was acknowledged in the policy or a baseline: it is listed
    /// but does not fail `--deny-warnings`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<ack::Acknowledged>,
}

/// Which measure shares are taken under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MeasureKind {
    /// Every fact value equally likely.
    Uniform,
    /// The population of a simulation model.
    Model,
}

/// Mixture parts: `(weight, per fact per class probability)`.
pub type Parts = Vec<(f64, Vec<Vec<f64>>)>;

/// A measure over the profile space: a mixture of product measures over the graph's
/// value classes (the uniform measure is one component).
#[derive(Clone, Debug)]
pub struct Measure {
    /// Uniform or model.
    pub kind: MeasureKind,
    /// `(weight, per fact per class probability)`; weights sum to 1.
    pub parts: Vec<(f64, Vec<Vec<f64>>)>,
    /// For a model with segments: per segment, its name and its own parts (weights
    /// summing to 1 within the segment).
    pub segments: Vec<(String, Parts)>,
}

/// The shares of one segment of a model's population.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SegmentShares {
    /// Shares per decision kind within the segment.
    pub shares: Shares,
    /// Allow and lockout among the segment's profiles that are not denied.
    pub not_denied: NotDenied,
}

/// Per segment, in model order (an object keyed by segment name).
pub type Segments = Keyed<SegmentShares>;

fn kind_shares(decisions: &[Decision], tshares: &[f64]) -> (Shares, NotDenied) {
    let mut shares = Shares::default();
    for (d, s) in decisions.iter().zip(tshares) {
        match d.kind() {
            DecisionKind::Allow => shares.allow += s,
            DecisionKind::Deny => shares.deny += s,
            DecisionKind::Lockout => shares.lockout += s,
        }
    }
    let live = shares.allow + shares.lockout;
    let not_denied = if live > 0.0 {
        NotDenied {
            allow: shares.allow / live,
            lockout: shares.lockout / live,
        }
    } else {
        NotDenied::default()
    };
    (shares, not_denied)
}

impl Measure {
    /// The uniform measure of an engine's profile space.
    pub fn uniform(engine: &Engine) -> Measure {
        Measure {
            kind: MeasureKind::Uniform,
            parts: vec![(1.0, view(engine).uniform())],
            segments: Vec::new(),
        }
    }
}

/// The whole analysis of one policy.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// `regain.analyze/1`.
    pub schema: &'static str,
    /// The policy's name.
    pub policy: String,
    /// `uniform` (every fact value equally likely) or `model` (a population model).
    pub measure: MeasureKind,
    /// Decision-graph size.
    pub graph: Stats,
    /// Shares per decision kind.
    pub shares: Shares,
    /// Allow and lockout among the profiles that are not denied.
    pub not_denied: NotDenied,
    /// Under a model with segments: the shares within each segment (`{}` otherwise).
    pub segments: Segments,
    /// The lockout region: exact share and an irredundant cover.
    pub lockout: Lockout,
    /// Per path: where it is available and where it is offered first.
    pub paths: PathAnswers,
    /// Regions: lockout first, then deny, then allow; largest first within each.
    pub regions: Vec<Region>,
    /// True only when the regions' conditions exceed [`LITERAL_BUDGET`] (see A009).
    pub truncated: bool,
    /// Lints, dead items, single points of compromise, sorted by severity then line.
    pub findings: Vec<Finding>,
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

/// A measure bound to a view: terminal shares and cube shares.
pub(crate) struct Measured<'a> {
    pub v: &'a View<'a>,
    pub parts: &'a [(f64, Vec<Vec<f64>>)],
}

impl Measured<'_> {
    pub fn terminal_shares(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.v.terminals];
        for (w, probs) in self.parts {
            for (o, s) in out.iter_mut().zip(self.v.terminal_shares_with(probs)) {
                *o += w * s;
            }
        }
        out
    }

    pub fn cube_share(&self, cube: &Cube) -> f64 {
        self.parts
            .iter()
            .map(|(w, probs)| w * self.v.cube_share_with(cube, probs))
            .sum()
    }

    /// An irredundant cover of the terminals in `target`, with shares.
    pub fn irredundant(&self, target: &dyn Fn(u32) -> bool) -> (Vec<Cube>, bool) {
        let ind = self.v.indicator(target);
        if ind.is_false() {
            return (Vec::new(), true);
        }
        let mut budget = LITERAL_BUDGET;
        let (cubes, complete) = match self.v.disjoint_cover(&ind, &mut budget) {
            Ok(c) => (c, true),
            Err((c, _)) => (c, false),
        };
        if !complete {
            return (cubes, false);
        }
        let share = |c: &Cube| self.cube_share(c);
        (self.v.irredundant(&ind, cubes, &share), true)
    }

    pub fn condition(&self, target: &dyn Fn(u32) -> bool, share: f64) -> Condition {
        let (cubes, _) = self.irredundant(target);
        Condition {
            condition: self.v.render_any(&cubes),
            share,
        }
    }
}

/// Per path: the share of the profile space for which it is offered, and offered first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct PathShare {
    /// The path is among the offered paths of the decision.
    pub available: f64,
    /// The path is the first offered path.
    pub first: f64,
}

/// The paths view of an engine's policy, each path annotated with its exact shares
/// (what `graph --view paths`, the HTTP service and the reports draw).
pub fn paths_view(engine: &Engine) -> crate::graph::paths::PathsView {
    let shares: Vec<crate::graph::paths::Share> = path_shares(engine)
        .into_iter()
        .map(|s| crate::graph::paths::Share {
            available: s.available,
            first: s.first,
        })
        .collect();
    let policy = engine.policy();
    crate::graph::paths::PathsView::new(policy.ir(), policy.source(), Some(&shares))
}

/// Exact per-path shares (uniform measure), indexed like the policy's paths.
pub fn path_shares(engine: &Engine) -> Vec<PathShare> {
    let tshares = view(engine).terminal_shares();
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

/// The shares of allow, deny and lockout over the profile space (uniform measure), as
/// [`Analysis::shares`] gives them, without computing regions: cheap enough for an
/// editor's code lens after every successful check.
pub fn decision_shares(engine: &Engine) -> Shares {
    let tshares = view(engine).terminal_shares();
    let mut shares = Shares::default();
    for (d, s) in engine.graph().decisions().iter().zip(tshares) {
        match d.kind() {
            DecisionKind::Allow => shares.allow += s,
            DecisionKind::Deny => shares.deny += s,
            DecisionKind::Lockout => shares.lockout += s,
        }
    }
    shares
}

/// Analyse a compiled policy under the uniform measure.
pub fn analyze(engine: &Engine) -> Analysis {
    analyze_with(engine, &Measure::uniform(engine))
}

/// Analyse a compiled policy under a measure (uniform, or a model's population).
pub fn analyze_with(engine: &Engine, measure: &Measure) -> Analysis {
    crate::stack::run_big(|| analyze_inner(engine, measure))
}

fn analyze_inner(engine: &Engine, measure: &Measure) -> Analysis {
    let v = view(engine);
    let m = Measured {
        v: &v,
        parts: &measure.parts,
    };
    let decisions = engine.graph().decisions();
    let tshares = m.terminal_shares();
    let share_of = |target: &dyn Fn(&Decision) -> bool| -> f64 {
        decisions
            .iter()
            .zip(&tshares)
            .filter(|(d, _)| target(d))
            .map(|(_, s)| s)
            .sum()
    };
    let mut shares = Shares::default();
    let mut groups: std::collections::BTreeMap<Key, Vec<u32>> = Default::default();
    for (t, d) in decisions.iter().enumerate() {
        let s = tshares.get(t).copied().unwrap_or(0.0);
        match d.kind() {
            DecisionKind::Allow => shares.allow += s,
            DecisionKind::Deny => shares.deny += s,
            DecisionKind::Lockout => shares.lockout += s,
        }
        groups.entry(key_of(d)).or_default().push(t as u32);
    }
    let live = shares.allow + shares.lockout;
    let not_denied = if live > 0.0 {
        NotDenied {
            allow: shares.allow / live,
            lockout: shares.lockout / live,
        }
    } else {
        NotDenied::default()
    };
    let (regions, truncated) = regions_for(&m, groups);

    // Lockout: an irredundant cover, each condition with its own share.
    let is_lockout = |t: u32| {
        decisions
            .get(t as usize)
            .is_some_and(|d| d.kind() == DecisionKind::Lockout)
    };
    let (cubes, _) = m.irredundant(&is_lockout);
    let lockout = Lockout {
        share: shares.lockout,
        conditions: cubes
            .iter()
            .map(|c| Condition {
                condition: v.render(c),
                share: m.cube_share(c),
            })
            .collect(),
    };

    // Per path: available and first.
    let ir = engine.policy().ir();
    let mut paths = PathAnswers::default();
    for (pi, p) in ir.paths.iter().enumerate() {
        let offers = |d: &Decision| d.paths().iter().any(|o| o.path_index() == pi);
        let first = |d: &Decision| d.paths().first().is_some_and(|o| o.path_index() == pi);
        let available = m.condition(
            &|t: u32| decisions.get(t as usize).is_some_and(offers),
            share_of(&offers),
        );
        let first = m.condition(
            &|t: u32| decisions.get(t as usize).is_some_and(first),
            share_of(&first),
        );
        paths
            .0
            .push((p.name.clone(), PathAnswer { available, first }));
    }

    let mut findings = lints::findings(engine, &v, &tshares, &shares);
    if truncated {
        findings.push(Finding {
            code: LintCode::A009.as_str(),
            severity: Severity::Warning,
            message: format!(
                "the regions' conditions need more than {LITERAL_BUDGET} literals; the regions listed cover part of each decision, shares, paths and lockout are exact"
            ),
            cites: None,
            location: format!("{}:1:1", engine.policy().name()),
            line: 1,
            share: None,
            item: "policy".into(),
            acknowledged: None,
        });
    }
    ack::apply_comments(
        engine.policy().name(),
        engine.policy().source(),
        &mut findings,
    );
    findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.line.cmp(&b.line))
            .then(a.code.cmp(b.code))
    });
    Analysis {
        schema: "regain.analyze/1",
        policy: ir.name.clone(),
        measure: measure.kind,
        graph: engine.graph().stats(),
        shares,
        not_denied,
        segments: Keyed(
            measure
                .segments
                .iter()
                .map(|(name, parts)| {
                    let m = Measured { v: &v, parts };
                    let (shares, not_denied) = kind_shares(decisions, &m.terminal_shares());
                    (name.clone(), SegmentShares { shares, not_denied })
                })
                .collect(),
        ),
        lockout,
        paths,
        regions,
        truncated,
        findings,
    }
}

pub(crate) fn key_of(d: &Decision) -> Key {
    Key {
        kind_rank: kind_rank(d.kind()),
        paths: d.path_names().iter().map(|s| s.to_string()).collect(),
        denied_by: d.denied_by().to_vec(),
    }
}

/// Regions for groups of terminals: a compact disjoint cover per group, within the
/// literal budget; sorted lockout, deny, allow, largest first within each kind.
pub(crate) fn regions_for(
    m: &Measured<'_>,
    groups: std::collections::BTreeMap<Key, Vec<u32>>,
) -> (Vec<Region>, bool) {
    let mut budget = LITERAL_BUDGET;
    let mut truncated = false;
    let mut out: Vec<(u8, Region)> = Vec::new();
    // Groups in order of kind, so that lockout and deny are written first when the
    // budget runs out.
    let mut ordered: Vec<(Key, Vec<u32>)> = groups.into_iter().collect();
    ordered.sort_by_key(|a| a.0.kind_rank);
    for (key, terms) in ordered {
        if budget == 0 {
            truncated = true;
            break;
        }
        let target = |t: u32| terms.binary_search(&t).is_ok();
        let ind = m.v.indicator(&target);
        let cubes = match m.v.disjoint_cover(&ind, &mut budget) {
            Ok(c) => c,
            Err((c, _)) => {
                truncated = true;
                c
            }
        };
        for c in &cubes {
            out.push((
                key.kind_rank,
                Region {
                    decision: kind_of_rank(key.kind_rank),
                    paths: key.paths.clone(),
                    denied_by: key.denied_by.clone(),
                    condition: m.v.render(c),
                    share: m.cube_share(c),
                },
            ));
        }
    }
    out.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(
                b.1.share
                    .partial_cmp(&a.1.share)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then_with(|| a.1.condition.cmp(&b.1.condition))
    });
    (out.into_iter().map(|(_, r)| r).collect(), truncated)
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
        item: format!("{code}: {}", d.message),
        location,
        line,
        share: None,
        acknowledged: None,
    }
}

#[cfg(test)]
mod decision_shares_tests {
    use super::*;

    #[test]
    fn decision_shares_match_the_full_analysis() {
        let src = "policy p
facts { a: bool  n: int 0..3  r: low | high }
methods { m: knowledge requires a  k: human requires n >= 2 }
deny \"risky\" when r == high and not a
path one { steps m grants x }
path two { steps k grants x }";
        let policy = crate::Policy::parse(src).unwrap();
        let engine = Engine::new(&policy).unwrap();
        let quick = decision_shares(&engine);
        let full = analyze(&engine).shares;
        assert!((quick.allow - full.allow).abs() < 1e-12);
        assert!((quick.deny - full.deny).abs() < 1e-12);
        assert!((quick.lockout - full.lockout).abs() < 1e-12);
        // deny: r == high and not a = 1/2 * 1/2; lockout: not a and n < 2 and r == low.
        assert!((quick.deny - 0.25).abs() < 1e-12);
        assert!((quick.lockout - 0.125).abs() < 1e-12);
    }
}
