//! Monte-Carlo: sample a profile, evaluate the decision graph, let the owner and each
//! attacker try the offered paths. Trials run in fixed chunks with their own seeded
//! generators, so results do not depend on the thread count; tallies are integers, so
//! merging chunks (or shards) in any order gives the same totals.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::model::{Dist, Model};
use super::tally::{Kind, Outcome, Tally};
use super::{Prepared, CHUNK};
use crate::check::ir::PathId;
use crate::decision::DecisionKind;

/// The generator of one chunk.
pub(crate) type Rng = Xoshiro256PlusPlus;

/// A uniform float in [0, 1).
#[inline]
pub(crate) fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[inline]
fn below(rng: &mut Rng, n: u64) -> u64 {
    // Lemire's multiply-shift; the tiny bias is irrelevant at these ranges.
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u64
}

/// Sample one value of `d` (conditions read the values sampled so far).
pub(crate) fn sample(d: &Dist, rng: &mut Rng, values: &[i64]) -> i64 {
    let mut d = d;
    // Conditionals are followed iteratively (a chain of `else` may be long).
    loop {
        match d {
            Dist::Const(v) => return *v,
            Dist::Bernoulli(p) => return i64::from(unit(rng) < *p),
            Dist::Uniform(a, b) => {
                // `hi - lo + 1` in wrapping u64 arithmetic: exact for every lo ≤ hi, and
                // 0 only for the full i64 range, where any 64 random bits will do.
                let span = (b.wrapping_sub(*a) as u64).wrapping_add(1);
                return if span == 0 {
                    rng.next_u64() as i64
                } else {
                    a.wrapping_add(below(rng, span) as i64)
                };
            }
            Dist::Weights(ws) => {
                let mut x = unit(rng);
                for (v, w) in ws {
                    if x < *w {
                        return *v;
                    }
                    x -= w;
                }
                return ws.last().map_or(0, |w| w.0);
            }
            Dist::Cond {
                when,
                then,
                otherwise,
            } => {
                d = if when.eval(values) { then } else { otherwise };
            }
        }
    }
}

/// The chunk's generator: a SplitMix64-expanded seed from (seed, chunk index).
pub(crate) fn chunk_rng(seed: u64, chunk: u64) -> Rng {
    let mut z = seed ^ chunk.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31))
}

/// Salts of a chunk's other streams: the people are drawn from the chunk's own stream,
/// what they and the attackers do from the behaviour stream, so that every version of a
/// policy (sweep rows, `--compare`) meets the same people whatever happens in the trials.
pub(crate) const BEHAVIOUR: u64 = 0x5EED_0000_BEAF_0001;
/// The stream of facts that only the newer version of a compared policy has.
pub(crate) const EXTRA: u64 = 0x5EED_0000_BEAF_0002;

/// Pick a trial's segment by weight (`None` without segments).
pub(crate) fn pick_segment(model: &Model, total: f64, rng: &mut Rng) -> Option<usize> {
    let nseg = model.segments.len();
    if nseg == 0 {
        return None;
    }
    let mut x = unit(rng) * total;
    for (i, sg) in model.segments.iter().enumerate() {
        if x < sg.weight {
            return Some(i);
        }
        x -= sg.weight;
    }
    Some(nseg - 1)
}

/// Sample every listed fact of a trial into `values`.
pub(crate) fn sample_people(model: &Model, seg: Option<usize>, rng: &mut Rng, values: &mut [i64]) {
    let overrides = seg
        .and_then(|s| model.segments.get(s))
        .map(|s| s.overrides.as_slice());
    for (pos, (fact, dist)) in model.order.iter().enumerate() {
        let d = overrides
            .and_then(|o| o.get(pos))
            .and_then(Option::as_ref)
            .unwrap_or(dist);
        let v = sample(d, rng, values);
        if let Some(slot) = values.get_mut(fact.index()) {
            *slot = v;
        }
    }
}

/// Run `body` over chunks `chunks` in parallel, folding per-worker accumulators in fixed
/// batches (the number alive at once does not depend on the trials) and adding them in
/// an order-independent way.
pub(crate) fn batched<T: Send>(
    chunks: std::ops::Range<u64>,
    zero: &(dyn Fn() -> T + Sync),
    add: &(dyn Fn(&mut T, &T) + Sync),
    body: &(dyn Fn(u64, &mut T) + Sync),
) -> T {
    let batch = (rayon::current_num_threads() as u64 * 4).max(1);
    let mut acc = zero();
    let mut start = chunks.start;
    while start < chunks.end {
        let end = start.saturating_add(batch).min(chunks.end);
        let part = (start..end)
            .into_par_iter()
            .fold(zero, |mut acc, c| {
                body(c, &mut acc);
                acc
            })
            .reduce(zero, |mut a, b| {
                add(&mut a, &b);
                a
            });
        add(&mut acc, &part);
        start = end;
    }
    acc
}

/// Trials in chunk `c` of a `trials`-trial run.
pub(crate) fn chunk_trials(c: u64, trials: u64) -> u64 {
    CHUNK.min(trials.saturating_sub(c.saturating_mul(CHUNK)))
}

/// How a run draws its people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sampling {
    /// A (mixture component, terminal decision) pair from one alias table: one draw per
    /// person. When the table would be too large: a mixture component, then one value
    /// class per fact the graph tests, and a walk of the graph; when the mixture is too
    /// large: [`Sampling::Values`].
    Decisions,
    /// A mixture component, then one value class per fact the graph tests, and a walk of
    /// the graph: versions of a policy with the same tests (sweep rows) meet the same
    /// people even when their decisions differ.
    Classes,
    /// Every fact's value in model order, classified and walked: the reference the
    /// faster samplers are tested against.
    Values,
}

/// The most (component, terminal) pairs [`Sampling::Decisions`] tabulates.
const MAX_PAIRS: usize = 1 << 22;

/// Walker's alias table over (component, terminal) pairs.
pub(crate) struct DecisionSampler {
    /// Per slot: the chance (scaled to 2⁶⁴) of keeping the slot, else its alias.
    keep: Vec<u64>,
    alias: Vec<u32>,
    /// Per slot: (component, terminal).
    pairs: Vec<(u32, u32)>,
    /// Per component: segment and per-path notification.
    comps: Vec<(Option<usize>, Vec<bool>)>,
}

impl DecisionSampler {
    pub(crate) fn new(prep: &Prepared<'_>) -> Option<DecisionSampler> {
        let mix = super::exact::mixture(prep.model, prep.engine).ok()?;
        let mut pairs = Vec::new();
        let mut weights = Vec::new();
        let mut comps = Vec::with_capacity(mix.components.len());
        for (ci, comp) in mix.components.into_iter().enumerate() {
            let probs = super::exact::Mixture::terminal_probs(prep.engine, &comp);
            for (t, p) in probs.iter().enumerate() {
                let w = comp.weight * p;
                if w > 0.0 {
                    pairs.push((u32::try_from(ci).ok()?, u32::try_from(t).ok()?));
                    weights.push(w);
                }
            }
            if pairs.len() > MAX_PAIRS {
                return None;
            }
            comps.push((comp.segment, comp.notified));
        }
        let n = weights.len();
        if n == 0 {
            return None;
        }
        let total: f64 = weights.iter().sum();
        // Vose's method.
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|i| scaled.get(*i).is_some_and(|x| *x < 1.0));
        while let (Some(s), Some(l)) = (small.pop(), large.last().copied()) {
            let (Some(xs), Some(a)) = (scaled.get(s).copied(), alias.get_mut(s)) else {
                return None;
            };
            *a = l as u32;
            let xl = scaled.get_mut(l)?;
            *xl -= 1.0 - xs;
            if *xl < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in large.into_iter().chain(small) {
            *scaled.get_mut(i)? = 1.0;
        }
        let keep = scaled
            .iter()
            .map(|x| {
                if *x >= 1.0 {
                    u64::MAX
                } else {
                    (x * 18_446_744_073_709_551_616.0) as u64
                }
            })
            .collect();
        Some(DecisionSampler {
            keep,
            alias,
            pairs,
            comps,
        })
    }

    /// One person: (component, terminal) from a single 64-bit draw.
    #[inline]
    fn draw(&self, rng: &mut Rng) -> Option<(u32, u32)> {
        let prod = u128::from(rng.next_u64()) * self.keep.len() as u128;
        let slot = (prod >> 64) as usize;
        let coin = prod as u64;
        let i = if coin < *self.keep.get(slot)? {
            slot
        } else {
            *self.alias.get(slot)? as usize
        };
        self.pairs.get(i).copied()
    }
}

/// Run chunks `chunks` of a `trials`-trial run.
pub(crate) fn run_chunks(
    prep: &Prepared<'_>,
    sampling: Sampling,
    seed: u64,
    trials: u64,
    chunks: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Tally> {
    if sampling == Sampling::Decisions {
        if let Some(d) = DecisionSampler::new(prep) {
            return run_chunks_by_decision(prep, &d, seed, trials, chunks, progress);
        }
    }
    let sampler = match sampling {
        Sampling::Values => None,
        Sampling::Decisions | Sampling::Classes => ClassSampler::new(prep).ok(),
    };
    let Some(sampler) = sampler else {
        return run_chunks_by_value(prep, seed, trials, chunks, progress);
    };
    let zero = || prep.zero_tallies();
    let add = |a: &mut Vec<Tally>, b: &Vec<Tally>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.add(y);
        }
    };
    let body = |c: u64, acc: &mut Vec<Tally>| {
        let n = chunk_trials(c, trials);
        run_chunk(prep, &sampler, seed, c, n, acc);
        progress(n);
    };
    batched(chunks, &zero, &add, &body)
}

fn run_chunks_by_decision(
    prep: &Prepared<'_>,
    d: &DecisionSampler,
    seed: u64,
    trials: u64,
    chunks: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Tally> {
    let zero = || prep.zero_tallies();
    let add = |a: &mut Vec<Tally>, b: &Vec<Tally>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.add(y);
        }
    };
    let body = |c: u64, acc: &mut Vec<Tally>| {
        let n = chunk_trials(c, trials);
        let mut people = chunk_rng(seed, c);
        let mut rng = chunk_rng(seed ^ BEHAVIOUR, c);
        for _ in 0..n {
            let Some((ci, t)) = d.draw(&mut people) else {
                continue;
            };
            let Some((seg, notified)) = d.comps.get(ci as usize) else {
                continue;
            };
            let outcome = trial_at(prep, *seg, Notify::Known(notified), t as usize, &mut rng);
            record(acc, *seg, &outcome);
        }
        progress(n);
    };
    batched(chunks, &zero, &add, &body)
}

/// Like [`run_chunks`], sampling values fact by fact (when the model's conditions split
/// the population into too many mixture components to sample classes).
fn run_chunks_by_value(
    prep: &Prepared<'_>,
    seed: u64,
    trials: u64,
    chunks: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Tally> {
    let zero = || prep.zero_tallies();
    let add = |a: &mut Vec<Tally>, b: &Vec<Tally>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.add(y);
        }
    };
    let body = |c: u64, acc: &mut Vec<Tally>| {
        let n = chunk_trials(c, trials);
        let model: &Model = prep.model;
        let mut people = chunk_rng(seed, c);
        let mut rng = chunk_rng(seed ^ BEHAVIOUR, c);
        let mut values = prep.base_values.clone();
        let mut classes = vec![0u32; values.len()];
        for _ in 0..n {
            let seg = pick_segment(model, prep.segment_total, &mut people);
            sample_people(model, seg, &mut people, &mut values);
            prep.engine.classify_into(&values, &mut classes);
            let outcome = trial(prep, seg, Notify::Values(&values), &classes, &mut rng);
            record(acc, seg, &outcome);
        }
        progress(n);
    };
    batched(chunks, &zero, &add, &body)
}

/// The population seen through the graph's value classes, ready to sample: a trial
/// draws a mixture component, then one class per fact the graph tests (DESIGN.md's
/// "sample value classes instead of values": no conditions, no classification).
pub(crate) struct ClassSampler {
    /// Cumulative component weights.
    cum: Vec<f64>,
    comps: Vec<CompTable>,
    /// Facts the graph tests.
    tested: Vec<usize>,
}

struct CompTable {
    segment: Option<usize>,
    /// Per tested fact (same order as `tested`): cumulative class probabilities, or a
    /// single class (no draw).
    facts: Vec<FactTable>,
    /// Per path: notified (a wait and a usable notify method).
    notified: Vec<bool>,
}

enum FactTable {
    One(u32),
    Cum(Vec<f64>),
}

impl ClassSampler {
    pub(crate) fn new(prep: &Prepared<'_>) -> Result<ClassSampler, super::SimError> {
        let mix = super::exact::mixture(prep.model, prep.engine)?;
        let c = &prep.engine.graph().c;
        let mut tested: Vec<usize> = c.nodes.iter().map(|n| n.fact as usize).collect();
        tested.sort_unstable();
        tested.dedup();
        let mut cum = Vec::with_capacity(mix.components.len());
        let mut acc = 0.0;
        let mut comps = Vec::with_capacity(mix.components.len());
        for comp in mix.components.into_iter().filter(|c| c.weight > 0.0) {
            acc += comp.weight;
            cum.push(acc);
            let facts = tested
                .iter()
                .map(|f| {
                    let ps = comp.class_probs.get(*f).map_or(&[][..], Vec::as_slice);
                    let positive: Vec<usize> = (0..ps.len())
                        .filter(|k| ps.get(*k).is_some_and(|p| *p > 0.0))
                        .collect();
                    match positive.as_slice() {
                        [k] => FactTable::One(*k as u32),
                        _ => {
                            let mut a = 0.0;
                            FactTable::Cum(
                                ps.iter()
                                    .map(|p| {
                                        a += p;
                                        a
                                    })
                                    .collect(),
                            )
                        }
                    }
                })
                .collect();
            comps.push(CompTable {
                segment: comp.segment,
                facts,
                notified: comp.notified,
            });
        }
        Ok(ClassSampler { cum, comps, tested })
    }

    /// Draw one person's classes; returns the component.
    #[inline]
    fn draw(&self, rng: &mut Rng, classes: &mut [u32]) -> Option<&CompTable> {
        let total = self.cum.last().copied().unwrap_or(1.0);
        let x = unit(rng) * total;
        let i = self
            .cum
            .partition_point(|c| *c <= x)
            .min(self.comps.len().saturating_sub(1));
        let comp = self.comps.get(i)?;
        for (f, t) in self.tested.iter().zip(&comp.facts) {
            let class = match t {
                FactTable::One(k) => *k,
                FactTable::Cum(cum) => {
                    let y = unit(rng) * cum.last().copied().unwrap_or(1.0);
                    let k = cum.partition_point(|c| *c <= y);
                    // Rounding can leave y at the very top: take the last likely class.
                    let k = if k >= cum.len() {
                        let mut k = cum.len().saturating_sub(1);
                        while k > 0 && cum.get(k) == cum.get(k - 1) {
                            k -= 1;
                        }
                        k
                    } else {
                        k
                    };
                    k as u32
                }
            };
            if let Some(slot) = classes.get_mut(*f) {
                *slot = class;
            }
        }
        Some(comp)
    }
}

/// Run one chunk's trials, adding to `tallies` (total first, then one per segment).
fn run_chunk(
    prep: &Prepared<'_>,
    sampler: &ClassSampler,
    seed: u64,
    chunk: u64,
    n: u64,
    tallies: &mut [Tally],
) {
    let mut people = chunk_rng(seed, chunk);
    let mut rng = chunk_rng(seed ^ BEHAVIOUR, chunk);
    let mut classes = vec![0u32; prep.base_values.len()];
    for _ in 0..n {
        let Some(comp) = sampler.draw(&mut people, &mut classes) else {
            continue;
        };
        let seg = comp.segment;
        let outcome = trial(prep, seg, Notify::Known(&comp.notified), &classes, &mut rng);
        record(tallies, seg, &outcome);
    }
}

/// How a trial learns whether a path's notify methods are usable.
#[derive(Clone, Copy)]
pub(crate) enum Notify<'a> {
    /// From the sampled values.
    Values(&'a [i64]),
    /// Per path, known for the person's mixture component.
    Known(&'a [bool]),
}

/// Record a trial in the total and its segment's tally.
pub(crate) fn record(tallies: &mut [Tally], seg: Option<usize>, o: &Outcome) {
    if let Some(t) = tallies.first_mut() {
        t.record(o);
    }
    if let Some(t) = seg.and_then(|s| tallies.get_mut(s + 1)) {
        t.record(o);
    }
}

/// One trial of the owner and every attacker on the decision for `classes`.
#[allow(
    clippy::indexing_slicing,
    reason = "hot path: terminal, method, attacker and path indices come from the prepared tables built from this engine and model"
)]
pub(crate) fn trial(
    prep: &Prepared<'_>,
    seg: Option<usize>,
    notify: Notify<'_>,
    classes: &[u32],
    rng: &mut Rng,
) -> Outcome {
    let Some(t) = prep.engine.terminal_of_classes(classes) else {
        // Cannot happen for sampled values inside their domains; count it as denied.
        return Outcome::settled(Kind::Denied);
    };
    trial_at(prep, seg, notify, t, rng)
}

/// One trial of the owner and every attacker on terminal decision `t`.
#[allow(
    clippy::indexing_slicing,
    reason = "hot path: terminal, method, attacker and path indices come from the prepared tables built from this engine and model"
)]
pub(crate) fn trial_at(
    prep: &Prepared<'_>,
    seg: Option<usize>,
    notify: Notify<'_>,
    t: usize,
    rng: &mut Rng,
) -> Outcome {
    let model = prep.model;
    let term = &prep.terminals[t];
    match term.kind {
        DecisionKind::Deny => return Outcome::settled(Kind::Denied),
        DecisionKind::Lockout => return Outcome::settled(Kind::Lockout),
        DecisionKind::Allow => {}
    }
    let gives_up = prep.gives_up[seg.map_or(0, |s| s + 1)];
    // The owner.
    let mut time = 0u64;
    let mut human = false;
    let mut recovered = None;
    for offer in &term.offers {
        let mut ok = true;
        for (needed, methods) in &offer.steps {
            let mut got = 0usize;
            for m in methods {
                let person = prep.people[m.index()];
                time = time.saturating_add(person.time_s);
                human |= model.human[m.index()];
                if unit(rng) < person.success {
                    got += 1;
                    if got == *needed {
                        break;
                    }
                }
            }
            if got < *needed {
                ok = false;
                break;
            }
        }
        // A wait longer than the owner will sit out: the path is abandoned.
        if ok && gives_up.is_some_and(|g| offer.wait_s > g) {
            ok = false;
        }
        if ok {
            time = time.saturating_add(offer.wait_s);
            recovered = Some(offer.path);
            break;
        }
    }
    // The attackers.
    let mut takeovers = 0u64;
    for (ai, att) in model.attackers.iter().enumerate() {
        for (oi, offer) in term.offers.iter().enumerate() {
            if !prep.att_possible[ai][t][oi] {
                continue;
            }
            let done = offer.steps.iter().all(|(needed, methods)| {
                let mut got = 0usize;
                for m in methods {
                    let p = att.success[m.index()];
                    if p > 0.0 && unit(rng) < p {
                        got += 1;
                        if got == *needed {
                            return true;
                        }
                    }
                }
                false
            });
            if !done {
                continue;
            }
            // Drawn whether or not anyone is notified, so that two versions of a policy
            // compared on the same stream stay aligned (common random numbers).
            let u = unit(rng);
            let stop = prep.att_stop[ai][offer.path.index()];
            let stopped = u < stop
                && match notify {
                    Notify::Values(values) => prep.notified(offer, values),
                    Notify::Known(known) => known[offer.path.index()],
                };
            if !stopped && ai < 64 {
                takeovers |= 1 << ai;
            }
            break;
        }
    }
    match recovered {
        Some(path) => Outcome {
            kind: Kind::Recovered,
            path,
            human,
            time_s: time,
            takeovers,
        },
        None => Outcome {
            kind: Kind::Failed,
            path: PathId(0),
            human,
            time_s: 0,
            takeovers,
        },
    }
}
