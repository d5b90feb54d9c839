//! Risk diff: two versions of a policy on the same people (common random numbers).
//!
//! Each trial samples one person from the model (for OLD's facts; a fact that only NEW
//! has, or whose type changed, is sampled from NEW's model), then the owner and the
//! attackers act on OLD's decision and on NEW's with the same random stream: when both
//! versions decide alike, both outcomes are the same, so the difference of every share
//! is measured on the trials where something changed, with a paired 95% interval.
//! `--exact` gives exact differences.

use serde::{Deserialize, Serialize};

use super::exact::exact_acc;
use super::model::Model;
use super::report::{AttackerFigures, Named, Outcomes, Report, Share, SCHEMA};
use super::run::{self, batched, chunk_rng, chunk_trials, pick_segment, sample, sample_people};
use super::tally::{Kind, Outcome, Tally};
use super::{chunk_range, exact::exact_report, pool, Options, Prepared, SimError};
use crate::Engine;

/// Differences (new − old) of one population's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiffFigures {
    /// Each outcome's share, new − old.
    pub outcomes: Outcomes,
    /// Per path (OLD's paths, then those only NEW has), recovered through it.
    pub by_path: Named<Share>,
    /// Human-review load.
    pub human_review_load: Share,
    /// Takeover per attacker.
    pub attackers: Named<AttackerFigures>,
}

/// `difference`: the whole population, then per segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// The whole population.
    #[serde(flatten)]
    pub figures: DiffFigures,
    /// Per segment.
    pub segments: Named<DiffFigures>,
}

/// `regain simulate OLD --compare NEW --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// `regain.simulate/1`.
    pub schema: String,
    /// OLD's report.
    pub old: Report,
    /// NEW's report (same people, same seed).
    pub new: Report,
    /// New − old with paired 95% intervals (`[d, d]` when exact).
    pub difference: Difference,
}

/// Both versions prepared, with the map from NEW's sampled facts to OLD's.
struct Pair<'a> {
    old: Prepared<'a>,
    new: Prepared<'a>,
    /// Per position of NEW's model order: OLD's fact index to copy, if any.
    copy: Vec<Option<usize>>,
    /// Union of path names: OLD's, then NEW-only.
    paths: Vec<String>,
    /// NEW's path index → union index.
    new_path: Vec<usize>,
}

fn check_same_people(old: &Model, new: &Model) -> Result<(), SimError> {
    let names = |m: &Model| {
        (
            m.attackers
                .iter()
                .map(|a| a.name.clone())
                .collect::<Vec<_>>(),
            m.segments
                .iter()
                .map(|s| (s.name.clone(), s.weight))
                .collect::<Vec<_>>(),
        )
    };
    if names(old) != names(new) {
        return Err(SimError::Usage(
            "the two models must have the same attackers and segments".into(),
        ));
    }
    Ok(())
}

impl<'a> Pair<'a> {
    fn new(
        old: &'a Engine,
        old_model: &'a Model,
        new: &'a Engine,
        new_model: &'a Model,
    ) -> Result<Pair<'a>, SimError> {
        check_same_people(old_model, new_model)?;
        let (oi, ni) = (old.policy().ir(), new.policy().ir());
        let copy = new_model
            .order
            .iter()
            .map(|(f, _)| {
                let nf = ni.facts.get(f.index())?;
                let of = oi.fact_id(&nf.name)?;
                let sampled = old_model.order.iter().any(|(x, _)| *x == of)
                    || old_model.defaults.iter().any(|(x, _)| *x == of);
                (sampled && oi.facts.get(of.index())?.ty == nf.ty).then_some(of.index())
            })
            .collect();
        let mut paths: Vec<String> = oi.paths.iter().map(|p| p.name.clone()).collect();
        let mut new_path = Vec::new();
        for p in &ni.paths {
            match paths.iter().position(|x| *x == p.name) {
                Some(i) => new_path.push(i),
                None => {
                    paths.push(p.name.clone());
                    new_path.push(paths.len() - 1);
                }
            }
        }
        Ok(Pair {
            old: Prepared::new(old, old_model),
            new: Prepared::new(new, new_model),
            copy,
            paths,
            new_path,
        })
    }

    /// The binary figures of one outcome: outcomes, human, paths (union), attackers.
    fn bits(&self, o: &Outcome, path_map: Option<&[usize]>, out: &mut Vec<bool>) {
        out.clear();
        for k in [Kind::Recovered, Kind::Failed, Kind::Lockout, Kind::Denied] {
            out.push(o.kind == k);
        }
        out.push(o.human);
        let via = (o.kind == Kind::Recovered).then(|| match path_map {
            Some(m) => m.get(o.path.index()).copied().unwrap_or(usize::MAX),
            None => o.path.index(),
        });
        out.extend((0..self.paths.len()).map(|p| via == Some(p)));
        out.extend((0..self.old.attacker_names.len()).map(|a| o.takeovers >> a & 1 == 1));
    }
}

/// Paired counts of one population.
#[derive(Clone, Debug)]
struct PairTally {
    old: Tally,
    new: Tally,
    /// Per binary figure: (old only, new only).
    flips: Vec<(u64, u64)>,
}

impl PairTally {
    fn add(&mut self, o: &PairTally) {
        self.old.add(&o.old);
        self.new.add(&o.new);
        for (a, b) in self.flips.iter_mut().zip(&o.flips) {
            a.0 += b.0;
            a.1 += b.1;
        }
    }

    fn diff(&self, pair: &Pair<'_>) -> DiffFigures {
        let n = self.old.n;
        let share = |i: usize| {
            let (a, b) = self.flips.get(i).copied().unwrap_or((0, 0));
            paired(a, b, n)
        };
        let np = pair.paths.len();
        DiffFigures {
            outcomes: Outcomes {
                recovered: share(0),
                failed: share(1),
                lockout: share(2),
                denied: share(3),
            },
            human_review_load: share(4),
            by_path: Named(
                pair.paths
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.clone(), share(5 + i)))
                    .collect(),
            ),
            attackers: Named(
                pair.old
                    .attacker_names
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        (
                            a.clone(),
                            AttackerFigures {
                                takeover: share(5 + np + i),
                            },
                        )
                    })
                    .collect(),
            ),
        }
    }
}

/// Mean difference of paired indicators (`a` trials 1 → 0, `b` trials 0 → 1 of `n`) with
/// its normal 95% interval.
fn paired(a: u64, b: u64, n: u64) -> Share {
    if n == 0 {
        return Share::exact(0.0);
    }
    let nf = n as f64;
    let d = (b as f64 - a as f64) / nf;
    let var = (((a + b) as f64 / nf) - d * d).max(0.0) / nf;
    let h = 1.959_963_984_540_054 * var.sqrt();
    Share {
        share: d,
        ci95: [(d - h).max(-1.0), (d + h).min(1.0)],
    }
}

/// Monte-Carlo on common random numbers.
pub fn compare(
    old: &Engine,
    old_model: &Model,
    new: &Engine,
    new_model: &Model,
    opts: Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Comparison, SimError> {
    let opts = Options {
        shard: None,
        ..opts
    };
    let range = chunk_range(&opts)?;
    let pair = Pair::new(old, old_model, new, new_model)?;
    let nbits = 5 + pair.paths.len() + pair.old.attacker_names.len();
    let zero = || -> Vec<PairTally> {
        pair.old
            .zero_tallies()
            .into_iter()
            .zip(pair.new.zero_tallies())
            .map(|(o, n)| PairTally {
                old: o,
                new: n,
                flips: vec![(0, 0); nbits],
            })
            .collect()
    };
    let add = |a: &mut Vec<PairTally>, b: &Vec<PairTally>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.add(y);
        }
    };
    let body = |c: u64, acc: &mut Vec<PairTally>| {
        let n = chunk_trials(c, opts.trials);
        run_pair_chunk(&pair, opts.seed, c, n, acc);
        progress(n);
    };
    let tallies = pool(opts.threads)?.install(|| batched(range, &zero, &add, &body));
    let olds: Vec<Tally> = tallies.iter().map(|t| t.old.clone()).collect();
    let news: Vec<Tally> = tallies.iter().map(|t| t.new.clone()).collect();
    let (total, segs) = tallies
        .split_first()
        .ok_or_else(|| SimError::Usage("no tallies".into()))?;
    Ok(Comparison {
        schema: SCHEMA.into(),
        old: pair.old.report(&olds, opts.trials, opts.seed),
        new: pair.new.report(&news, opts.trials, opts.seed),
        difference: Difference {
            figures: total.diff(&pair),
            segments: Named(
                pair.old
                    .segment_names
                    .iter()
                    .zip(segs)
                    .map(|(s, t)| (s.clone(), t.diff(&pair)))
                    .collect(),
            ),
        },
    })
}

fn run_pair_chunk(pair: &Pair<'_>, seed: u64, chunk: u64, n: u64, tallies: &mut [PairTally]) {
    let (op, np) = (&pair.old, &pair.new);
    let mut people = chunk_rng(seed, chunk);
    let mut rng = chunk_rng(seed ^ run::BEHAVIOUR, chunk);
    let mut extra = chunk_rng(seed ^ run::EXTRA, chunk);
    let mut ov = op.base_values.clone();
    let mut nv = np.base_values.clone();
    let mut oc = vec![0u32; ov.len()];
    let mut nc = vec![0u32; nv.len()];
    let (mut ob, mut nb) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let seg = pick_segment(op.model, op.segment_total, &mut people);
        sample_people(op.model, seg, &mut people, &mut ov);
        op.engine.classify_into(&ov, &mut oc);
        // NEW acts on the same behaviour stream as OLD in this trial.
        let mut rng2 = rng.clone();
        let o_old = run::trial(op, seg, run::Notify::Values(&ov), &oc, &mut rng);
        let overrides = seg
            .and_then(|s| np.model.segments.get(s))
            .map(|s| s.overrides.as_slice());
        for (pos, (fact, dist)) in np.model.order.iter().enumerate() {
            let v = match pair.copy.get(pos).copied().flatten() {
                Some(of) => ov.get(of).copied().unwrap_or(0),
                None => {
                    let d = overrides
                        .and_then(|o| o.get(pos))
                        .and_then(Option::as_ref)
                        .unwrap_or(dist);
                    sample(d, &mut extra, &nv)
                }
            };
            if let Some(slot) = nv.get_mut(fact.index()) {
                *slot = v;
            }
        }
        np.engine.classify_into(&nv, &mut nc);
        let o_new = run::trial(np, seg, run::Notify::Values(&nv), &nc, &mut rng2);
        pair.bits(&o_old, None, &mut ob);
        pair.bits(&o_new, Some(&pair.new_path), &mut nb);
        for i in [Some(0), seg.map(|s| s + 1)].into_iter().flatten() {
            let Some(t) = tallies.get_mut(i) else {
                continue;
            };
            t.old.record(&o_old);
            t.new.record(&o_new);
            for ((f, a), b) in t.flips.iter_mut().zip(&ob).zip(&nb) {
                match (a, b) {
                    (true, false) => f.0 += 1,
                    (false, true) => f.1 += 1,
                    _ => {}
                }
            }
        }
    }
}

/// Exact differences.
pub fn compare_exact(
    old: &Engine,
    old_model: &Model,
    new: &Engine,
    new_model: &Model,
) -> Result<Comparison, SimError> {
    let pair = Pair::new(old, old_model, new, new_model)?;
    let oa = exact_acc(old, old_model)?;
    let na = exact_acc(new, new_model)?;
    let diff = |o: &super::exact::Acc, n: &super::exact::Acc| {
        let d = |a: f64, b: f64| Share::exact(b - a);
        let path = |i: usize| {
            let a = o.by_path.get(i).copied().unwrap_or(0.0);
            let b = pair
                .new_path
                .iter()
                .enumerate()
                .filter(|(_, u)| **u == i)
                .map(|(k, _)| n.by_path.get(k).copied().unwrap_or(0.0))
                .sum();
            d(a, b)
        };
        DiffFigures {
            outcomes: Outcomes {
                recovered: d(o.outcomes[0], n.outcomes[0]),
                failed: d(o.outcomes[1], n.outcomes[1]),
                lockout: d(o.outcomes[2], n.outcomes[2]),
                denied: d(o.outcomes[3], n.outcomes[3]),
            },
            by_path: Named(
                pair.paths
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.clone(), path(i)))
                    .collect(),
            ),
            human_review_load: d(o.human, n.human),
            attackers: Named(
                pair.old
                    .attacker_names
                    .iter()
                    .zip(o.takeovers.iter().zip(&n.takeovers))
                    .map(|(a, (x, y))| {
                        (
                            a.clone(),
                            AttackerFigures {
                                takeover: d(*x, *y),
                            },
                        )
                    })
                    .collect(),
            ),
        }
    };
    let (Some((ot, os)), Some((nt, ns))) = (oa.split_first(), na.split_first()) else {
        return Err(SimError::Usage("no figures".into()));
    };
    Ok(Comparison {
        schema: SCHEMA.into(),
        old: exact_report(&pair.old, &oa),
        new: exact_report(&pair.new, &na),
        difference: Difference {
            figures: diff(ot, nt),
            segments: Named(
                pair.old
                    .segment_names
                    .iter()
                    .zip(os.iter().zip(ns))
                    .map(|(s, (a, b))| (s.clone(), diff(a, b)))
                    .collect(),
            ),
        },
    })
}
