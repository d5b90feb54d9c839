//! What a suite run reached, by typed index: paths offered (`PathId`), deny rules whose
//! condition held (`DenyId`, so two rules with one reason count apart), and graph
//! terminals; for unreached terminals, a case to paste.

use std::collections::HashSet;

use super::generate::{case_yaml, sample, unique, Groups};
use super::{denies_holding, CaseResult, Suite};
use crate::check::ir::{DenyId, FactId, PathId};
use crate::decision::Decision;

/// What a suite run reached.
#[derive(Clone, Debug)]
pub struct Coverage {
    /// Paths offered in some case / all paths.
    pub paths: (usize, usize),
    /// Deny rules that held in some case / all rules.
    pub denies: (usize, usize),
    /// Graph terminals reached / all terminals.
    pub terminals: (usize, usize),
    /// Percentage of terminals reached (100 for a graph without terminals).
    pub terminal_pct: f64,
    /// Paths never offered, in declaration order.
    pub missed_paths: Vec<PathId>,
    /// Deny rules that never held, in declaration order.
    pub missed_denies: Vec<DenyId>,
    /// How many terminals no case reached.
    pub unreached: usize,
    /// The largest unreached terminals (by share of the profile space), at most the
    /// `top` asked for, each with a case that reaches it.
    pub missed: Vec<MissedTerminal>,
}

/// An unreached terminal and how to reach it.
#[derive(Clone, Debug)]
pub struct MissedTerminal {
    /// The terminal's index in the graph.
    pub terminal: usize,
    /// Its decision.
    pub decision: Decision,
    /// Its share of the (uniform) profile space.
    pub share: f64,
    /// A condition that reaches it, in the language's syntax.
    pub condition: Option<String>,
    /// A profile that reaches it, as the facts that differ from the suite's base (or
    /// the facts' defaults): paste it into a case.
    pub profile: Option<Vec<(FactId, i64)>>,
    /// A whole case (name, profile, expect) as YAML, to paste under `cases:`.
    pub case: Option<String>,
    /// A terminal with the same decision name that differs only in usable methods
    /// (or in which deny rules with the same reasons hold).
    pub sibling: Option<Sibling>,
}

/// A terminal that differs from a missed one only in usable methods or deny rules.
#[derive(Clone, Debug)]
pub struct Sibling {
    /// The other terminal.
    pub terminal: usize,
    /// The first case that reached it, if any did.
    pub reached_by: Option<String>,
    /// How the two differ.
    pub diff: SiblingDiff,
}

/// How two terminals with the same decision name differ.
#[derive(Clone, Debug)]
pub enum SiblingDiff {
    /// The same paths, with other usable methods in these steps.
    Methods(Vec<StepDiff>),
    /// The same reasons, from other deny rules.
    DenyRules {
        /// Rules holding for the missed terminal.
        here: Vec<DenyId>,
        /// Rules holding for the other one.
        there: Vec<DenyId>,
    },
}

/// One step whose usable methods differ between two terminals.
#[derive(Clone, Debug)]
pub struct StepDiff {
    /// The path.
    pub path: PathId,
    /// The step (0-based).
    pub step: usize,
    /// Usable methods for the missed terminal.
    pub here: Vec<String>,
    /// Usable methods for the other terminal.
    pub there: Vec<String>,
}

fn methods_diff(a: &Decision, b: &Decision) -> Vec<StepDiff> {
    let mut out = Vec::new();
    for o in a.paths() {
        let Some(x) = b.paths().iter().find(|x| x.path_index() == o.path_index()) else {
            continue;
        };
        let Ok(pid) = u32::try_from(o.path_index()) else {
            continue;
        };
        for (i, (s, t)) in o.steps().iter().zip(x.steps()).enumerate() {
            if s != t {
                out.push(StepDiff {
                    path: PathId(pid),
                    step: i,
                    here: s.clone(),
                    there: t.clone(),
                });
            }
        }
    }
    out
}

/// Coverage of `results` (a run of `suite`) over the suite's decision graph; at most
/// `top` unreached terminals are described (the largest first).
pub fn coverage(suite: &Suite, results: &[CaseResult], top: usize) -> Coverage {
    let engine = &suite.engine;
    let ir = engine.policy().ir();
    let decisions = engine.graph().decisions();
    // The first case that reached each terminal.
    let mut reached_by: Vec<Option<&str>> = vec![None; decisions.len()];
    let mut offered = vec![false; ir.paths.len()];
    let mut fired = vec![false; ir.denies.len()];
    for r in results {
        if let Some(slot) = r.terminal.and_then(|t| reached_by.get_mut(t)) {
            slot.get_or_insert(r.name.as_str());
        }
        for o in r.actual.paths() {
            if let Some(x) = offered.get_mut(o.path_index()) {
                *x = true;
            }
        }
        for d in &r.denies {
            if let Some(x) = fired.get_mut(d.index()) {
                *x = true;
            }
        }
    }
    let missed_paths: Vec<PathId> = offered
        .iter()
        .enumerate()
        .filter(|(_, o)| !**o)
        .filter_map(|(i, _)| u32::try_from(i).ok().map(PathId))
        .collect();
    let missed_denies: Vec<DenyId> = fired
        .iter()
        .enumerate()
        .filter(|(_, f)| !**f)
        .filter_map(|(i, _)| u32::try_from(i).ok().map(DenyId))
        .collect();
    let n = reached_by.iter().filter(|r| r.is_some()).count();
    let v = crate::analyze::view(engine);
    let shares = v.terminal_shares();
    let mut unreached: Vec<usize> = (0..decisions.len())
        .filter(|t| reached_by.get(*t).is_some_and(Option::is_none))
        .collect();
    unreached.sort_by(|a, b| {
        let sa = shares.get(*a).copied().unwrap_or(0.0);
        let sb = shares.get(*b).copied().unwrap_or(0.0);
        sb.total_cmp(&sa).then(a.cmp(b))
    });
    let groups = Groups::new(decisions);
    let fill = suite.fill();
    let mut taken: HashSet<String> = suite.cases.iter().map(|c| c.name.clone()).collect();
    let missed = unreached
        .iter()
        .take(top)
        .filter_map(|&t| {
            let decision = decisions.get(t)?.clone();
            let s = sample(engine, &v, t, &fill);
            let here = s
                .as_ref()
                .map(|s| denies_holding(ir, &s.values))
                .unwrap_or_default();
            let sibs = groups.siblings(t);
            let sib = sibs
                .iter()
                .copied()
                .find(|u| reached_by.get(*u).is_some_and(Option::is_some))
                .or_else(|| sibs.first().copied());
            let sibling = sib.and_then(|u| {
                let other = decisions.get(u)?;
                let by = reached_by.get(u).copied().flatten();
                let diff = if decision.kind() == crate::decision::DecisionKind::Deny {
                    let there = match by.and_then(|name| results.iter().find(|r| r.name == name)) {
                        Some(r) => r.denies.clone(),
                        None => sample(engine, &v, u, &fill)
                            .map(|s| denies_holding(ir, &s.values))
                            .unwrap_or_default(),
                    };
                    SiblingDiff::DenyRules {
                        here: here.clone(),
                        there,
                    }
                } else {
                    SiblingDiff::Methods(methods_diff(&decision, other))
                };
                Some(Sibling {
                    terminal: u,
                    reached_by: by.map(str::to_string),
                    diff,
                })
            });
            let (condition, profile, case) = match &s {
                Some(s) => {
                    let profile = suite.case_profile(&s.values);
                    let name = unique(groups.name(engine, t, &here), &mut taken);
                    let case = case_yaml(ir, &name, &profile, &decision, &groups.pinned(t));
                    (Some(v.render(&s.cube)), Some(profile), Some(case))
                }
                None => (None, None, None),
            };
            Some(MissedTerminal {
                terminal: t,
                decision,
                share: shares.get(t).copied().unwrap_or(0.0),
                condition,
                profile,
                case,
                sibling,
            })
        })
        .collect();
    Coverage {
        paths: (ir.paths.len() - missed_paths.len(), ir.paths.len()),
        denies: (ir.denies.len() - missed_denies.len(), ir.denies.len()),
        terminals: (n, decisions.len()),
        terminal_pct: if decisions.is_empty() {
            100.0
        } else {
            100.0 * n as f64 / decisions.len() as f64
        },
        missed_paths,
        missed_denies,
        unreached: unreached.len(),
        missed,
    }
}
