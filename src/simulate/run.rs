//! Monte-Carlo: sample a profile, evaluate the decision graph, let the owner and each
//! attacker try the offered paths. Trials run in fixed chunks with their own seeded
//! generators, so results do not depend on the thread count; tallies are integers, so
//! merging chunks (or shards) in any order gives the same totals.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::model::{Dist, Model};
use super::{Prepared, Tally, CHUNK};

/// A uniform float in [0, 1).
#[inline]
fn unit(rng: &mut Xoshiro256PlusPlus) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[inline]
fn below(rng: &mut Xoshiro256PlusPlus, n: u64) -> u64 {
    // Lemire's multiply-shift; the tiny bias is irrelevant at these ranges.
    ((rng.next_u64() as u128 * n as u128) >> 64) as u64
}

fn sample(d: &Dist, rng: &mut Xoshiro256PlusPlus, values: &[i64]) -> i64 {
    match d {
        Dist::Const(v) => *v,
        Dist::Bernoulli(p) => (unit(rng) < *p) as i64,
        Dist::Uniform(a, b) => {
            // `hi - lo + 1` in wrapping u64 arithmetic: exact for every lo ≤ hi, and 0 only
            // for the full i64 range, where any 64 random bits will do.
            let span = (b.wrapping_sub(*a) as u64).wrapping_add(1);
            if span == 0 {
                rng.next_u64() as i64
            } else {
                a.wrapping_add(below(rng, span) as i64)
            }
        }
        Dist::Weights(ws) => {
            let mut x = unit(rng);
            for (v, w) in ws {
                if x < *w {
                    return *v;
                }
                x -= w;
            }
            ws.last().map_or(0, |w| w.0)
        }
        Dist::Cond {
            when,
            then,
            otherwise,
        } => {
            if when.eval(values) {
                sample(then, rng, values)
            } else {
                sample(otherwise, rng, values)
            }
        }
    }
}

/// The chunk's generator: a SplitMix64-expanded seed from (seed, chunk index).
pub(crate) fn chunk_rng(seed: u64, chunk: u64) -> Xoshiro256PlusPlus {
    let mut z = seed ^ chunk.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Xoshiro256PlusPlus::seed_from_u64(z ^ (z >> 31))
}

/// Run chunks `chunks` of a `trials`-trial run.
pub(crate) fn run_chunks(
    prep: &Prepared<'_>,
    seed: u64,
    trials: u64,
    chunks: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Tally> {
    let zero = || prep.zero_tallies();
    let add = |mut a: Vec<Tally>, b: Vec<Tally>| {
        for (x, y) in a.iter_mut().zip(&b) {
            x.add(y);
        }
        a
    };
    // Batches of a fixed number of chunks, reduced in parallel and added to one
    // accumulator: the number of tallies alive at once does not depend on the trials.
    let batch = (rayon::current_num_threads() as u64 * 4).max(1);
    let mut acc = zero();
    let mut start = chunks.start;
    while start < chunks.end {
        let end = (start + batch).min(chunks.end);
        let part = (start..end)
            .into_par_iter()
            .fold(zero, |mut acc, c| {
                let first = c * CHUNK;
                let n = CHUNK.min(trials.saturating_sub(first));
                run_chunk(prep, seed, c, n, &mut acc);
                progress(n);
                acc
            })
            .reduce(zero, add);
        acc = add(acc, part);
        start = end;
    }
    acc
}

/// Run one chunk's trials, adding to `tallies` (total first, then one per segment).
fn run_chunk(prep: &Prepared<'_>, seed: u64, chunk: u64, n: u64, tallies: &mut [Tally]) {
    let model: &Model = prep.model;
    let mut rng = chunk_rng(seed, chunk);
    let mut values = prep.base_values.clone();
    let mut classes = vec![0u32; values.len()];
    let nseg = model.segments.len();
    for _ in 0..n {
        let seg = if nseg == 0 {
            None
        } else {
            let mut x = unit(&mut rng) * prep.segment_total;
            let mut s = nseg - 1;
            for (i, sg) in model.segments.iter().enumerate() {
                if x < sg.weight {
                    s = i;
                    break;
                }
                x -= sg.weight;
            }
            Some(s)
        };
        for (pos, (fact, dist)) in model.order.iter().enumerate() {
            let d = seg
                .and_then(|s| model.segments[s].overrides[pos].as_ref())
                .unwrap_or(dist);
            values[fact.index()] = sample(d, &mut rng, &values);
        }
        prep.engine.classify_into(&values, &mut classes);
        let outcome = trial(prep, &values, &classes, &mut rng);
        tallies[0].record(&outcome);
        if let Some(s) = seg {
            tallies[s + 1].record(&outcome);
        }
    }
}

impl Outcome {
    /// A trial decided before anyone tried a path (deny, lockout).
    fn settled(kind: u8) -> Outcome {
        Outcome {
            kind,
            path: 0,
            human: false,
            time_s: 0,
            takeovers: 0,
        }
    }
}

/// What happened in one trial.
pub(crate) struct Outcome {
    pub kind: u8, // 0 recovered, 1 failed, 2 lockout, 3 denied
    pub path: usize,
    pub human: bool,
    pub time_s: u64,
    pub takeovers: u64, // bit per attacker (up to 64)
}

fn trial(
    prep: &Prepared<'_>,
    values: &[i64],
    classes: &[u32],
    rng: &mut Xoshiro256PlusPlus,
) -> Outcome {
    let model = prep.model;
    let Some(t) = prep.engine.terminal_of_classes(classes) else {
        // Cannot happen for sampled values inside their domains; count it as denied.
        return Outcome::settled(3);
    };
    let term = &prep.terminals[t];
    match term.kind {
        1 => return Outcome::settled(3),
        2 => return Outcome::settled(2),
        _ => {}
    }
    // The owner.
    let mut time = 0u64;
    let mut human = false;
    let mut recovered = None;
    for offer in &term.offers {
        let mut ok = true;
        for (needed, methods) in &offer.steps {
            let mut got = 0usize;
            for m in methods {
                let person = prep.people[*m];
                time = time.saturating_add(person.time_s);
                human |= model.human[*m];
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
                    let p = att.success[*m];
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
            let notified = offer.wait_s > 0
                && offer
                    .notify
                    .iter()
                    .any(|m| prep.engine.policy().ir().methods[*m].requires.eval(values));
            let stopped = notified && unit(rng) < att.stopped_when_notified;
            if !stopped && ai < 64 {
                takeovers |= 1 << ai;
            }
            break;
        }
    }
    match recovered {
        Some(path) => Outcome {
            kind: 0,
            path,
            human,
            time_s: time,
            takeovers,
        },
        None => Outcome {
            kind: 1,
            path: 0,
            human,
            time_s: 0,
            takeovers,
        },
    }
}
