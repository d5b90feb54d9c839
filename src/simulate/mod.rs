//! The simulator: a population model × the decision graph × owner and attacker models.
//!
//! [`simulate`] runs seeded Monte-Carlo trials in parallel (identical results at any
//! thread count, memory flat in the number of trials); [`exact::exact`] computes the same
//! shares and the mean time without sampling, from the population as a [`Mixture`] of
//! product measures; shards of a run merge into exactly the single-run result
//! ([`merge`], [`parse_shard`]); [`compare`] runs two versions on the same people and
//! [`sweep`] a grid of settings.
//!
//! How people move through the paths (DESIGN.md "Simulation model"): the owner tries the
//! offered paths in order; a plain step succeeds with the method's chance, an `any N of`
//! step tries the usable methods in listed order until N succeed; every attempt adds its
//! time; a completed path whose `wait` exceeds `owner.gives_up_after` is abandoned and
//! counts as failed; the first completed path is the recovery. Each attacker tries the
//! same offered paths with its own chances; a completed path is a takeover unless it has
//! a `wait`, one of its `notify` methods is usable, and the notified owner stops it.

pub mod compare;
pub mod exact;
pub mod model;
pub mod report;
mod run;
pub mod sweep;
mod tally;

use crate::check::ir::{MethodId, PathId};
use crate::decision::DecisionKind;
use crate::Engine;
pub use exact::{exact, mixture, Component, Mixture};
pub use model::{Model, ModelError};
pub use report::{parse_shard, Report, Shard, ShardError, ShardInfo, Share};
use tally::Tally;

/// Trials per chunk: the unit of seeding, parallelism and sharding.
pub const CHUNK: u64 = 1 << 16;

/// The most worker threads per available core (`--threads` above is a usage error).
pub const MAX_THREADS_PER_CORE: usize = 8;

/// An offered path in indices, for fast trials.
pub(crate) struct SimOffer {
    /// The path.
    pub path: PathId,
    /// Per step: how many must succeed, and the usable methods in listed order.
    pub steps: Vec<(usize, Vec<MethodId>)>,
    pub wait_s: u64,
    pub notify: Vec<MethodId>,
}

/// A terminal decision in indices.
pub(crate) struct SimTerminal {
    pub kind: DecisionKind,
    pub offers: Vec<SimOffer>,
}

/// Everything a trial needs, prepared once.
pub(crate) struct Prepared<'a> {
    pub engine: &'a Engine,
    pub model: &'a Model,
    pub terminals: Vec<SimTerminal>,
    /// Per method (owner's figures; methods in no path: never attempted).
    pub people: Vec<model::Person>,
    pub base_values: Vec<i64>,
    pub segment_total: f64,
    /// `[attacker][terminal][offer]`: can the attacker complete that offer at all?
    pub att_possible: Vec<Vec<Vec<bool>>>,
    /// `[attacker][path]`: the chance that a notified owner stops a completed attack.
    pub att_stop: Vec<Vec<f64>>,
    /// Per segment (index 0: no segment, then `s + 1`): the owner's `gives_up_after`.
    pub gives_up: Vec<Option<u64>>,
    /// Names for rendering: paths (by `PathId`), attackers, segments.
    pub path_names: Vec<String>,
    pub attacker_names: Vec<String>,
    pub segment_names: Vec<String>,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(engine: &'a Engine, model: &'a Model) -> Prepared<'a> {
        let ir = engine.policy().ir();
        let terminals: Vec<SimTerminal> = engine
            .graph()
            .decisions()
            .iter()
            .map(|d| SimTerminal {
                kind: d.kind(),
                offers: d
                    .paths()
                    .iter()
                    .filter_map(|o| {
                        let p = ir.paths.get(o.path_index())?;
                        Some(SimOffer {
                            path: PathId(u32::try_from(o.path_index()).ok()?),
                            steps: o
                                .steps()
                                .iter()
                                .zip(&p.steps)
                                .map(|(usable, step)| {
                                    (
                                        step.needed(),
                                        usable.iter().filter_map(|n| ir.method_id(n)).collect(),
                                    )
                                })
                                .collect(),
                            wait_s: p.wait_s,
                            notify: p.notify.clone(),
                        })
                    })
                    .collect(),
            })
            .collect();
        let chance =
            |a: &model::Attacker, m: MethodId| a.success.get(m.index()).copied().unwrap_or(0.0);
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
                                    ms.iter().filter(|m| chance(a, **m) > 0.0).count() >= *needed
                                })
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let att_stop = model
            .attackers
            .iter()
            .map(|a| {
                ir.paths
                    .iter()
                    .map(|p| a.stopped_when_notified.at(p.wait_s))
                    .collect()
            })
            .collect();
        let mut base_values: Vec<i64> = ir
            .facts
            .iter()
            .map(|f| f.default.unwrap_or(f.ty.bounds().0))
            .collect();
        for (f, v) in &model.defaults {
            if let Some(slot) = base_values.get_mut(f.index()) {
                *slot = *v;
            }
        }
        let gives_up = std::iter::once(model.gives_up(None))
            .chain((0..model.segments.len()).map(|s| model.gives_up(Some(s))))
            .collect();
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
            att_stop,
            gives_up,
            path_names: ir.paths.iter().map(|p| p.name.clone()).collect(),
            attacker_names: model.attackers.iter().map(|a| a.name.clone()).collect(),
            segment_names: model.segments.iter().map(|s| s.name.clone()).collect(),
        }
    }

    fn zero_tallies(&self) -> Vec<Tally> {
        (0..=self.model.segments.len())
            .map(|_| Tally::zero(self.path_names.len(), self.attacker_names.len()))
            .collect()
    }

    /// Whether a notify method of `offer` is usable for `values`.
    pub(crate) fn notified(&self, offer: &SimOffer, values: &[i64]) -> bool {
        let methods = &self.engine.policy().ir().methods;
        offer.wait_s > 0
            && offer.notify.iter().any(|m| {
                methods
                    .get(m.index())
                    .is_some_and(|m| m.requires.eval(values))
            })
    }

    /// The report of integer tallies (whole run first, then per segment).
    fn report(&self, tallies: &[Tally], trials: u64, seed: u64) -> Report {
        report_of(
            &self.engine.policy().ir().name,
            &self.path_names,
            &self.attacker_names,
            &self.segment_names,
            tallies,
            trials,
            seed,
        )
    }
}

fn report_of(
    policy: &str,
    paths: &[String],
    attackers: &[String],
    segments: &[String],
    tallies: &[Tally],
    trials: u64,
    seed: u64,
) -> Report {
    let zero = Tally::zero(paths.len(), attackers.len());
    let (total, segs) = tallies.split_first().unwrap_or((&zero, &[]));
    let mut figures = total.figures(paths, attackers);
    figures.trials = Some(trials);
    Report {
        schema: report::SCHEMA.into(),
        policy: policy.to_string(),
        exact: false,
        seed: Some(seed),
        figures,
        segments: report::Named(
            segments
                .iter()
                .zip(segs)
                .map(|(s, t)| (s.clone(), t.figures(paths, attackers)))
                .collect(),
        ),
        shard: None,
    }
}

/// Options of a Monte-Carlo run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Total trials of the whole run (all shards).
    pub trials: u64,
    /// The seed.
    pub seed: u64,
    /// Worker threads (0: all cores; at most [`MAX_THREADS_PER_CORE`] × cores).
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
    /// Bad options (trials, shard, threads).
    #[error("{0}")]
    Usage(String),
    /// The model's conditions split the population into too many components for
    /// `--exact`.
    #[error("{0}")]
    TooLarge(String),
}

/// The most threads allowed on this machine.
pub fn max_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_mul(MAX_THREADS_PER_CORE)
}

/// The chunk range of a run (or of its shard).
fn chunk_range(opts: &Options) -> Result<std::ops::Range<u64>, SimError> {
    if opts.trials == 0 {
        return Err(SimError::Usage("--trials must be at least 1".into()));
    }
    if opts.threads > max_threads() {
        return Err(SimError::Usage(format!(
            "--threads {}: at most {} on this machine ({MAX_THREADS_PER_CORE} per core)",
            opts.threads,
            max_threads()
        )));
    }
    let chunks = opts.trials.div_ceil(CHUNK);
    Ok(match opts.shard {
        None => 0..chunks,
        Some((k, n)) => {
            if n == 0 || k == 0 || k > n {
                return Err(SimError::Usage(format!(
                    "--shard {k}/{n}: expected K/N with 1 ≤ K ≤ N"
                )));
            }
            let at = |x: u64| (u128::from(x) * u128::from(chunks) / u128::from(n)) as u64;
            at(k - 1)..at(k)
        }
    })
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, SimError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SimError::Usage(format!("cannot start threads: {e}")))
}

/// Run a Monte-Carlo simulation. A shard's report carries [`ShardInfo`] for `merge`.
pub fn simulate(
    engine: &Engine,
    model: &Model,
    opts: Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, SimError> {
    run_with(engine, model, opts, progress, run::Sampling::Decisions)
}

/// Like [`simulate`], but every trial samples each fact's value in model order,
/// classifies the values and walks the decision graph: the slow reference that the fast
/// sampler (a person's mixture component and terminal decision in one draw) and
/// [`exact::exact`] are tested against. Same figures in distribution, other numbers.
pub fn simulate_by_value(
    engine: &Engine,
    model: &Model,
    opts: Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Report, SimError> {
    run_with(engine, model, opts, progress, run::Sampling::Values)
}

pub(crate) fn run_with(
    engine: &Engine,
    model: &Model,
    opts: Options,
    progress: &(dyn Fn(u64) + Sync),
    sampling: run::Sampling,
) -> Result<Report, SimError> {
    let range = chunk_range(&opts)?;
    let prep = Prepared::new(engine, model);
    let tallies = pool(opts.threads)?
        .install(|| run::run_chunks(&prep, sampling, opts.seed, opts.trials, range, progress));
    let mut report = prep.report(&tallies, opts.trials, opts.seed);
    if let Some((k, n)) = opts.shard {
        report.shard = Some(ShardInfo {
            index: k,
            of: n,
            policy: engine.policy().ir().name.clone(),
            revision: model::sha256_hex(engine.policy().source().as_bytes()),
            model_hash: model.hash.clone(),
            seed: opts.seed,
            trials: opts.trials,
            paths: prep.path_names.clone(),
            attackers: prep.attacker_names.clone(),
            segments: prep.segment_names.clone(),
            tallies: tallies.iter().map(Tally::to_raw).collect(),
        });
    }
    Ok(report)
}

/// Why shards cannot be merged: the file and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct MergeError {
    /// The shard file at fault (empty when no file is).
    pub file: String,
    /// Why.
    pub message: String,
}

/// Combine shards (each `(file name, shard)`) into exactly the single-run report. Needs
/// nothing but the shards: they name their run (policy, revision, model hash, seed,
/// trials, `K/N`).
pub fn merge(shards: &[(String, Shard)]) -> Result<Report, MergeError> {
    let fail = |file: &str, message: String| MergeError {
        file: file.to_string(),
        message,
    };
    let Some((first_file, first)) = shards.first() else {
        return Err(fail("", "no shard files given".into()));
    };
    let a = &first.info;
    let mut seen: std::collections::BTreeMap<u64, &str> = std::collections::BTreeMap::new();
    let mut total: Vec<Tally> = a
        .tallies
        .iter()
        .map(|_| Tally::zero(a.paths.len(), a.attackers.len()))
        .collect();
    for (file, s) in shards {
        let b = &s.info;
        let differs = [
            ("policy", a.policy != b.policy),
            ("policy revision", a.revision != b.revision),
            ("model", a.model_hash != b.model_hash),
            ("seed", a.seed != b.seed),
            ("trial count", a.trials != b.trials),
            ("shard count", a.of != b.of),
            (
                "paths, attackers or segments",
                a.paths != b.paths || a.attackers != b.attackers || a.segments != b.segments,
            ),
        ];
        if let Some((what, _)) = differs.iter().find(|(_, d)| *d) {
            return Err(fail(
                file,
                format!("comes from a different run than {first_file}: its {what} differs"),
            ));
        }
        if let Some(other) = seen.insert(b.index, file) {
            return Err(fail(
                file,
                format!("shard {}/{} is given twice (also {other})", b.index, b.of),
            ));
        }
        for (t, x) in total.iter_mut().zip(&s.tallies) {
            t.checked_add(x)
                .ok_or_else(|| fail(file, "its counts overflow when added".into()))?;
        }
    }
    // Every index 1..=of must be present; `of` may be absurd, so never allocate by it.
    let mut expect = 1u64;
    for k in seen.keys() {
        if *k != expect {
            break;
        }
        expect += 1;
    }
    if expect <= a.of {
        return Err(fail("", format!("shard {expect}/{} is missing", a.of)));
    }
    if total.first().map(|t| t.n) != Some(a.trials) {
        return Err(fail(
            "",
            "the shards' trials do not add up to the run's".into(),
        ));
    }
    let mut r = report_of(
        &a.policy,
        &a.paths,
        &a.attackers,
        &a.segments,
        &total,
        a.trials,
        a.seed,
    );
    r.schema = report::MERGE_SCHEMA.into();
    Ok(r)
}

pub use report::wilson;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_contains_the_estimate() {
        let [lo, hi] = wilson(50, 100);
        assert!(lo < 0.5 && hi > 0.5 && (hi - lo) < 0.2);
        assert_eq!(wilson(0, 10)[0], 0.0);
    }
}
