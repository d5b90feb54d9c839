//! The simulator: a population model × the decision graph × owner and attacker models.
//!
//! [`simulate`] runs seeded Monte-Carlo trials in parallel (identical results at any
//! thread count, memory flat in the number of trials); [`exact`] computes the same
//! shares and the mean time without sampling; shards of a run merge into exactly the
//! single-run result ([`merge`]).

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod exact;
pub mod model;
mod run;

use serde_json::{json, Map, Value};

use crate::decision::DecisionKind;
use crate::Engine;
pub use model::{Model, ModelError};

/// Trials per chunk: the unit of seeding, parallelism and sharding.
pub const CHUNK: u64 = 1 << 16;

/// Bins of the time histogram (log-linear, < 1% relative error).
const HIST_SUB: u64 = 128;
const HIST_BINS: usize = (HIST_SUB as usize) * 2 + 64 * HIST_SUB as usize;

fn hist_bin(v: u64) -> usize {
    if v < 2 * HIST_SUB {
        return v as usize;
    }
    let octave = 63 - v.leading_zeros() as u64; // ≥ 8
    let shift = octave - 7; // keep 8 significant bits (128..256)
    let sub = (v >> shift) - HIST_SUB; // 0..128
    (2 * HIST_SUB + (shift - 1) * HIST_SUB + sub) as usize
}

fn hist_value(bin: usize) -> u64 {
    let b = bin as u64;
    if b < 2 * HIST_SUB {
        return b;
    }
    let shift = (b - 2 * HIST_SUB) / HIST_SUB + 1;
    let sub = (b - 2 * HIST_SUB) % HIST_SUB;
    (HIST_SUB + sub) << shift
}

/// Integer tallies of trials (mergeable in any order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    n: u64,
    outcomes: [u64; 4],
    by_path: Vec<u64>,
    human: u64,
    time_sum: u128,
    hist: Vec<u64>,
    takeovers: Vec<u64>,
}

impl Tally {
    fn zero(paths: usize, attackers: usize) -> Tally {
        Tally {
            n: 0,
            outcomes: [0; 4],
            by_path: vec![0; paths],
            human: 0,
            time_sum: 0,
            hist: vec![0; HIST_BINS],
            takeovers: vec![0; attackers],
        }
    }

    fn add(&mut self, o: &Tally) {
        self.n += o.n;
        for (a, b) in self.outcomes.iter_mut().zip(&o.outcomes) {
            *a += b;
        }
        for (a, b) in self.by_path.iter_mut().zip(&o.by_path) {
            *a += b;
        }
        self.human += o.human;
        self.time_sum += o.time_sum;
        for (a, b) in self.hist.iter_mut().zip(&o.hist) {
            *a += b;
        }
        for (a, b) in self.takeovers.iter_mut().zip(&o.takeovers) {
            *a += b;
        }
    }

    fn record(&mut self, o: &run::Outcome) {
        self.n += 1;
        self.outcomes[o.kind as usize] += 1;
        if o.human {
            self.human += 1;
        }
        if o.kind == 0 {
            self.by_path[o.path] += 1;
            self.time_sum += o.time_s as u128;
            self.hist[hist_bin(o.time_s)] += 1;
        }
        let mut bits = o.takeovers;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            self.takeovers[i] += 1;
            bits &= bits - 1;
        }
    }

    fn quantile(&self, q: f64) -> Option<u64> {
        let total = self.outcomes[0];
        if total == 0 {
            return None;
        }
        let want = ((q * total as f64).ceil() as u64).max(1);
        let mut acc = 0;
        for (b, c) in self.hist.iter().enumerate() {
            acc += c;
            if acc >= want {
                return Some(hist_value(b));
            }
        }
        None
    }

    fn to_raw(&self) -> Value {
        let hist: Vec<Value> = self
            .hist
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(b, c)| json!([b, c]))
            .collect();
        json!({
            "n": self.n, "outcomes": self.outcomes, "by_path": self.by_path, "human": self.human,
            "time_sum": self.time_sum.to_string(), "hist": hist, "takeovers": self.takeovers,
        })
    }

    fn from_raw(v: &Value, paths: usize, attackers: usize) -> Option<Tally> {
        let mut t = Tally::zero(paths, attackers);
        t.n = v.get("n")?.as_u64()?;
        let outs = v.get("outcomes")?.as_array()?;
        for (i, o) in outs.iter().enumerate().take(4) {
            t.outcomes[i] = o.as_u64()?;
        }
        let bp = v.get("by_path")?.as_array()?;
        if bp.len() != paths {
            return None;
        }
        for (i, x) in bp.iter().enumerate() {
            t.by_path[i] = x.as_u64()?;
        }
        t.human = v.get("human")?.as_u64()?;
        t.time_sum = v.get("time_sum")?.as_str()?.parse().ok()?;
        for e in v.get("hist")?.as_array()? {
            let b = e.get(0)?.as_u64()? as usize;
            *t.hist.get_mut(b)? += e.get(1)?.as_u64()?;
        }
        let tk = v.get("takeovers")?.as_array()?;
        if tk.len() != attackers {
            return None;
        }
        for (i, x) in tk.iter().enumerate() {
            t.takeovers[i] = x.as_u64()?;
        }
        Some(t)
    }
}

/// An offered path in indices, for fast trials.
pub(crate) struct SimOffer {
    pub path: usize,
    /// Per step: how many must succeed, and the usable methods in listed order.
    pub steps: Vec<(usize, Vec<usize>)>,
    pub wait_s: u64,
    pub notify: Vec<usize>,
}

/// A terminal decision in indices.
pub(crate) struct SimTerminal {
    /// 0 allow, 1 deny, 2 lockout.
    pub kind: u8,
    pub offers: Vec<SimOffer>,
}

/// Everything a trial needs, prepared once.
pub(crate) struct Prepared<'a> {
    pub engine: &'a Engine,
    pub model: &'a Model,
    pub terminals: Vec<SimTerminal>,
    pub people: Vec<model::Person>,
    pub base_values: Vec<i64>,
    pub segment_total: f64,
    /// `[attacker][terminal][offer]`: can the attacker complete that offer at all?
    pub att_possible: Vec<Vec<Vec<bool>>>,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(engine: &'a Engine, model: &'a Model) -> Prepared<'a> {
        let ir = engine.policy().ir();
        let terminals: Vec<SimTerminal> = engine
            .graph()
            .decisions()
            .iter()
            .map(|d| SimTerminal {
                kind: match d.kind() {
                    DecisionKind::Allow => 0,
                    DecisionKind::Deny => 1,
                    DecisionKind::Lockout => 2,
                },
                offers: d
                    .paths()
                    .iter()
                    .map(|o| {
                        let p = &ir.paths[o.path_index()];
                        SimOffer {
                            path: o.path_index(),
                            steps: o
                                .steps()
                                .iter()
                                .zip(&p.steps)
                                .map(|(usable, step)| {
                                    (
                                        step.needed(),
                                        usable
                                            .iter()
                                            .filter_map(|n| ir.method_id(n))
                                            .map(|m| m.index())
                                            .collect(),
                                    )
                                })
                                .collect(),
                            wait_s: p.wait_s,
                            notify: p.notify.iter().map(|m| m.index()).collect(),
                        }
                    })
                    .collect(),
            })
            .collect();
        let att_possible = model
            .attackers
            .iter()
            .map(|a| {
                terminals
                    .iter()
                    .map(|t: &SimTerminal| {
                        t.offers
                            .iter()
                            .map(|o| {
                                o.steps.iter().all(|(needed, ms)| {
                                    ms.iter().filter(|m| a.success[**m] > 0.0).count() >= *needed
                                })
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut base_values: Vec<i64> = ir
            .facts
            .iter()
            .map(|f| f.default.unwrap_or(f.ty.bounds().0))
            .collect();
        for (f, v) in &model.defaults {
            base_values[f.index()] = *v;
        }
        Prepared {
            engine,
            model,
            terminals,
            people: model
                .people
                .iter()
                .map(|p| {
                    p.unwrap_or(model::Person {
                        success: 0.0,
                        time_s: 0,
                    })
                })
                .collect(),
            base_values,
            segment_total: model.segments.iter().map(|s| s.weight).sum(),
            att_possible,
        }
    }

    fn zero_tallies(&self) -> Vec<Tally> {
        let ir = self.engine.policy().ir();
        (0..=self.model.segments.len())
            .map(|_| Tally::zero(ir.paths.len(), self.model.attackers.len()))
            .collect()
    }
}

/// Options of a Monte-Carlo run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Total trials of the whole run (all shards).
    pub trials: u64,
    /// The seed.
    pub seed: u64,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// `(k, n)`: run slice `k` (1-based) of `n`.
    pub shard: Option<(u64, u64)>,
}

/// Why a simulation could not run.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SimError {
    /// The model is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Bad options or shard files.
    #[error("{0}")]
    Usage(String),
}

/// Run a Monte-Carlo simulation; the JSON report of DESIGN.md (shards add `shard` and
/// `raw` for `merge`).
pub fn simulate(
    engine: &Engine,
    model: &Model,
    opts: Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Value, SimError> {
    if opts.trials == 0 {
        return Err(SimError::Usage("--trials must be at least 1".into()));
    }
    let chunks = opts.trials.div_ceil(CHUNK);
    let range = match opts.shard {
        None => 0..chunks,
        Some((k, n)) => {
            if n == 0 || k == 0 || k > n {
                return Err(SimError::Usage(format!(
                    "--shard {k}/{n}: expected K/N with 1 ≤ K ≤ N"
                )));
            }
            (k - 1) * chunks / n..k * chunks / n
        }
    };
    let prep = Prepared::new(engine, model);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| SimError::Usage(format!("cannot start threads: {e}")))?;
    let tallies = pool.install(|| run::run_chunks(&prep, opts.seed, opts.trials, range, progress));
    let mut report = report(engine, model, &tallies, opts.trials, opts.seed);
    if let (Some((k, n)), Some(obj)) = (opts.shard, report.as_object_mut()) {
        obj.insert("shard".into(), json!({"index": k, "of": n}));
        obj.insert(
            "raw".into(),
            Value::Array(tallies.iter().map(Tally::to_raw).collect()),
        );
    }
    Ok(report)
}

/// Combine shard reports into exactly the single-run report.
pub fn merge(engine: &Engine, model: &Model, shards: &[Value]) -> Result<Value, SimError> {
    let ir = engine.policy().ir();
    let first = shards
        .first()
        .ok_or_else(|| SimError::Usage("no shard files given".into()))?;
    let field = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    let (trials, seed, of) = (
        field(first, "trials"),
        field(first, "seed"),
        field(&field(first, "shard"), "of"),
    );
    let of_n = of
        .as_u64()
        .ok_or_else(|| SimError::Usage("not a shard report (no `shard`)".into()))?;
    let mut seen = vec![false; of_n as usize];
    let mut total: Option<Vec<Tally>> = None;
    for s in shards {
        if field(s, "trials") != trials
            || field(s, "seed") != seed
            || field(&field(s, "shard"), "of") != of
        {
            return Err(SimError::Usage(
                "shards come from different runs (trials, seed or shard count differ)".into(),
            ));
        }
        if field(s, "policy") != field(first, "policy") {
            return Err(SimError::Usage(
                "shards come from different policies".into(),
            ));
        }
        let k = field(&field(s, "shard"), "index").as_u64().unwrap_or(0);
        if k == 0 || k > of_n || seen[k as usize - 1] {
            return Err(SimError::Usage(format!(
                "shard {k}/{of_n} is missing its index or given twice"
            )));
        }
        seen[k as usize - 1] = true;
        let raws = field(s, "raw");
        let raws = raws
            .as_array()
            .ok_or_else(|| SimError::Usage("shard has no `raw` tallies".into()))?;
        let tallies: Option<Vec<Tally>> = raws
            .iter()
            .map(|r| Tally::from_raw(r, ir.paths.len(), model.attackers.len()))
            .collect();
        let tallies = tallies
            .filter(|t| t.len() == model.segments.len() + 1)
            .ok_or_else(|| {
                SimError::Usage("shard tallies do not match this policy and model".into())
            })?;
        match &mut total {
            None => total = Some(tallies),
            Some(acc) => acc.iter_mut().zip(&tallies).for_each(|(a, b)| a.add(b)),
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(SimError::Usage(format!(
            "shard {}/{of_n} is missing",
            missing + 1
        )));
    }
    let total = total.unwrap_or_default();
    Ok(report(
        engine,
        model,
        &total,
        trials.as_u64().unwrap_or(0),
        seed.as_u64().unwrap_or(0),
    ))
}

/// Wilson score interval at 95%.
pub fn wilson(k: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    // Exact ends when nothing (or everything) was seen; rounding would leave 1e-22.
    let lo = if k == 0.0 { 0.0 } else { (c - h).max(0.0) };
    let hi = if k == n { 1.0 } else { (c + h).min(1.0) };
    [lo, hi]
}

fn share(k: u64, n: u64) -> Value {
    let s = if n == 0 { 0.0 } else { k as f64 / n as f64 };
    json!({"share": s, "ci95": wilson(k, n)})
}

fn figures(engine: &Engine, model: &Model, t: &Tally) -> Map<String, Value> {
    let ir = engine.policy().ir();
    let n = t.n;
    let mut m = Map::new();
    m.insert("trials".into(), json!(n));
    m.insert(
        "outcomes".into(),
        json!({
            "recovered": share(t.outcomes[0], n),
            "failed": share(t.outcomes[1], n),
            "lockout": share(t.outcomes[2], n),
            "denied": share(t.outcomes[3], n),
        }),
    );
    let by_path: Map<String, Value> = ir
        .paths
        .iter()
        .zip(&t.by_path)
        .map(|(p, c)| {
            (
                p.name.clone(),
                json!(if n == 0 { 0.0 } else { *c as f64 / n as f64 }),
            )
        })
        .collect();
    m.insert("by_path".into(), Value::Object(by_path));
    m.insert("human_review_load".into(), share(t.human, n));
    let rec = t.outcomes[0];
    m.insert(
        "time_to_recover_s".into(),
        json!({
            "mean": if rec == 0 { Value::Null } else { json!(t.time_sum as f64 / rec as f64) },
            "p50": t.quantile(0.5),
            "p95": t.quantile(0.95),
        }),
    );
    let atts: Map<String, Value> = model
        .attackers
        .iter()
        .zip(&t.takeovers)
        .map(|(a, k)| (a.name.clone(), json!({"takeover": share(*k, n)})))
        .collect();
    m.insert("attackers".into(), Value::Object(atts));
    m
}

fn report(engine: &Engine, model: &Model, tallies: &[Tally], trials: u64, seed: u64) -> Value {
    let mut out = Map::new();
    out.insert("policy".into(), json!(engine.policy().ir().name));
    out.insert("exact".into(), json!(false));
    out.insert("seed".into(), json!(seed));
    let total = &tallies[0];
    let mut f = figures(engine, model, total);
    f.insert("trials".into(), json!(trials));
    out.extend(f);
    let segs: Map<String, Value> = model
        .segments
        .iter()
        .zip(&tallies[1..])
        .map(|(s, t)| (s.name.clone(), Value::Object(figures(engine, model, t))))
        .collect();
    out.insert("segments".into(), Value::Object(segs));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_round_trip_within_one_percent() {
        for v in [
            0u64,
            1,
            255,
            256,
            257,
            1000,
            86_400,
            172_800,
            10_000_000,
            u64::MAX / 2,
        ] {
            let b = hist_bin(v);
            assert!(b < HIST_BINS, "{v}");
            let back = hist_value(b);
            assert!(
                back <= v && (v - back) as f64 <= v as f64 / 127.0,
                "{v} -> {back}"
            );
        }
    }

    #[test]
    fn wilson_interval_contains_the_estimate() {
        let [lo, hi] = wilson(50, 100);
        assert!(lo < 0.5 && hi > 0.5 && (hi - lo) < 0.2);
        assert_eq!(wilson(0, 10)[0], 0.0);
    }
}
