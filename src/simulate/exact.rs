//! `--exact`: the simulation's shares and mean time without sampling, for every policy
//! whose graph compiles.
//!
//! Seen through the decision graph's value classes, the population model is a finite
//! [`Mixture`] of product measures: one [`Component`] per segment × joint cell of the
//! facts that the model's `when` conditions (and the `requires` of notify methods of
//! paths with a wait) test, cut by the constants those tests use. Within a component
//! every fact is independent with a known distribution over its graph classes, so the
//! chance of each terminal is one pass over the graph; the owner's and attackers'
//! chances then depend only on the terminal (and the component's segment and notify
//! usability), in closed form. No product of all facts' classes is ever enumerated.

use std::collections::HashMap;

use super::model::{Dist, Model};
use super::report::{AttackerFigures, Figures, Named, Outcomes, Report, Share, TimeToRecover};
use super::{Prepared, SimError, SimTerminal};
use crate::check::ir::{Cond, FactType, PathId, Test};
use crate::decision::DecisionKind;
use crate::graph::classes::Classes;
use crate::graph::compile::TERMINAL;
use crate::Engine;

/// The most mixture components `--exact` builds.
pub const MAX_COMPONENTS: usize = 100_000;

/// One product measure of the population mixture.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// Its probability (the components' weights sum to 1).
    pub weight: f64,
    /// The segment it belongs to (`None` when the model has none).
    pub segment: Option<usize>,
    /// Per fact, per graph value class (`engine.graph().classes()`), the class's
    /// probability within this component; the facts are independent within it.
    pub class_probs: Vec<Vec<f64>>,
    /// Per path: whether it has a wait and one of its `notify` methods is usable for
    /// every profile of this component.
    pub notified: Vec<bool>,
}

/// The population model as a mixture of product measures over the graph's classes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mixture {
    /// The components.
    pub components: Vec<Component>,
}

impl Mixture {
    /// The population-weighted share of each terminal (index into
    /// `engine.graph().decisions()`): of the whole population with `segment: None`, of
    /// one segment's population with `Some(s)`. Deny and lockout terminals' shares add up
    /// to the exact simulation's `denied` and `lockout` outcomes.
    pub fn terminal_shares(&self, engine: &Engine, segment: Option<usize>) -> Vec<f64> {
        let mut out = vec![0.0; engine.graph().decisions().len()];
        let (mut mass, mut probs) = (Vec::new(), Vec::new());
        let mut total = 0.0;
        for c in &self.components {
            if segment.is_some() && c.segment != segment {
                continue;
            }
            total += c.weight;
            terminal_probs(engine, &c.class_probs, &mut mass, &mut probs);
            for (o, p) in out.iter_mut().zip(&probs) {
                *o += c.weight * p;
            }
        }
        if total > 0.0 {
            for o in &mut out {
                *o /= total;
            }
        }
        out
    }

    /// The chance of each terminal (index into `engine.graph().decisions()`) under one
    /// component: one pass over the graph.
    pub fn terminal_probs(engine: &Engine, component: &Component) -> Vec<f64> {
        let mut mass = Vec::new();
        let mut out = Vec::new();
        terminal_probs(engine, &component.class_probs, &mut mass, &mut out);
        out
    }
}

/// A cell of a conditioning fact's domain.
#[derive(Clone, Debug)]
enum Cell {
    /// `lo..=hi` (bool: 0 or 1).
    Range(i64, i64),
    /// Enum variants.
    Variants(Vec<i64>),
}

impl Cell {
    fn contains(&self, v: i64) -> bool {
        match self {
            Cell::Range(a, b) => *a <= v && v <= *b,
            Cell::Variants(vs) => vs.contains(&v),
        }
    }

    fn representative(&self) -> i64 {
        match self {
            Cell::Range(a, _) => *a,
            Cell::Variants(vs) => vs.first().copied().unwrap_or(0),
        }
    }
}

/// The cells of a fact's domain that every test in `tests` treats alike.
fn cells(ty: &FactType, tests: &[&Test]) -> Vec<Cell> {
    match ty {
        FactType::Bool => vec![Cell::Range(0, 0), Cell::Range(1, 1)],
        FactType::Enum(vs) => {
            let mut sigs: Vec<(Vec<bool>, Vec<i64>)> = Vec::new();
            for v in 0..vs.len() as i64 {
                let sig: Vec<bool> = tests.iter().map(|t| t.holds(v)).collect();
                match sigs.iter_mut().find(|(s, _)| *s == sig) {
                    Some((_, members)) => members.push(v),
                    None => sigs.push((sig, vec![v])),
                }
            }
            sigs.into_iter().map(|(_, m)| Cell::Variants(m)).collect()
        }
        FactType::Int { lo, hi } => {
            let mut cuts: Vec<i64> = tests
                .iter()
                .flat_map(|t| t.cuts())
                .filter(|c| c > lo && c <= hi)
                .collect();
            cuts.push(*lo);
            cuts.sort_unstable();
            cuts.dedup();
            let ends = cuts
                .iter()
                .skip(1)
                .map(|c| c - 1)
                .chain(std::iter::once(*hi));
            cuts.iter()
                .zip(ends)
                .map(|(a, b)| Cell::Range(*a, b))
                .collect()
        }
    }
}

/// Follow conditionals (decided by `values`) to a plain distribution.
fn resolve<'a>(mut d: &'a Dist, values: &[i64]) -> &'a Dist {
    while let Dist::Cond {
        when,
        then,
        otherwise,
    } = d
    {
        d = if when.eval(values) { then } else { otherwise };
    }
    d
}

/// `out[c]` = P(value in `cell` and in graph class `c`) under `d`.
fn masses(d: &Dist, cls: &Classes, cell: Option<&Cell>, values: &[i64], out: &mut Vec<f64>) {
    out.clear();
    out.resize(cls.count(), 0.0);
    let inside = |v: i64| cell.is_none_or(|c| c.contains(v));
    let mut put = |v: i64, w: f64| {
        if inside(v) {
            if let Some(o) = cls.of(v).and_then(|c| out.get_mut(c as usize)) {
                *o += w;
            }
        }
    };
    match resolve(d, values) {
        Dist::Const(v) => put(*v, 1.0),
        Dist::Bernoulli(p) => {
            put(0, 1.0 - p);
            put(1, *p);
        }
        Dist::Weights(ws) => {
            for (v, p) in ws {
                put(*v, *p);
            }
        }
        Dist::Uniform(a, b) => {
            let (mut a, mut b) = (i128::from(*a), i128::from(*b));
            let n = (b - a + 1) as f64;
            if let Some(Cell::Range(x, y)) = cell {
                a = a.max(i128::from(*x));
                b = b.min(i128::from(*y));
            }
            for (c, o) in out.iter_mut().enumerate() {
                let Some((lo, hi)) = cls.interval(c) else {
                    continue;
                };
                let (x, y) = (a.max(i128::from(lo)), b.min(i128::from(hi)));
                if x <= y {
                    *o += (y - x + 1) as f64 / n;
                }
            }
        }
        Dist::Cond { .. } => {}
    }
}

/// The population model as a mixture of product measures over the graph's classes.
pub fn mixture(model: &Model, engine: &Engine) -> Result<Mixture, SimError> {
    let ir = engine.policy().ir();
    let graph_classes = engine.graph().classes();
    // Tests that decide a conditional distribution or a notification, per fact.
    let mut conds: Vec<&Cond> = Vec::new();
    let mut stack: Vec<&Dist> = model
        .order
        .iter()
        .map(|(_, d)| d)
        .chain(
            model
                .segments
                .iter()
                .flat_map(|s| s.overrides.iter().flatten()),
        )
        .collect();
    while let Some(d) = stack.pop() {
        if let Dist::Cond {
            when,
            then,
            otherwise,
        } = d
        {
            conds.push(when);
            stack.push(then);
            stack.push(otherwise);
        }
    }
    for p in ir.paths.iter().filter(|p| p.wait_s > 0) {
        for m in &p.notify {
            if let Some(m) = ir.methods.get(m.index()) {
                conds.push(&m.requires);
            }
        }
    }
    let mut tests: Vec<Vec<&Test>> = vec![Vec::new(); ir.facts.len()];
    let mut all = Vec::new();
    for c in conds {
        c.tests(&mut all);
    }
    for t in all {
        if let Some(list) = tests.get_mut(t.fact().index()) {
            if !list.contains(&t) {
                list.push(t);
            }
        }
    }

    let prep = Prepared::new(engine, model);
    let base = prep.base_values.clone();
    // Facts not sampled keep their default: a point mass.
    let mut base_probs: Vec<Vec<f64>> = Vec::with_capacity(ir.facts.len());
    for (f, cls) in base.iter().zip(graph_classes) {
        let mut v = vec![0.0; cls.count()];
        if let Some(slot) = cls.of(*f).and_then(|c| v.get_mut(c as usize)) {
            *slot = 1.0;
        }
        base_probs.push(v);
    }
    struct Partial {
        weight: f64,
        values: Vec<i64>,
        probs: Vec<Vec<f64>>,
    }
    let segs: Vec<(Option<usize>, f64)> = if model.segments.is_empty() {
        vec![(None, 1.0)]
    } else {
        model
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| (Some(i), s.weight / prep.segment_total))
            .collect()
    };
    let mut components = Vec::new();
    let mut buf = Vec::new();
    for (seg, seg_weight) in segs {
        let overrides = seg
            .and_then(|s| model.segments.get(s))
            .map(|s| s.overrides.as_slice());
        let mut parts = vec![Partial {
            weight: seg_weight,
            values: base.clone(),
            probs: base_probs.clone(),
        }];
        for (pos, (fact, dist)) in model.order.iter().enumerate() {
            let d = overrides
                .and_then(|o| o.get(pos))
                .and_then(Option::as_ref)
                .unwrap_or(dist);
            let f = fact.index();
            let (Some(cls), Some(ty), Some(ts)) = (
                graph_classes.get(f),
                ir.facts.get(f).map(|x| &x.ty),
                tests.get(f),
            ) else {
                continue;
            };
            if ts.is_empty() {
                for p in &mut parts {
                    masses(d, cls, None, &p.values, &mut buf);
                    if let Some(slot) = p.probs.get_mut(f) {
                        slot.clone_from(&buf);
                    }
                }
                continue;
            }
            let cs = cells(ty, ts);
            let mut next = Vec::new();
            for p in parts {
                for cell in &cs {
                    masses(d, cls, Some(cell), &p.values, &mut buf);
                    let m: f64 = buf.iter().sum();
                    if m <= 0.0 {
                        continue;
                    }
                    let mut q = Partial {
                        weight: p.weight * m,
                        values: p.values.clone(),
                        probs: p.probs.clone(),
                    };
                    if let Some(v) = q.values.get_mut(f) {
                        *v = cell.representative();
                    }
                    if let Some(slot) = q.probs.get_mut(f) {
                        *slot = buf.iter().map(|x| x / m).collect();
                    }
                    next.push(q);
                }
                if next.len() + components.len() > MAX_COMPONENTS {
                    return Err(SimError::TooLarge(format!(
                        "--exact: the model's `when` conditions (and the notify methods' `requires`) split the population into more than {MAX_COMPONENTS} parts; condition on fewer facts, or use Monte-Carlo"
                    )));
                }
            }
            parts = next;
        }
        for p in parts {
            let notified = ir
                .paths
                .iter()
                .map(|path| {
                    path.wait_s > 0
                        && path.notify.iter().any(|m| {
                            ir.methods
                                .get(m.index())
                                .is_some_and(|m| m.requires.eval(&p.values))
                        })
                })
                .collect();
            components.push(Component {
                weight: p.weight,
                segment: seg,
                class_probs: p.probs,
                notified,
            });
        }
    }
    Ok(Mixture { components })
}

/// P(terminal) for independent facts with `probs` per graph class: one pass over the
/// graph (children have smaller ids than their parents).
#[allow(
    clippy::indexing_slicing,
    reason = "node, kid and terminal indices come from the compiled graph itself; probs has one entry per fact and class"
)]
fn terminal_probs(engine: &Engine, probs: &[Vec<f64>], mass: &mut Vec<f64>, out: &mut Vec<f64>) {
    let c = &engine.graph().c;
    out.clear();
    out.resize(c.decisions.len(), 0.0);
    if c.root & TERMINAL != 0 {
        if let Some(t) = out.get_mut((c.root & !TERMINAL) as usize) {
            *t = 1.0;
        }
        return;
    }
    mass.clear();
    mass.resize(c.nodes.len(), 0.0);
    mass[c.root as usize] = 1.0;
    for id in (0..=c.root as usize).rev() {
        let m = mass[id];
        if m == 0.0 {
            continue;
        }
        let n = c.nodes[id];
        let ps = &probs[n.fact as usize];
        for (k, p) in ps.iter().enumerate() {
            if *p == 0.0 {
                continue;
            }
            let kid = c.kids[n.first as usize + k];
            if kid & TERMINAL != 0 {
                out[(kid & !TERMINAL) as usize] += m * p;
            } else {
                mass[kid as usize] += m * p;
            }
        }
    }
}

/// Figures accumulated as probabilities.
#[derive(Clone, Debug, Default)]
pub(crate) struct Acc {
    pub outcomes: [f64; 4],
    pub by_path: Vec<f64>,
    pub human: f64,
    pub time_mass: f64,
    pub takeovers: Vec<f64>,
}

impl Acc {
    fn new(paths: usize, attackers: usize) -> Self {
        Acc {
            by_path: vec![0.0; paths],
            takeovers: vec![0.0; attackers],
            ..Default::default()
        }
    }

    pub(crate) fn figures(&self, paths: &[String], attackers: &[String]) -> Figures {
        let s = Share::exact;
        let [rec, failed, lockout, denied] = self.outcomes;
        Figures {
            trials: None,
            outcomes: Outcomes {
                recovered: s(rec),
                failed: s(failed),
                lockout: s(lockout),
                denied: s(denied),
            },
            by_path: Named(
                paths
                    .iter()
                    .zip(&self.by_path)
                    .map(|(p, x)| (p.clone(), *x))
                    .collect(),
            ),
            human_review_load: s(self.human),
            time_to_recover_s: TimeToRecover {
                mean: (rec > 0.0).then(|| self.time_mass / rec),
                p50: None,
                p95: None,
                cdf: Vec::new(),
            },
            attackers: Named(
                attackers
                    .iter()
                    .zip(&self.takeovers)
                    .map(|(a, x)| (a.clone(), AttackerFigures { takeover: s(*x) }))
                    .collect(),
            ),
        }
    }
}

/// Owner figures of one terminal: P(recover via each offer), P(fail), P(a human method
/// attempted), E[time · 1{recovered}].
#[derive(Clone, Debug)]
struct Owner {
    rec: Vec<(PathId, f64)>,
    fail: f64,
    human: f64,
    time_mass: f64,
}

/// (prob, time mass) per human flag.
type Buckets = [(f64, f64); 2];

fn add_buckets(a: &mut Buckets, b: &Buckets) {
    for (x, y) in a.iter_mut().zip(b) {
        x.0 += y.0;
        x.1 += y.1;
    }
}

/// One step: from the buckets entering it to (completed, failed).
fn step_outcomes(
    prep: &Prepared<'_>,
    needed: usize,
    methods: &[crate::check::ir::MethodId],
    enter: Buckets,
) -> (Buckets, Buckets) {
    // states[k] = buckets with k successes so far (k < needed).
    let mut states: Vec<Buckets> = vec![[(0.0, 0.0); 2]; needed.max(1)];
    if let Some(s) = states.first_mut() {
        *s = enter;
    }
    let mut success: Buckets = [(0.0, 0.0); 2];
    for m in methods {
        let person = prep
            .people
            .get(m.index())
            .copied()
            .unwrap_or(super::model::Person {
                success: 0.0,
                time_s: 0,
            });
        let (p, t) = (person.success, person.time_s as f64);
        let hm = prep.model.human.get(m.index()).copied().unwrap_or(false);
        let mut next: Vec<Buckets> = vec![[(0.0, 0.0); 2]; needed.max(1)];
        for (k, st) in states.iter().enumerate() {
            for (h, (pr, tm)) in st.iter().enumerate() {
                if *pr == 0.0 {
                    continue;
                }
                let h2 = if hm { 1 } else { h };
                let tm2 = tm + pr * t;
                let win = if k + 1 >= needed {
                    success.get_mut(h2)
                } else {
                    next.get_mut(k + 1).and_then(|b| b.get_mut(h2))
                };
                if let Some(w) = win {
                    w.0 += pr * p;
                    w.1 += tm2 * p;
                }
                if let Some(l) = next.get_mut(k).and_then(|b| b.get_mut(h2)) {
                    l.0 += pr * (1.0 - p);
                    l.1 += tm2 * (1.0 - p);
                }
            }
        }
        states = next;
    }
    let mut fail: Buckets = [(0.0, 0.0); 2];
    for st in &states {
        add_buckets(&mut fail, st);
    }
    (success, fail)
}

fn owner(prep: &Prepared<'_>, term: &SimTerminal, gives_up: Option<u64>) -> Owner {
    let mut cont: Buckets = [(1.0, 0.0), (0.0, 0.0)];
    let mut rec = Vec::new();
    let mut human = 0.0;
    let mut time_mass = 0.0;
    for offer in &term.offers {
        let mut alive = cont;
        let mut failed: Buckets = [(0.0, 0.0); 2];
        for (needed, methods) in &offer.steps {
            let (s, f) = step_outcomes(prep, *needed, methods, alive);
            add_buckets(&mut failed, &f);
            alive = s;
        }
        if gives_up.is_some_and(|g| offer.wait_s > g) {
            // Completed, then abandoned at the wait: counts as failed.
            add_buckets(&mut failed, &alive);
            rec.push((offer.path, 0.0));
        } else {
            let done: f64 = alive[0].0 + alive[1].0;
            rec.push((offer.path, done));
            human += alive[1].0;
            time_mass += alive[0].1 + alive[1].1 + done * offer.wait_s as f64;
        }
        cont = failed;
    }
    Owner {
        rec,
        fail: cont[0].0 + cont[1].0,
        human: human + cont[1].0,
        time_mass,
    }
}

/// P(at least `needed` of `ps` succeed).
fn at_least(needed: usize, ps: impl Iterator<Item = f64>) -> f64 {
    let mut dist = vec![1.0];
    for p in ps {
        let mut next = vec![0.0; dist.len() + 1];
        for (k, q) in dist.iter().enumerate() {
            if let Some(x) = next.get_mut(k) {
                *x += q * (1.0 - p);
            }
            if let Some(x) = next.get_mut(k + 1) {
                *x += q * p;
            }
        }
        dist = next;
    }
    dist.iter().skip(needed).sum()
}

fn takeover(prep: &Prepared<'_>, term: &SimTerminal, notified: &[bool], a: usize) -> f64 {
    let Some(att) = prep.model.attackers.get(a) else {
        return 0.0;
    };
    let stops = prep.att_stop.get(a);
    let mut reach = 1.0;
    let mut total = 0.0;
    for offer in &term.offers {
        let c: f64 = offer
            .steps
            .iter()
            .map(|(needed, ms)| {
                at_least(
                    *needed,
                    ms.iter()
                        .map(|m| att.success.get(m.index()).copied().unwrap_or(0.0)),
                )
            })
            .product();
        let stop = if notified.get(offer.path.index()).copied().unwrap_or(false) {
            stops
                .and_then(|s| s.get(offer.path.index()))
                .copied()
                .unwrap_or(0.0)
        } else {
            0.0
        };
        total += reach * c * (1.0 - stop);
        reach *= 1.0 - c;
    }
    total
}

/// Exact figures, whole population first, then per segment.
pub(crate) fn exact_acc(engine: &Engine, model: &Model) -> Result<Vec<Acc>, SimError> {
    let mix = mixture(model, engine)?;
    let prep = Prepared::new(engine, model);
    let (np, na) = (prep.path_names.len(), prep.attacker_names.len());
    let mut accs: Vec<Acc> = (0..=model.segments.len())
        .map(|_| Acc::new(np, na))
        .collect();
    let seg_share: Vec<f64> = model
        .segments
        .iter()
        .map(|s| s.weight / prep.segment_total)
        .collect();
    let mut owners: HashMap<(usize, usize), Owner> = HashMap::new();
    let (mut mass, mut probs) = (Vec::new(), Vec::new());
    for comp in &mix.components {
        terminal_probs(engine, &comp.class_probs, &mut mass, &mut probs);
        let gi = comp.segment.map_or(0, |s| s + 1);
        let gives_up = prep.gives_up.get(gi).copied().flatten();
        let seg_w = comp
            .segment
            .and_then(|s| seg_share.get(s))
            .map(|w| comp.weight / w);
        for (t, pt) in probs.iter().enumerate() {
            if *pt == 0.0 {
                continue;
            }
            let Some(term) = prep.terminals.get(t) else {
                continue;
            };
            let mut add = |acc: &mut Acc, p: f64| match term.kind {
                DecisionKind::Deny => acc.outcomes[3] += p,
                DecisionKind::Lockout => acc.outcomes[2] += p,
                DecisionKind::Allow => {
                    let o = owners
                        .entry((gi, t))
                        .or_insert_with(|| owner(&prep, term, gives_up));
                    let rec: f64 = o.rec.iter().map(|x| x.1).sum();
                    acc.outcomes[0] += p * rec;
                    acc.outcomes[1] += p * o.fail;
                    for (path, r) in &o.rec {
                        if let Some(x) = acc.by_path.get_mut(path.index()) {
                            *x += p * r;
                        }
                    }
                    acc.human += p * o.human;
                    acc.time_mass += p * o.time_mass;
                    for (a, x) in acc.takeovers.iter_mut().enumerate() {
                        *x += p * takeover(&prep, term, &comp.notified, a);
                    }
                }
            };
            if let Some(acc) = accs.first_mut() {
                add(acc, comp.weight * pt);
            }
            if let (Some(w), Some(acc)) = (seg_w, accs.get_mut(gi)) {
                add(acc, w * pt);
            }
        }
    }
    Ok(accs)
}

/// Exact figures for the whole population and each segment.
pub fn exact(engine: &Engine, model: &Model) -> Result<Report, SimError> {
    let accs = exact_acc(engine, model)?;
    let prep = Prepared::new(engine, model);
    Ok(exact_report(&prep, &accs))
}

pub(crate) fn exact_report(prep: &Prepared<'_>, accs: &[Acc]) -> Report {
    let (np, na) = (&prep.path_names, &prep.attacker_names);
    let zero = Acc::new(np.len(), na.len());
    let (total, segs) = accs.split_first().unwrap_or((&zero, &[]));
    Report {
        schema: super::report::SCHEMA.into(),
        policy: prep.engine.policy().ir().name.clone(),
        exact: true,
        seed: None,
        figures: total.figures(np, na),
        segments: Named(
            prep.segment_names
                .iter()
                .zip(segs)
                .map(|(s, a)| (s.clone(), a.figures(np, na)))
                .collect(),
        ),
        shard: None,
    }
}
