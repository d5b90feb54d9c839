//! Integer tallies of Monte-Carlo trials, keyed by path and attacker index; mergeable in
//! any order, so chunks, threads and shards add up to the same totals.

use crate::check::ir::PathId;

use super::report::{
    valid_bin, AttackerFigures, Figures, Named, Outcomes, RawTally, Share, TimeToRecover,
    CDF_POINTS,
};

/// Sub-bins per octave of the time histogram (log-linear, < 1% relative error).
const HIST_SUB: u64 = 128;
/// Bins of the time histogram.
pub(crate) const HIST_BINS: usize = (HIST_SUB as usize) * 2 + 64 * HIST_SUB as usize;

/// The histogram bin of `v` seconds.
pub(crate) fn hist_bin(v: u64) -> usize {
    if v < 2 * HIST_SUB {
        return v as usize;
    }
    let octave = 63 - u64::from(v.leading_zeros()); // ≥ 8
    let shift = octave - 7; // keep 8 significant bits (128..256)
    let sub = (v >> shift) - HIST_SUB; // 0..128
    (2 * HIST_SUB + (shift - 1) * HIST_SUB + sub) as usize
}

/// The smallest value of bin `bin`.
pub(crate) fn hist_value(bin: usize) -> u64 {
    let b = bin as u64;
    if b < 2 * HIST_SUB {
        return b;
    }
    let shift = (b - 2 * HIST_SUB) / HIST_SUB + 1;
    let sub = (b - 2 * HIST_SUB) % HIST_SUB;
    (HIST_SUB + sub)
        .checked_shl(shift as u32)
        .unwrap_or(u64::MAX)
}

/// Outcome kinds, in the order of [`Tally::outcomes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Recovered = 0,
    Failed = 1,
    Lockout = 2,
    Denied = 3,
}

/// What happened in one trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub kind: Kind,
    /// The path recovered through, when recovered.
    pub path: PathId,
    pub human: bool,
    pub time_s: u64,
    /// One bit per attacker (at most 64).
    pub takeovers: u64,
}

impl Outcome {
    /// A trial decided before anyone tried a path (deny, lockout).
    pub(crate) fn settled(kind: Kind) -> Outcome {
        Outcome {
            kind,
            path: PathId(0),
            human: false,
            time_s: 0,
            takeovers: 0,
        }
    }
}

/// Integer tallies of trials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tally {
    pub n: u64,
    pub outcomes: [u64; 4],
    /// Indexed by `PathId`.
    pub by_path: Vec<u64>,
    pub human: u64,
    pub time_sum: u128,
    pub hist: Vec<u64>,
    /// Indexed by attacker.
    pub takeovers: Vec<u64>,
}

impl Tally {
    pub(crate) fn zero(paths: usize, attackers: usize) -> Tally {
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

    /// Add another tally of the same shape (trials counts never come near 2⁶⁴ within
    /// one run; `merge` uses [`Tally::checked_add`]).
    pub(crate) fn add(&mut self, o: &Tally) {
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

    /// Add, failing on overflow (tallies read from files).
    pub(crate) fn checked_add(&mut self, o: &Tally) -> Option<()> {
        fn each(a: &mut [u64], b: &[u64]) -> Option<()> {
            if a.len() != b.len() {
                return None;
            }
            for (x, y) in a.iter_mut().zip(b) {
                *x = x.checked_add(*y)?;
            }
            Some(())
        }
        self.n = self.n.checked_add(o.n)?;
        each(&mut self.outcomes, &o.outcomes)?;
        each(&mut self.by_path, &o.by_path)?;
        self.human = self.human.checked_add(o.human)?;
        self.time_sum = self.time_sum.checked_add(o.time_sum)?;
        each(&mut self.hist, &o.hist)?;
        each(&mut self.takeovers, &o.takeovers)
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "hot path: paths, bins and attackers are indices this module created with these lengths"
    )]
    pub(crate) fn record(&mut self, o: &Outcome) {
        self.n += 1;
        self.outcomes[o.kind as usize] += 1;
        if o.human {
            self.human += 1;
        }
        if o.kind == Kind::Recovered {
            self.by_path[o.path.index()] += 1;
            self.time_sum += u128::from(o.time_s);
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
        let mut acc = 0u64;
        for (b, c) in self.hist.iter().enumerate() {
            acc = acc.saturating_add(*c);
            if acc >= want {
                return Some(hist_value(b));
            }
        }
        None
    }

    /// The distribution of recovery times: at each histogram bin where the cumulative
    /// count crosses a multiple of 1/[`CDF_POINTS`] of the recovered trials, the bin's
    /// value and the fraction recovered by then; the last point is at fraction 1.
    fn cdf(&self) -> Vec<(u64, f64)> {
        let total = self.outcomes[0];
        if total == 0 {
            return Vec::new();
        }
        let mut out: Vec<(u64, f64)> = Vec::new();
        let mut acc = 0u64;
        let mut next = 1u64; // the next multiple of total / CDF_POINTS to cross
        let steps = CDF_POINTS as u64;
        for (b, c) in self.hist.iter().enumerate() {
            if *c == 0 {
                continue;
            }
            acc = acc.saturating_add(*c);
            // acc / total ≥ next / steps
            if u128::from(acc) * u128::from(steps) >= u128::from(next) * u128::from(total) {
                out.push((hist_value(b), acc as f64 / total as f64));
                next = (u128::from(acc) * u128::from(steps) / u128::from(total)) as u64 + 1;
            }
        }
        out
    }

    pub(crate) fn to_raw(&self) -> RawTally {
        RawTally {
            n: self.n,
            outcomes: self.outcomes,
            by_path: self.by_path.clone(),
            human: self.human,
            time_sum: self.time_sum.to_string(),
            hist: self
                .hist
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(b, c)| [b as u64, *c])
                .collect(),
            takeovers: self.takeovers.clone(),
        }
    }

    /// Read raw tallies back, checking that they are consistent.
    pub(crate) fn from_raw(v: &RawTally, paths: usize, attackers: usize) -> Result<Tally, String> {
        if v.by_path.len() != paths {
            return Err(format!("{} path counts for {paths} paths", v.by_path.len()));
        }
        if v.takeovers.len() != attackers {
            return Err(format!(
                "{} takeover counts for {attackers} attackers",
                v.takeovers.len()
            ));
        }
        let mut t = Tally::zero(paths, attackers);
        t.n = v.n;
        t.outcomes = v.outcomes;
        t.by_path.clone_from(&v.by_path);
        t.human = v.human;
        t.time_sum = v
            .time_sum
            .parse()
            .map_err(|_| format!("`time_sum` \"{}\" is not a count of seconds", v.time_sum))?;
        t.takeovers.clone_from(&v.takeovers);
        for [b, c] in &v.hist {
            let slot = valid_bin(*b)
                .and_then(|b| t.hist.get_mut(b))
                .ok_or_else(|| format!("histogram bin {b} is out of range"))?;
            *slot = slot
                .checked_add(*c)
                .ok_or_else(|| "histogram counts overflow".to_string())?;
        }
        let sum = |xs: &[u64]| xs.iter().try_fold(0u64, |a, b| a.checked_add(*b));
        if sum(&t.outcomes) != Some(t.n) {
            return Err("the outcomes do not add up to the trials".into());
        }
        let rec = t.outcomes[0];
        if sum(&t.by_path) != Some(rec) {
            return Err("the per-path counts do not add up to the recovered trials".into());
        }
        if sum(&t.hist) != Some(rec) {
            return Err("the time histogram does not add up to the recovered trials".into());
        }
        if t.human > t.n || t.takeovers.iter().any(|k| *k > t.n) {
            return Err("a count exceeds the trials".into());
        }
        Ok(t)
    }

    /// The report's figures, naming paths and attackers.
    pub(crate) fn figures(&self, paths: &[String], attackers: &[String]) -> Figures {
        let n = self.n;
        let frac = |k: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        let rec = self.outcomes[0];
        Figures {
            trials: Some(n),
            outcomes: Outcomes {
                recovered: Share::counted(self.outcomes[0], n),
                failed: Share::counted(self.outcomes[1], n),
                lockout: Share::counted(self.outcomes[2], n),
                denied: Share::counted(self.outcomes[3], n),
            },
            by_path: Named(
                paths
                    .iter()
                    .zip(&self.by_path)
                    .map(|(p, c)| (p.clone(), frac(*c)))
                    .collect(),
            ),
            human_review_load: Share::counted(self.human, n),
            time_to_recover_s: TimeToRecover {
                mean: (rec > 0).then(|| self.time_sum as f64 / rec as f64),
                p50: self.quantile(0.5),
                p95: self.quantile(0.95),
                cdf: self.cdf(),
            },
            attackers: Named(
                attackers
                    .iter()
                    .zip(&self.takeovers)
                    .map(|(a, k)| {
                        (
                            a.clone(),
                            AttackerFigures {
                                takeover: Share::counted(*k, n),
                            },
                        )
                    })
                    .collect(),
            ),
        }
    }
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
            u64::MAX,
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
}
