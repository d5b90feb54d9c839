//! Sweeps: `simulate POLICY --set 'NAME.wait=1h,48h,7d' --set 'NAME.step2.count=1,2'`
//! evaluates every combination of settings on a modified copy of the checked policy
//! (same seed, so the same people, for every row) and marks the Pareto front.

use serde::{Deserialize, Serialize};

use super::model::{parse_duration, Model};
use super::report::{Named, Report, SCHEMA};
use super::{exact, Options, SimError};
use crate::check::ir::{Ir, PathId, Step};
use crate::{Engine, Policy};

/// The most rows one sweep evaluates.
pub const MAX_ROWS: usize = 10_000;

/// What a setting changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Knob {
    /// The path's `wait` (seconds).
    Wait,
    /// The `any N of` count of the path's step (0-based index).
    Count(usize),
}

/// One `--set KEY=V1,V2,…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// `NAME.wait` or `NAME.stepK.count`, as written.
    pub key: String,
    /// The path.
    pub path: PathId,
    /// What changes.
    pub knob: Knob,
    /// The values: as written, and in seconds or as a count.
    pub values: Vec<(String, u64)>,
}

/// Parse a `--set` against the policy: unknown paths (with did-you-mean), steps out of
/// range, steps that are not `any N of`, counts outside `1..=n` and bad durations are
/// errors.
pub fn parse_setting(ir: &Ir, text: &str) -> Result<Setting, String> {
    let (key, list) = text.split_once('=').ok_or_else(|| {
        format!("`{text}`: expected `NAME.wait=1h,48h` or `NAME.stepK.count=1,2`")
    })?;
    let key = key.trim();
    let mut parts = key.split('.');
    let name = parts.next().unwrap_or_default();
    let path = ir.path_id(name).ok_or_else(|| {
        let help = crate::diagnostic::suggestion(name, ir.paths.iter().map(|p| p.name.as_str()))
            .map(|h| format!("; {h}"))
            .unwrap_or_else(|| {
                let all: Vec<&str> = ir.paths.iter().map(|p| p.name.as_str()).collect();
                format!("; the paths are {}", all.join(", "))
            });
        format!("`{key}`: the policy has no path `{name}`{help}")
    })?;
    let p = ir
        .paths
        .get(path.index())
        .ok_or_else(|| format!("`{key}`: no such path"))?;
    let rest: Vec<&str> = parts.collect();
    let knob = match rest.as_slice() {
        ["wait"] => Knob::Wait,
        [step, "count"] => {
            let k: usize = step
                .strip_prefix("step")
                .and_then(|k| k.parse().ok())
                .ok_or_else(|| format!("`{key}`: expected `stepK` with K a step number"))?;
            let s = k
                .checked_sub(1)
                .and_then(|i| p.steps.get(i))
                .ok_or_else(|| {
                    format!(
                        "`{key}`: path `{name}` has {} step(s); K is 1-based",
                        p.steps.len()
                    )
                })?;
            if let Step::Method(m) = s {
                let m = ir.methods.get(m.index()).map_or("?", |m| m.name.as_str());
                return Err(format!(
                    "`{key}`: step {k} of `{name}` is the single method `{m}`, not `any N of (…)`"
                ));
            }
            Knob::Count(k - 1)
        }
        _ => {
            let help = crate::diagnostic::suggestion(&rest.join("."), ["wait", "step1.count"])
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(format!(
                "`{key}`: expected `{name}.wait` or `{name}.stepK.count`{help}"
            ));
        }
    };
    let mut values = Vec::new();
    for v in list.split(',').map(str::trim) {
        let x = match knob {
            Knob::Wait => parse_duration(v).ok_or_else(|| {
                format!("`{key}`: `{v}` is not a duration: write a number and s, m, h or d (`90s`, `48h`, `7d`)")
            })?,
            Knob::Count(i) => {
                let n = p.steps.get(i).map_or(0, |s| s.methods().len());
                v.parse::<u64>()
                    .ok()
                    .filter(|c| (1..=n as u64).contains(c))
                    .ok_or_else(|| {
                        format!("`{key}`: `{v}` must be a count from 1 to {n} (the step lists {n} methods)")
                    })?
            }
        };
        if values.iter().any(|(l, _)| l == v) {
            return Err(format!("`{key}`: `{v}` is listed twice"));
        }
        values.push((v.to_string(), x));
    }
    Ok(Setting {
        key: key.to_string(),
        path,
        knob,
        values,
    })
}

/// One combination of settings and its report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Each setting's key and value, as written.
    pub set: Named<String>,
    /// The simulation of the modified policy.
    pub report: Report,
    /// No other row is at least as good on recovery, lockout, review load, mean time
    /// and every attacker's takeover, and better on one.
    pub pareto: bool,
}

/// `regain simulate POLICY --set … --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// `regain.simulate/1`.
    pub schema: String,
    /// One row per combination, the first setting varying slowest.
    pub rows: Vec<Row>,
}

fn apply(ir: &mut Ir, s: &Setting, v: u64) {
    let Some(p) = ir.paths.get_mut(s.path.index()) else {
        return;
    };
    match s.knob {
        Knob::Wait => p.wait_s = v,
        Knob::Count(i) => {
            if let Some(Step::Any { n, .. }) = p.steps.get_mut(i) {
                *n = u32::try_from(v).unwrap_or(u32::MAX);
            }
        }
    }
}

/// Lower is better on every entry.
fn costs(r: &Report) -> Vec<f64> {
    let f = &r.figures;
    let mut c = vec![
        -f.outcomes.recovered.share,
        f.outcomes.lockout.share,
        f.human_review_load.share,
        f.time_to_recover_s.mean.unwrap_or(f64::INFINITY),
    ];
    c.extend(f.attackers.iter().map(|(_, a)| a.takeover.share));
    c
}

/// Which rows no other row dominates.
pub fn pareto(reports: &[&Report]) -> Vec<bool> {
    let cs: Vec<Vec<f64>> = reports.iter().map(|r| costs(r)).collect();
    cs.iter()
        .map(|a| {
            !cs.iter().any(|b| {
                b.iter().zip(a).all(|(x, y)| x <= y) && b.iter().zip(a).any(|(x, y)| x < y)
            })
        })
        .collect()
}

/// Evaluate every combination of `settings` (exactly, or by Monte-Carlo with the same
/// seed for every row).
pub fn sweep(
    policy: &Policy,
    model: &Model,
    settings: &[Setting],
    exact_run: bool,
    opts: Options,
) -> Result<Sweep, SimError> {
    for (i, s) in settings.iter().enumerate() {
        if settings
            .iter()
            .take(i)
            .any(|t| t.path == s.path && t.knob == s.knob)
        {
            return Err(SimError::Usage(format!("`{}` is set twice", s.key)));
        }
    }
    let rows = settings
        .iter()
        .try_fold(1usize, |a, s| a.checked_mul(s.values.len()))
        .filter(|n| *n <= MAX_ROWS)
        .ok_or_else(|| {
            SimError::Usage(format!(
                "the settings give more than {MAX_ROWS} combinations"
            ))
        })?;
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        // Mixed radix, the first setting varying slowest.
        let mut rem = r;
        let mut pick = vec![0usize; settings.len()];
        for (i, s) in settings.iter().enumerate().rev() {
            let len = s.values.len().max(1);
            if let Some(p) = pick.get_mut(i) {
                *p = rem % len;
            }
            rem /= len;
        }
        let mut ir = policy.ir().clone();
        let mut set = Vec::new();
        for (s, k) in settings.iter().zip(&pick) {
            if let Some((label, v)) = s.values.get(*k) {
                apply(&mut ir, s, *v);
                set.push((s.key.clone(), label.clone()));
            }
        }
        let engine = Engine::new(&policy.with_ir(ir))
            .map_err(|e| SimError::Usage(format!("with {set:?}: {e}")))?;
        let report = if exact_run {
            exact(&engine, model)?
        } else {
            // Sampling classes, not decisions: every row meets the same people.
            super::run_with(
                &engine,
                model,
                Options {
                    shard: None,
                    ..opts
                },
                &|_| {},
                super::run::Sampling::Classes,
            )?
        };
        out.push((Named(set), report));
    }
    let front = pareto(&out.iter().map(|(_, r)| r).collect::<Vec<_>>());
    Ok(Sweep {
        schema: SCHEMA.into(),
        rows: out
            .into_iter()
            .zip(front)
            .map(|((set, report), pareto)| Row {
                set,
                report,
                pareto,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::report::{AttackerFigures, Figures, Outcomes, Share, TimeToRecover};

    fn report(rec: f64, take: f64, mean: Option<f64>) -> Report {
        let s = Share::exact;
        Report {
            schema: SCHEMA.into(),
            policy: "p".into(),
            exact: true,
            seed: None,
            figures: Figures {
                trials: None,
                outcomes: Outcomes {
                    recovered: s(rec),
                    failed: s(1.0 - rec),
                    lockout: s(0.0),
                    denied: s(0.0),
                },
                by_path: Named(Vec::new()),
                human_review_load: s(0.1),
                time_to_recover_s: TimeToRecover {
                    mean,
                    p50: None,
                    p95: None,
                    cdf: Vec::new(),
                },
                attackers: Named(vec![("eve".into(), AttackerFigures { takeover: s(take) })]),
            },
            segments: Named(Vec::new()),
            shard: None,
        }
    }

    #[test]
    fn pareto_front_keeps_only_undominated_rows() {
        let a = report(0.9, 0.1, Some(100.0));
        let b = report(0.8, 0.1, Some(100.0)); // worse recovery, nothing better
        let c = report(0.8, 0.05, Some(100.0)); // trades recovery for takeover
        let d = report(0.9, 0.1, Some(100.0)); // equal to a: neither dominates
        let e = report(0.9, 0.1, None); // nobody recovered time: worst
        assert_eq!(
            pareto(&[&a, &b, &c, &d, &e]),
            vec![true, false, true, true, false]
        );
    }
}
