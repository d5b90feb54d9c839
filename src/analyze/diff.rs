//! `diff`: where two versions of a policy decide differently, computed on the product of
//! their decision graphs (compiled over shared facts, classes and order), not by sampling.
//!
//! Two decisions differ when anything a caller acts on differs (DESIGN.md "Analysis
//! output"): the kind, the offered paths and their order, each path's usable methods per
//! step, `grants`, `wait_s`, `notify`, or the deny reasons; titles never count. Beside the
//! regions, [`Change`]s list what changed in the policy text itself (a method's factor or
//! `restricted`, a fact's domain or default, titles…) even where no decision moves, and
//! [`Summary`] puts first what a reviewer must see.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::regions::{Cube, View};
use super::{kind_rank, Condition, LITERAL_BUDGET};
use crate::check::ir::{Cond, Fact, FactId, FactMap, FactType, Ir, Step};
use crate::decision::{Decision, DecisionKind, Offer};
use crate::graph::classes::{self, Classes};
use crate::graph::compile::{self, CompileError, CompileOptions, FlatNode, TERMINAL};
use crate::source::line_col;
use crate::Policy;

/// One side of a differing region: the decision as `regain eval --format json` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    /// allow, deny or lockout.
    pub decision: DecisionKind,
    /// The offered paths, in order, as full path objects.
    pub paths: Vec<Offer>,
    /// Deny reasons.
    pub denied_by: Vec<String>,
}

impl Side {
    fn of(d: &Decision) -> Side {
        Side {
            decision: d.kind(),
            paths: d.paths().iter().map(|o| (**o).clone()).collect(),
            denied_by: d.denied_by().to_vec(),
        }
    }

    /// The names of the offered paths.
    pub fn path_names(&self) -> Vec<&str> {
        self.paths.iter().map(|p| p.name()).collect()
    }
}

/// A kind of change between two decisions, for grouping regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Profiles that had a way in now have none.
    LockoutGained,
    /// Profiles that were denied are now decided otherwise, or the reverse.
    DenyChanged,
    /// A path is no longer offered.
    PathLost,
    /// A path is newly offered.
    PathGained,
    /// The same paths in another order (another path is offered first).
    OrderChanged,
    /// A path's waiting period changed.
    WaitChanged,
    /// What a path grants changed.
    GrantsChanged,
    /// Whom a path notifies changed.
    NotifyChanged,
    /// The usable methods of a path's steps changed.
    StepsChanged,
    /// Profiles that were locked out now have a way in.
    LockoutLost,
}

impl ChangeKind {
    /// A short label: `lockout gained`, `wait changed`, …
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::LockoutGained => "lockout gained",
            ChangeKind::DenyChanged => "deny changed",
            ChangeKind::PathLost => "path lost",
            ChangeKind::PathGained => "path gained",
            ChangeKind::OrderChanged => "order changed",
            ChangeKind::WaitChanged => "wait changed",
            ChangeKind::GrantsChanged => "grants changed",
            ChangeKind::NotifyChanged => "notify changed",
            ChangeKind::StepsChanged => "steps changed",
            ChangeKind::LockoutLost => "lockout lost",
        }
    }
}

/// What differs between two decisions, kinds in order of gravity.
pub fn classify(old: &Side, new: &Side) -> Vec<ChangeKind> {
    use DecisionKind::*;
    let mut out = Vec::new();
    match (old.decision, new.decision) {
        (a, Lockout) if a != Lockout => out.push(ChangeKind::LockoutGained),
        (Lockout, b) if b != Lockout => out.push(ChangeKind::LockoutLost),
        _ => {}
    }
    if (old.decision == Deny || new.decision == Deny) && old.denied_by != new.denied_by {
        out.push(ChangeKind::DenyChanged);
    }
    let on: Vec<&str> = old.path_names();
    let nn: Vec<&str> = new.path_names();
    if on.iter().any(|p| !nn.contains(p)) {
        out.push(ChangeKind::PathLost);
    }
    if nn.iter().any(|p| !on.contains(p)) {
        out.push(ChangeKind::PathGained);
    }
    let common_old: Vec<&&str> = on.iter().filter(|p| nn.contains(p)).collect();
    let common_new: Vec<&&str> = nn.iter().filter(|p| on.contains(p)).collect();
    if common_old != common_new {
        out.push(ChangeKind::OrderChanged);
    }
    for o in &old.paths {
        let Some(n) = new.paths.iter().find(|n| n.name() == o.name()) else {
            continue;
        };
        let mut push = |k: ChangeKind| {
            if !out.contains(&k) {
                out.push(k);
            }
        };
        if o.wait_s() != n.wait_s() {
            push(ChangeKind::WaitChanged);
        }
        if o.grants() != n.grants() {
            push(ChangeKind::GrantsChanged);
        }
        if o.notify() != n.notify() {
            push(ChangeKind::NotifyChanged);
        }
        if o.steps() != n.steps() {
            push(ChangeKind::StepsChanged);
        }
    }
    out.sort();
    out
}

/// A region of profiles decided differently.
#[derive(Clone, Debug, Serialize)]
pub struct DiffRegion {
    /// The condition, in the language's own syntax.
    pub condition: String,
    /// Its share of the space of all facts of both versions.
    pub share: f64,
    /// The old decision.
    pub old: Side,
    /// The new decision.
    pub new: Side,
    /// What differs, in order of gravity.
    pub kinds: Vec<ChangeKind>,
}

/// A share before and after.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct OldNew {
    /// In the old version.
    pub old: f64,
    /// In the new version.
    pub new: f64,
}

/// The lockout share before and after, and where the new version newly locks out.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LockoutChange {
    /// In the old version.
    pub old: f64,
    /// In the new version.
    pub new: f64,
    /// Profiles locked out by the new version that were not before: an irredundant
    /// cover, each condition with its own share.
    pub newly_locked_out: Vec<Condition>,
}

/// A path's availability before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathChange {
    /// The path's name.
    pub name: String,
    /// Share of profiles for which it is offered, in each version (0 where absent).
    pub available: OldNew,
    /// Share for which it is offered first.
    pub first: OldNew,
}

/// Regions grouped by kind of change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChangeGroup {
    /// The kind of change.
    pub kind: ChangeKind,
    /// Share of profiles with a change of this kind.
    pub share: f64,
    /// How many regions have it.
    pub regions: usize,
    /// Where: an irredundant condition covering exactly the profiles with this change.
    pub condition: String,
}

/// What a reviewer must see first.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Share of profiles decided differently.
    pub differing: f64,
    /// Lockout old → new, and the conditions newly locked out.
    pub lockout: LockoutChange,
    /// Deny share old → new.
    pub deny: OldNew,
    /// Per path (old paths in order, then new ones), availability old → new.
    pub paths: Vec<PathChange>,
    /// The regions grouped by kind of change, gravest first.
    pub groups: Vec<ChangeGroup>,
}

/// A change in the policy's text, listed even when no decision moves.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// What changed: `fact.domain`, `fact.default`, `method.factor`, `method.restricted`,
    /// `method.requires`, `path.title`, `path.when`, `path.steps`, `path.grants`,
    /// `path.wait`, `path.notify`, `path.order`, `deny.when`, or `… added`/`… removed`.
    pub what: String,
    /// The item's name (fact, method or path name, or the deny rule's reason).
    pub item: String,
    /// The old text (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The new text (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// `file:line:col` in the old version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_location: Option<String>,
    /// `file:line:col` in the new version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_location: Option<String>,
    /// True when this change alone makes the versions not equivalent, whatever the
    /// regions say (a method's factor or `restricted`).
    pub material: bool,
}

/// The result of comparing two versions.
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    /// `regain.diff/1`.
    pub schema: &'static str,
    /// No region differs and no method's factor or `restricted` changed.
    pub equivalent: bool,
    /// What a reviewer must see first.
    pub summary: Summary,
    /// Changes of the policy text, also those that move no decision.
    pub changes: Vec<Change>,
    /// Share of profiles decided differently.
    pub share: f64,
    /// Facts only the old version has (free in the new one).
    pub removed_facts: Vec<String>,
    /// Facts only the new version has (free in the old one).
    pub added_facts: Vec<String>,
    /// Disjoint regions covering exactly the differing profiles, largest first.
    pub regions: Vec<DiffRegion>,
    /// True only when the regions' conditions exceed the literal budget.
    pub truncated: bool,
}

/// Why two versions cannot be compared.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DiffError {
    /// A fact has incompatible types in the two versions.
    #[error("fact `{name}` is `{old}` in the old version but `{new}` in the new one; diff can compare an int fact whose range changed, but not a change of kind (bool, int, enum) or of an enum's variants")]
    TypeChanged {
        /// The fact.
        name: String,
        /// Old type.
        old: String,
        /// New type.
        new: String,
    },
    /// Compilation failed.
    #[error(transparent)]
    Compile(#[from] CompileError),
}

/// The shared type of a fact in both versions, when they can be compared.
fn shared_type(a: &FactType, b: &FactType) -> Option<FactType> {
    match (a, b) {
        (FactType::Bool, FactType::Bool) => Some(FactType::Bool),
        (FactType::Int { lo: l1, hi: h1 }, FactType::Int { lo: l2, hi: h2 }) => {
            Some(FactType::Int {
                lo: *l1.min(l2),
                hi: *h1.max(h2),
            })
        }
        (FactType::Enum(x), FactType::Enum(y)) => {
            let mut xs = x.clone();
            let mut ys = y.clone();
            xs.sort();
            ys.sort();
            (xs == ys).then(|| a.clone())
        }
        _ => None,
    }
}

/// Compare two versions of a policy. Runs on a large stack: the product of two graphs
/// recurses once per fact.
pub fn diff(old: &Policy, new: &Policy, opts: CompileOptions) -> Result<Diff, DiffError> {
    crate::stack::run_big(|| diff_inner(old, new, opts))
}

fn identity_map(ir: &Ir) -> FactMap {
    FactMap {
        fact: (0..ir.facts.len() as u32).map(FactId).collect(),
        variants: ir
            .facts
            .iter()
            .map(|f| match &f.ty {
                FactType::Enum(vs) => (0..vs.len()).collect(),
                _ => Vec::new(),
            })
            .collect(),
    }
}

fn diff_inner(old: &Policy, new: &Policy, opts: CompileOptions) -> Result<Diff, DiffError> {
    let (a, b) = (old.ir(), new.ir());
    // The shared facts: the old ones in order, then those only the new version has.
    let mut facts: Vec<Fact> = a.facts.clone();
    let map_a = identity_map(a);
    let mut map_b = FactMap {
        fact: Vec::new(),
        variants: Vec::new(),
    };
    let mut added = Vec::new();
    for f in &b.facts {
        match a.fact_id(&f.name) {
            Some(id) => {
                let Some(fa) = a.facts.get(id.index()) else {
                    continue;
                };
                let Some(ty) = shared_type(&fa.ty, &f.ty) else {
                    return Err(DiffError::TypeChanged {
                        name: f.name.clone(),
                        old: fa.ty.describe(),
                        new: f.ty.describe(),
                    });
                };
                if let Some(shared) = facts.get_mut(id.index()) {
                    shared.ty = ty;
                }
                map_b.fact.push(id);
                map_b.variants.push(match (&f.ty, &fa.ty) {
                    (FactType::Enum(vb), FactType::Enum(va)) => vb
                        .iter()
                        .map(|v| va.iter().position(|x| x == v).unwrap_or(0))
                        .collect(),
                    _ => Vec::new(),
                });
            }
            None => {
                map_b.fact.push(FactId(facts.len() as u32));
                map_b.variants.push(match &f.ty {
                    FactType::Enum(vs) => (0..vs.len()).collect(),
                    _ => Vec::new(),
                });
                facts.push(f.clone());
                added.push(f.name.clone());
            }
        }
    }
    let removed: Vec<String> = a
        .facts
        .iter()
        .filter(|f| b.fact_id(&f.name).is_none())
        .map(|f| f.name.clone())
        .collect();
    let ia = a.remap(&facts, &map_a);
    let ib = b.remap(&facts, &map_b);
    // Classes and order that refine both versions' tests.
    let both = Ir {
        name: String::new(),
        facts: facts.clone(),
        methods: ia.methods.iter().chain(&ib.methods).cloned().collect(),
        denies: ia.denies.iter().chain(&ib.denies).cloned().collect(),
        paths: ia.paths.iter().chain(&ib.paths).cloned().collect(),
    };
    let cls = classes::compute(&both);
    let order = compile::fact_order(&both, &cls);
    let ga = compile::compile_in(&ia, cls.clone(), order.clone(), opts)?;
    let gb = compile::compile_in(&ib, cls.clone(), order.clone(), opts)?;

    // The product: terminals are pairs of differing decisions; equal pairs are "same".
    let mut level_of = vec![u32::MAX; facts.len()];
    for (l, f) in order.iter().enumerate() {
        if let Some(x) = level_of.get_mut(f.index()) {
            *x = l as u32;
        }
    }
    let mut p = Product {
        a: (&ga.nodes, &ga.kids),
        b: (&gb.nodes, &gb.kids),
        level_of: &level_of,
        classes: &cls,
        dec_a: &ga.decisions,
        dec_b: &gb.decisions,
        nodes: Vec::new(),
        kids: Vec::new(),
        unique: HashMap::new(),
        memo: HashMap::new(),
        pairs: Vec::new(),
        pair_ids: HashMap::new(),
        limit: opts.node_limit,
    };
    let root = p.build(ga.root, gb.root)?;
    let v = View {
        nodes: &p.nodes,
        kids: &p.kids,
        classes: &cls,
        facts: &facts,
        root,
        terminals: p.pairs.len() + 1,
    };
    let probs = v.uniform();
    let tshares = v.terminal_shares_with(&probs);
    // Terminal 0 is "same"; group the others by (old side, new side).
    let sides: Vec<(Side, Side)> = p
        .pairs
        .iter()
        .map(|(x, y)| {
            let sa = ga.decisions.get(*x).map(Side::of);
            let sb = gb.decisions.get(*y).map(Side::of);
            (sa, sb)
        })
        .filter_map(|(x, y)| Some((x?, y?)))
        .collect();
    let mut groups: BTreeMap<String, (Vec<u32>, f64, usize)> = BTreeMap::new();
    for (i, (x, y)) in sides.iter().enumerate() {
        let t = i as u32 + 1;
        // A deterministic key of both full sides; titles are part of it but constant
        // within one version.
        let key = format!(
            "{}|{}|{}",
            kind_rank(x.decision),
            serde_json::to_string(x).unwrap_or_default(),
            serde_json::to_string(y).unwrap_or_default()
        );
        let e = groups.entry(key).or_insert((Vec::new(), 0.0, i));
        e.0.push(t);
        e.1 += tshares.get(t as usize).copied().unwrap_or(0.0);
    }
    let share: f64 = groups.values().map(|g| g.1).sum();
    let mut regions = Vec::new();
    let mut truncated = false;
    let mut budget = LITERAL_BUDGET;
    for (terms, _, first) in groups.into_values() {
        let Some((old_side, new_side)) = sides.get(first) else {
            continue;
        };
        let target = |t: u32| terms.binary_search(&t).is_ok();
        let ind = v.indicator(&target);
        let cubes = match v.disjoint_cover(&ind, &mut budget) {
            Ok(c) => c,
            Err((c, _)) => {
                truncated = true;
                c
            }
        };
        let kinds = classify(old_side, new_side);
        for c in &cubes {
            regions.push(DiffRegion {
                condition: v.render(c),
                share: v.cube_share_with(c, &probs),
                old: old_side.clone(),
                new: new_side.clone(),
                kinds: kinds.clone(),
            });
        }
    }
    regions.sort_by(|x, y| {
        y.share
            .partial_cmp(&x.share)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| x.condition.cmp(&y.condition))
    });

    // The summary: shares of each version over the shared space.
    let view_of = |g: &compile::Compiled| -> Vec<f64> {
        View {
            nodes: &g.nodes,
            kids: &g.kids,
            classes: &cls,
            facts: &facts,
            root: g.root,
            terminals: g.decisions.len(),
        }
        .terminal_shares_with(&probs)
    };
    let (sa, sb) = (view_of(&ga), view_of(&gb));
    let kind_share = |ds: &[Decision], ss: &[f64], k: DecisionKind| -> f64 {
        ds.iter()
            .zip(ss)
            .filter(|(d, _)| d.kind() == k)
            .map(|(_, s)| s)
            .sum()
    };
    let newly = |t: u32| {
        t > 0
            && sides.get(t as usize - 1).is_some_and(|(x, y)| {
                x.decision != DecisionKind::Lockout && y.decision == DecisionKind::Lockout
            })
    };
    let newly_locked_out = irredundant(&v, &newly, &probs)
        .iter()
        .map(|c| Condition {
            condition: v.render(c),
            share: v.cube_share_with(c, &probs),
        })
        .collect();
    let path_share = |ds: &[Decision], ss: &[f64], name: &str, first: bool| -> f64 {
        ds.iter()
            .zip(ss)
            .filter(|(d, _)| {
                if first {
                    d.paths().first().is_some_and(|o| o.name() == name)
                } else {
                    d.paths().iter().any(|o| o.name() == name)
                }
            })
            .map(|(_, s)| s)
            .sum()
    };
    let mut names: Vec<&str> = a.paths.iter().map(|p| p.name.as_str()).collect();
    for p in &b.paths {
        if !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
    }
    let paths = names
        .iter()
        .map(|n| PathChange {
            name: n.to_string(),
            available: OldNew {
                old: path_share(&ga.decisions, &sa, n, false),
                new: path_share(&gb.decisions, &sb, n, false),
            },
            first: OldNew {
                old: path_share(&ga.decisions, &sa, n, true),
                new: path_share(&gb.decisions, &sb, n, true),
            },
        })
        .collect();
    let mut by_kind: BTreeMap<ChangeKind, (f64, usize)> = BTreeMap::new();
    for r in &regions {
        for k in &r.kinds {
            let e = by_kind.entry(*k).or_default();
            e.0 += r.share;
            e.1 += 1;
        }
    }
    let summary = Summary {
        differing: share,
        lockout: LockoutChange {
            old: kind_share(&ga.decisions, &sa, DecisionKind::Lockout),
            new: kind_share(&gb.decisions, &sb, DecisionKind::Lockout),
            newly_locked_out,
        },
        deny: OldNew {
            old: kind_share(&ga.decisions, &sa, DecisionKind::Deny),
            new: kind_share(&gb.decisions, &sb, DecisionKind::Deny),
        },
        paths,
        groups: by_kind
            .into_iter()
            .map(|(kind, (share, regions))| {
                let has = |t: u32| {
                    t > 0
                        && sides
                            .get(t as usize - 1)
                            .is_some_and(|(x, y)| classify(x, y).contains(&kind))
                };
                ChangeGroup {
                    kind,
                    share,
                    regions,
                    condition: v.render_any(&irredundant(&v, &has, &probs)),
                }
            })
            .collect(),
    };
    let changes = policy_changes(old, new, &ia, &ib, &cls);
    let material = changes.iter().any(|c| c.material);
    Ok(Diff {
        schema: "regain.diff/1",
        equivalent: p.pairs.is_empty() && !material,
        summary,
        changes,
        share,
        removed_facts: removed,
        added_facts: added,
        regions,
        truncated,
    })
}

/// An irredundant cover of the product terminals in `target` (a disjoint cover when the
/// literal budget runs out).
fn irredundant(
    v: &View<'_>,
    target: &dyn Fn(u32) -> bool,
    probs: &super::regions::Probs,
) -> Vec<Cube> {
    let ind = v.indicator(target);
    if ind.is_false() {
        return Vec::new();
    }
    let mut budget = LITERAL_BUDGET;
    match v.disjoint_cover(&ind, &mut budget) {
        Ok(cubes) => {
            let share = |c: &Cube| v.cube_share_with(c, probs);
            v.irredundant(&ind, cubes, &share)
        }
        Err((cubes, _)) => cubes,
    }
}

/// Whether two conditions (over the shared facts) mean the same: every combination of
/// the classes of the facts they test is tried when there are at most 2^16; beyond, the
/// source texts are compared.
fn same_meaning(
    x: &Cond,
    y: &Cond,
    classes: &[Classes],
    nfacts: usize,
    texts: (&str, &str),
) -> bool {
    let mut tests = Vec::new();
    x.tests(&mut tests);
    y.tests(&mut tests);
    let mut facts: Vec<usize> = tests.iter().map(|t| t.fact().index()).collect();
    facts.sort_unstable();
    facts.dedup();
    let total = facts
        .iter()
        .map(|f| classes.get(*f).map_or(1, |c| c.count() as u64))
        .try_fold(1u64, |acc, n| acc.checked_mul(n));
    match total {
        Some(total) if total <= 1 << 16 => {
            let mut values = vec![0i64; nfacts];
            for mut k in 0..total {
                for f in &facts {
                    let Some(c) = classes.get(*f) else { continue };
                    let n = c.count() as u64;
                    if let Some(v) = values.get_mut(*f) {
                        *v = c.representative((k % n) as usize);
                    }
                    k /= n;
                }
                if x.eval(&values) != y.eval(&values) {
                    return false;
                }
            }
            true
        }
        _ => {
            let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            norm(texts.0) == norm(texts.1)
        }
    }
}

fn text(p: &Policy, span: crate::source::Span) -> String {
    p.source()
        .get(span.start..span.end)
        .unwrap_or_default()
        .to_string()
}

fn cond_text(p: &Policy, c: &Cond) -> String {
    if c.span.start == c.span.end {
        "true".into()
    } else {
        text(p, c.span)
    }
}

fn location(p: &Policy, span: crate::source::Span) -> String {
    format!("{}:{}", p.name(), line_col(p.source(), span.start))
}

fn steps_text(ir: &Ir, steps: &[Step]) -> String {
    let name = |m: &crate::check::ir::MethodId| {
        ir.methods
            .get(m.index())
            .map_or("?".to_string(), |x| x.name.clone())
    };
    steps
        .iter()
        .map(|s| match s {
            Step::Method(m) => name(m),
            Step::Any { n, methods } => format!(
                "any {n} of ({})",
                methods.iter().map(name).collect::<Vec<_>>().join(", ")
            ),
        })
        .collect::<Vec<_>>()
        .join(" then ")
}

/// A wait as the language writes it (`48h`, `3d`), `none` for no wait.
pub fn wait_text(s: u64) -> String {
    match s {
        0 => "none".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The policy-level changes between two versions (`ia`/`ib`: both over shared facts).
fn policy_changes(old: &Policy, new: &Policy, ia: &Ir, ib: &Ir, cls: &[Classes]) -> Vec<Change> {
    let (a, b) = (old.ir(), new.ir());
    let mut out = Vec::new();
    let mut change = |what: &str,
                      item: &str,
                      o: Option<(String, crate::source::Span)>,
                      n: Option<(String, crate::source::Span)>,
                      material: bool| {
        out.push(Change {
            what: what.to_string(),
            item: item.to_string(),
            old_location: o.as_ref().map(|(_, s)| location(old, *s)),
            new_location: n.as_ref().map(|(_, s)| location(new, *s)),
            old: o.map(|(t, _)| t),
            new: n.map(|(t, _)| t),
            material,
        });
    };
    // Facts.
    for fa in &a.facts {
        match b.facts.iter().find(|f| f.name == fa.name) {
            None => change(
                "fact removed",
                &fa.name,
                Some((fa.ty.describe(), fa.span)),
                None,
                false,
            ),
            Some(fb) => {
                if fa.ty != fb.ty {
                    change(
                        "fact.domain",
                        &fa.name,
                        Some((fa.ty.describe(), fa.span)),
                        Some((fb.ty.describe(), fb.span)),
                        false,
                    );
                }
                let show = |f: &Fact| f.default.map_or("none".to_string(), |v| f.show(v));
                if fa.default.map(|v| fa.show(v)) != fb.default.map(|v| fb.show(v)) {
                    change(
                        "fact.default",
                        &fa.name,
                        Some((show(fa), fa.span)),
                        Some((show(fb), fb.span)),
                        false,
                    );
                }
            }
        }
    }
    for fb in &b.facts {
        if a.fact_id(&fb.name).is_none() {
            change(
                "fact added",
                &fb.name,
                None,
                Some((fb.ty.describe(), fb.span)),
                false,
            );
        }
    }
    // Methods.
    let nfacts = ia.facts.len();
    for (i, ma) in a.methods.iter().enumerate() {
        let Some(j) = b.methods.iter().position(|m| m.name == ma.name) else {
            change(
                "method removed",
                &ma.name,
                Some((format!("{:?}", ma.factor).to_lowercase(), ma.span)),
                None,
                false,
            );
            continue;
        };
        let Some(mb) = b.methods.get(j) else { continue };
        if ma.factor != mb.factor {
            change(
                "method.factor",
                &ma.name,
                Some((format!("{:?}", ma.factor).to_lowercase(), ma.span)),
                Some((format!("{:?}", mb.factor).to_lowercase(), mb.span)),
                true,
            );
        }
        if ma.restricted != mb.restricted {
            let t = |r: bool| if r { "restricted" } else { "not restricted" }.to_string();
            change(
                "method.restricted",
                &ma.name,
                Some((t(ma.restricted), ma.span)),
                Some((t(mb.restricted), mb.span)),
                true,
            );
        }
        let (ra, rb) = (ia.methods.get(i), ib.methods.get(j));
        if let (Some(ra), Some(rb)) = (ra, rb) {
            let (ta, tb) = (cond_text(old, &ma.requires), cond_text(new, &mb.requires));
            if !same_meaning(&ra.requires, &rb.requires, cls, nfacts, (&ta, &tb)) {
                change(
                    "method.requires",
                    &ma.name,
                    Some((ta, ma.span)),
                    Some((tb, mb.span)),
                    false,
                );
            }
        }
    }
    for mb in &b.methods {
        if a.method_id(&mb.name).is_none() {
            change(
                "method added",
                &mb.name,
                None,
                Some((format!("{:?}", mb.factor).to_lowercase(), mb.span)),
                false,
            );
        }
    }
    // Deny rules, matched by reason (in order).
    let mut used = vec![false; b.denies.len()];
    for (i, da) in a.denies.iter().enumerate() {
        let j = b
            .denies
            .iter()
            .enumerate()
            .position(|(j, d)| d.reason == da.reason && !used.get(j).copied().unwrap_or(true));
        let Some(j) = j else {
            change(
                "deny removed",
                &da.reason,
                Some((cond_text(old, &da.when), da.span)),
                None,
                false,
            );
            continue;
        };
        if let Some(u) = used.get_mut(j) {
            *u = true;
        }
        let (Some(db), Some(xa), Some(xb)) = (b.denies.get(j), ia.denies.get(i), ib.denies.get(j))
        else {
            continue;
        };
        let (ta, tb) = (cond_text(old, &da.when), cond_text(new, &db.when));
        if !same_meaning(&xa.when, &xb.when, cls, nfacts, (&ta, &tb)) {
            change(
                "deny.when",
                &da.reason,
                Some((ta, da.span)),
                Some((tb, db.span)),
                false,
            );
        }
    }
    for (j, db) in b.denies.iter().enumerate() {
        if !used.get(j).copied().unwrap_or(false) {
            change(
                "deny added",
                &db.reason,
                None,
                Some((cond_text(new, &db.when), db.span)),
                false,
            );
        }
    }
    // Paths.
    for (i, pa) in a.paths.iter().enumerate() {
        let Some(j) = b.paths.iter().position(|p| p.name == pa.name) else {
            change(
                "path removed",
                &pa.name,
                Some((steps_text(a, &pa.steps), pa.name_span)),
                None,
                false,
            );
            continue;
        };
        let Some(pb) = b.paths.get(j) else { continue };
        let (sa, sb) = (pa.name_span, pb.name_span);
        let rank = |ir: &Ir, name: &str| ir.paths.iter().position(|p| p.name == name);
        // Order among the paths both versions have.
        let common_a: Vec<&str> = a
            .paths
            .iter()
            .map(|p| p.name.as_str())
            .filter(|n| b.path_id(n).is_some())
            .collect();
        let common_b: Vec<&str> = b
            .paths
            .iter()
            .map(|p| p.name.as_str())
            .filter(|n| a.path_id(n).is_some())
            .collect();
        let (ka, kb) = (
            common_a.iter().position(|n| *n == pa.name),
            common_b.iter().position(|n| *n == pa.name),
        );
        if ka != kb {
            change(
                "path.order",
                &pa.name,
                Some((format!("#{}", rank(a, &pa.name).map_or(0, |r| r + 1)), sa)),
                Some((format!("#{}", rank(b, &pb.name).map_or(0, |r| r + 1)), sb)),
                false,
            );
        }
        if pa.title != pb.title {
            let t = |x: &Option<String>| x.clone().unwrap_or_else(|| "none".into());
            change(
                "path.title",
                &pa.name,
                Some((t(&pa.title), sa)),
                Some((t(&pb.title), sb)),
                false,
            );
        }
        if let (Some(xa), Some(xb)) = (ia.paths.get(i), ib.paths.get(j)) {
            let (ta, tb) = (cond_text(old, &pa.when), cond_text(new, &pb.when));
            if !same_meaning(&xa.when, &xb.when, cls, nfacts, (&ta, &tb)) {
                change("path.when", &pa.name, Some((ta, sa)), Some((tb, sb)), false);
            }
        }
        let (sta, stb) = (steps_text(a, &pa.steps), steps_text(b, &pb.steps));
        if sta != stb {
            change(
                "path.steps",
                &pa.name,
                Some((sta, sa)),
                Some((stb, sb)),
                false,
            );
        }
        if pa.grants != pb.grants {
            change(
                "path.grants",
                &pa.name,
                Some((pa.grants.clone(), sa)),
                Some((pb.grants.clone(), sb)),
                false,
            );
        }
        if pa.wait_s != pb.wait_s {
            change(
                "path.wait",
                &pa.name,
                Some((wait_text(pa.wait_s), sa)),
                Some((wait_text(pb.wait_s), sb)),
                false,
            );
        }
        let notify = |ir: &Ir, ms: &[crate::check::ir::MethodId]| {
            ms.iter()
                .filter_map(|m| ir.methods.get(m.index()).map(|x| x.name.clone()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (na, nb) = (notify(a, &pa.notify), notify(b, &pb.notify));
        if na != nb {
            let t = |s: String| if s.is_empty() { "none".to_string() } else { s };
            change(
                "path.notify",
                &pa.name,
                Some((t(na), sa)),
                Some((t(nb), sb)),
                false,
            );
        }
    }
    for pb in &b.paths {
        if a.path_id(&pb.name).is_none() {
            change(
                "path added",
                &pb.name,
                None,
                Some((steps_text(b, &pb.steps), pb.name_span)),
                false,
            );
        }
    }
    out
}

struct Product<'a> {
    a: (&'a [FlatNode], &'a [u32]),
    b: (&'a [FlatNode], &'a [u32]),
    level_of: &'a [u32],
    classes: &'a [Classes],
    dec_a: &'a [Decision],
    dec_b: &'a [Decision],
    nodes: Vec<FlatNode>,
    kids: Vec<u32>,
    unique: HashMap<(u32, Vec<u32>), u32>,
    memo: HashMap<(u32, u32), u32>,
    /// Differing terminal pairs; product terminal `i + 1` is `pairs[i]`, terminal 0 "same".
    pairs: Vec<(usize, usize)>,
    pair_ids: HashMap<(usize, usize), u32>,
    limit: usize,
}

impl Product<'_> {
    fn level(&self, g: (&[FlatNode], &[u32]), r: u32) -> (u32, Option<FlatNode>) {
        if r & TERMINAL != 0 {
            return (u32::MAX, None);
        }
        match g.0.get(r as usize) {
            Some(n) => (
                self.level_of
                    .get(n.fact as usize)
                    .copied()
                    .unwrap_or(u32::MAX),
                Some(*n),
            ),
            None => (u32::MAX, None),
        }
    }

    fn build(&mut self, ra: u32, rb: u32) -> Result<u32, CompileError> {
        if let Some(r) = self.memo.get(&(ra, rb)) {
            return Ok(*r);
        }
        let (la, na) = self.level(self.a, ra);
        let (lb, nb) = self.level(self.b, rb);
        let r = if na.is_none() && nb.is_none() {
            let (x, y) = ((ra & !TERMINAL) as usize, (rb & !TERMINAL) as usize);
            let same = match (self.dec_a.get(x), self.dec_b.get(y)) {
                (Some(da), Some(db)) => da.same_as(db),
                _ => false,
            };
            if same {
                TERMINAL
            } else {
                let next = self.pairs.len() as u32 + 1;
                let id = *self.pair_ids.entry((x, y)).or_insert(next);
                if id == next {
                    self.pairs.push((x, y));
                }
                id | TERMINAL
            }
        } else {
            let top = la.min(lb);
            let fact = if la == top {
                na.map(|n| n.fact)
            } else {
                nb.map(|n| n.fact)
            }
            .unwrap_or(0);
            let width = self.classes.get(fact as usize).map_or(0, Classes::count);
            let mut kids = Vec::with_capacity(width);
            for c in 0..width {
                let ka = match na {
                    Some(n) if la == top => {
                        self.a.1.get(n.first as usize + c).copied().unwrap_or(ra)
                    }
                    _ => ra,
                };
                let kb = match nb {
                    Some(n) if lb == top => {
                        self.b.1.get(n.first as usize + c).copied().unwrap_or(rb)
                    }
                    _ => rb,
                };
                kids.push(self.build(ka, kb)?);
            }
            match kids.first() {
                Some(k0) if kids.iter().all(|k| k == k0) => *k0,
                _ => {
                    if let Some(n) = self.unique.get(&(fact, kids.clone())) {
                        *n
                    } else {
                        if self.nodes.len() + self.memo.len() >= self.limit {
                            return Err(CompileError::NodeLimit { limit: self.limit });
                        }
                        let id = self.nodes.len() as u32;
                        self.nodes.push(FlatNode {
                            fact,
                            first: self.kids.len() as u32,
                        });
                        self.kids.extend_from_slice(&kids);
                        self.unique.insert((fact, kids), id);
                        id
                    }
                }
            }
        };
        self.memo.insert((ra, rb), r);
        Ok(r)
    }
}
