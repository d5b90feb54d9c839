//! `--exact`: the simulation's shares and mean time without sampling. The population is
//! enumerated class by class (classes refined by the model's own conditions), each leaf
//! weighted by its probability; owners' and attackers' chances are computed in closed
//! form per offered path.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use serde_json::{json, Map, Value};

use super::model::{Dist, Model};
use super::{Prepared, SimError, SimTerminal};
use crate::check::ir::{Ir, Method};
use crate::graph::classes::{self, Classes};
use crate::Engine;

/// The most leaves (class combinations) `--exact` enumerates.
pub const MAX_LEAVES: u64 = 20_000_000;

#[derive(Clone, Debug, Default)]
struct Figures {
    outcomes: [f64; 4],
    by_path: Vec<f64>,
    human: f64,
    time_mass: f64,
    takeovers: Vec<f64>,
}

impl Figures {
    fn new(paths: usize, attackers: usize) -> Self {
        Figures {
            by_path: vec![0.0; paths],
            takeovers: vec![0.0; attackers],
            ..Default::default()
        }
    }
}

/// Owner figures of one terminal: P(recover via each offer), P(fail), P(a human method
/// attempted), E[time · 1{recovered}].
#[derive(Clone, Debug)]
struct Owner {
    rec: Vec<(usize, f64)>,
    fail: f64,
    human: f64,
    time_mass: f64,
}

/// (prob, time mass) per human flag.
type Buckets = [(f64, f64); 2];

fn step_outcomes(
    prep: &Prepared<'_>,
    needed: usize,
    methods: &[usize],
    enter: Buckets,
) -> (Buckets, Buckets) {
    // states[k][h] = (prob, time mass) with k successes so far.
    let mut states = vec![[(0.0, 0.0); 2]; needed.max(1)];
    states[0] = enter;
    let mut success: Buckets = [(0.0, 0.0); 2];
    for m in methods {
        let person = prep.people[*m];
        let (p, t) = (person.success, person.time_s as f64);
        let hm = prep.model.human[*m];
        let mut next = vec![[(0.0, 0.0); 2]; needed.max(1)];
        for (k, st) in states.iter().enumerate() {
            for (h, (pr, tm)) in st.iter().enumerate() {
                if *pr == 0.0 {
                    continue;
                }
                let h2 = if hm { 1 } else { h };
                let tm2 = tm + pr * t;
                // success
                if k + 1 >= needed {
                    success[h2].0 += pr * p;
                    success[h2].1 += tm2 * p;
                } else {
                    next[k + 1][h2].0 += pr * p;
                    next[k + 1][h2].1 += tm2 * p;
                }
                // failure
                next[k][h2].0 += pr * (1.0 - p);
                next[k][h2].1 += tm2 * (1.0 - p);
            }
        }
        states = next;
    }
    let mut fail: Buckets = [(0.0, 0.0); 2];
    for st in &states {
        for h in 0..2 {
            fail[h].0 += st[h].0;
            fail[h].1 += st[h].1;
        }
    }
    (success, fail)
}

fn owner(prep: &Prepared<'_>, term: &SimTerminal) -> Owner {
    let mut cont: Buckets = [(1.0, 0.0), (0.0, 0.0)];
    let mut rec = Vec::new();
    let mut human = 0.0;
    let mut time_mass = 0.0;
    for offer in &term.offers {
        let mut alive = cont;
        let mut failed: Buckets = [(0.0, 0.0); 2];
        for (needed, methods) in &offer.steps {
            let (s, f) = step_outcomes(prep, *needed, methods, alive);
            for h in 0..2 {
                failed[h].0 += f[h].0;
                failed[h].1 += f[h].1;
            }
            alive = s;
        }
        let done: f64 = alive[0].0 + alive[1].0;
        rec.push((offer.path, done));
        human += alive[1].0;
        time_mass += alive[0].1 + alive[1].1 + done * offer.wait_s as f64;
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
            next[k] += q * (1.0 - p);
            next[k + 1] += q * p;
        }
        dist = next;
    }
    dist.iter().skip(needed).sum()
}

fn takeover(
    prep: &Prepared<'_>,
    term: &SimTerminal,
    methods: &[Method],
    values: &[i64],
    a: usize,
) -> f64 {
    let att = &prep.model.attackers[a];
    let mut reach = 1.0;
    let mut total = 0.0;
    for offer in &term.offers {
        let c: f64 = offer
            .steps
            .iter()
            .map(|(needed, ms)| at_least(*needed, ms.iter().map(|m| att.success[*m])))
            .product();
        let notified = offer.wait_s > 0
            && offer
                .notify
                .iter()
                .any(|m| methods[*m].requires.eval(values));
        let stop = if notified {
            att.stopped_when_notified
        } else {
            0.0
        };
        total += reach * c * (1.0 - stop);
        reach *= 1.0 - c;
    }
    total
}

/// Mass of each class of `cls` under `d`, given earlier values.
fn masses(d: &Dist, cls: &Classes, values: &[i64], out: &mut Vec<f64>) {
    out.clear();
    out.resize(cls.count(), 0.0);
    add_masses(d, cls, values, 1.0, out);
}

fn add_masses(d: &Dist, cls: &Classes, values: &[i64], w: f64, out: &mut [f64]) {
    match d {
        Dist::Const(v) => {
            if let Some(c) = cls.of(*v) {
                out[c as usize] += w;
            }
        }
        Dist::Bernoulli(p) => {
            out[0] += w * (1.0 - p);
            out[1] += w * p;
        }
        Dist::Uniform(a, b) => {
            let n = (*b as i128 - *a as i128 + 1) as f64;
            for (c, o) in out.iter_mut().enumerate() {
                let (lo, hi) = cls.interval(c).unwrap_or((0, -1));
                let (x, y) = (lo.max(*a), hi.min(*b));
                if x <= y {
                    *o += w * (y as i128 - x as i128 + 1) as f64 / n;
                }
            }
        }
        Dist::Weights(ws) => {
            for (v, p) in ws {
                if let Some(c) = cls.of(*v) {
                    out[c as usize] += w * p;
                }
            }
        }
        Dist::Cond {
            when,
            then,
            otherwise,
        } => {
            if when.eval(values) {
                add_masses(then, cls, values, w, out)
            } else {
                add_masses(otherwise, cls, values, w, out)
            }
        }
    }
}

/// The classes that every test of the policy and of the model's conditions respects.
fn refined_classes(ir: &Ir, model: &Model) -> Vec<Classes> {
    fn conds<'a>(d: &'a Dist, out: &mut Vec<&'a crate::check::ir::Cond>) {
        if let Dist::Cond {
            when,
            then,
            otherwise,
        } = d
        {
            out.push(when);
            conds(then, out);
            conds(otherwise, out);
        }
    }
    let mut cs = Vec::new();
    for (_, d) in &model.order {
        conds(d, &mut cs);
    }
    for s in &model.segments {
        for d in s.overrides.iter().flatten() {
            conds(d, &mut cs);
        }
    }
    let mut both = ir.clone();
    for c in cs {
        both.denies.push(crate::check::ir::DenyRule {
            reason: String::new(),
            when: c.clone(),
            span: Default::default(),
        });
    }
    classes::compute(&both)
}

/// Exact figures for the whole population and each segment.
pub fn exact(engine: &Engine, model: &Model) -> Result<Value, SimError> {
    let prep = Prepared::new(engine, model);
    let ir = engine.policy().ir();
    let cls = refined_classes(ir, model);
    let leaves: u64 = model
        .order
        .iter()
        .map(|(f, _)| cls[f.index()].count() as u64)
        .try_fold(1u64, |a, b| a.checked_mul(b))
        .unwrap_or(u64::MAX);
    if leaves > MAX_LEAVES {
        return Err(SimError::Usage(format!(
            "--exact would enumerate {leaves} class combinations (limit {MAX_LEAVES}); use Monte-Carlo"
        )));
    }
    let mut owners: Vec<Option<Owner>> = vec![None; prep.terminals.len()];
    let segs: Vec<Option<usize>> = if model.segments.is_empty() {
        vec![None]
    } else {
        (0..model.segments.len()).map(Some).collect()
    };
    let mut per_seg = Vec::new();
    for seg in &segs {
        let mut fig = Figures::new(ir.paths.len(), model.attackers.len());
        let mut values = prep.base_values.clone();
        let mut buf = Vec::new();
        walk(
            &prep,
            &cls,
            *seg,
            0,
            1.0,
            &mut values,
            &mut buf,
            &mut owners,
            &mut fig,
        );
        per_seg.push(fig);
    }
    let total = if model.segments.is_empty() {
        per_seg[0].clone()
    } else {
        let wsum: f64 = model.segments.iter().map(|s| s.weight).sum();
        let mut t = Figures::new(ir.paths.len(), model.attackers.len());
        for (s, f) in model.segments.iter().zip(&per_seg) {
            let w = s.weight / wsum;
            for i in 0..4 {
                t.outcomes[i] += w * f.outcomes[i];
            }
            for (a, b) in t.by_path.iter_mut().zip(&f.by_path) {
                *a += w * b;
            }
            t.human += w * f.human;
            t.time_mass += w * f.time_mass;
            for (a, b) in t.takeovers.iter_mut().zip(&f.takeovers) {
                *a += w * b;
            }
        }
        t
    };
    let mut out = Map::new();
    out.insert("policy".into(), json!(ir.name));
    out.insert("exact".into(), json!(true));
    out.insert("seed".into(), Value::Null);
    out.insert("trials".into(), Value::Null);
    out.extend(figures(ir, model, &total));
    let segments: Map<String, Value> = model
        .segments
        .iter()
        .zip(&per_seg)
        .map(|(s, f)| (s.name.clone(), Value::Object(figures(ir, model, f))))
        .collect();
    out.insert("segments".into(), Value::Object(segments));
    Ok(Value::Object(out))
}

#[allow(clippy::too_many_arguments)]
fn walk(
    prep: &Prepared<'_>,
    cls: &[Classes],
    seg: Option<usize>,
    pos: usize,
    p: f64,
    values: &mut Vec<i64>,
    buf: &mut Vec<f64>,
    owners: &mut Vec<Option<Owner>>,
    fig: &mut Figures,
) {
    let model = prep.model;
    if pos == model.order.len() {
        leaf(prep, p, values, owners, fig);
        return;
    }
    let (fact, dist) = &model.order[pos];
    let d = seg
        .and_then(|s| model.segments[s].overrides[pos].as_ref())
        .unwrap_or(dist);
    let c = &cls[fact.index()];
    masses(d, c, values, buf);
    let ms = buf.clone();
    for (k, m) in ms.iter().enumerate() {
        if *m <= 0.0 {
            continue;
        }
        values[fact.index()] = c.representative(k);
        walk(prep, cls, seg, pos + 1, p * m, values, buf, owners, fig);
    }
}

fn leaf(
    prep: &Prepared<'_>,
    p: f64,
    values: &[i64],
    owners: &mut [Option<Owner>],
    fig: &mut Figures,
) {
    let Some(t) = prep.engine.terminal_of(values) else {
        return;
    };
    let term = &prep.terminals[t];
    match term.kind {
        1 => {
            fig.outcomes[3] += p;
            return;
        }
        2 => {
            fig.outcomes[2] += p;
            return;
        }
        _ => {}
    }
    let o = owners[t].get_or_insert_with(|| owner(prep, term));
    let rec: f64 = o.rec.iter().map(|x| x.1).sum();
    fig.outcomes[0] += p * rec;
    fig.outcomes[1] += p * o.fail;
    for (path, r) in &o.rec {
        fig.by_path[*path] += p * r;
    }
    fig.human += p * o.human;
    fig.time_mass += p * o.time_mass;
    let methods = &prep.engine.policy().ir().methods;
    for a in 0..prep.model.attackers.len() {
        fig.takeovers[a] += p * takeover(prep, term, methods, values, a);
    }
}

fn figures(ir: &Ir, model: &Model, f: &Figures) -> Map<String, Value> {
    let s = |x: f64| json!({"share": x, "ci95": [x, x]});
    let mut m = Map::new();
    m.insert(
        "outcomes".into(),
        json!({"recovered": s(f.outcomes[0]), "failed": s(f.outcomes[1]), "lockout": s(f.outcomes[2]), "denied": s(f.outcomes[3])}),
    );
    m.insert(
        "by_path".into(),
        Value::Object(
            ir.paths
                .iter()
                .zip(&f.by_path)
                .map(|(p, x)| (p.name.clone(), json!(x)))
                .collect(),
        ),
    );
    m.insert("human_review_load".into(), s(f.human));
    let mean = if f.outcomes[0] > 0.0 {
        json!(f.time_mass / f.outcomes[0])
    } else {
        Value::Null
    };
    m.insert(
        "time_to_recover_s".into(),
        json!({"mean": mean, "p50": null, "p95": null}),
    );
    m.insert(
        "attackers".into(),
        Value::Object(
            model
                .attackers
                .iter()
                .zip(&f.takeovers)
                .map(|(a, x)| (a.name.clone(), json!({"takeover": s(*x)})))
                .collect(),
        ),
    );
    m
}
