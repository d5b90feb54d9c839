//! The simulation report (DESIGN.md "Simulation model"): one serde type shared by
//! Monte-Carlo runs, `--exact`, shards and `merge`, and the shard format that `merge`
//! reads back ([`parse_shard`], which never panics on any input).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::tally::{Tally, HIST_BINS};
use super::CHUNK;

/// `schema` of `regain simulate --format json`.
pub const SCHEMA: &str = "regain.simulate/1";
/// `schema` of `regain merge --format json`.
pub const MERGE_SCHEMA: &str = "regain.merge/1";

/// An ordered map from names to figures (paths, attackers, segments in policy or
/// model order), serialized as a JSON object.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Named<T>(pub Vec<(String, T)>);

impl<T> Named<T> {
    /// The figure of `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Names and figures in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Named<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Named<T>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, T>()? {
                    if out.iter().any(|(n, _): &(String, T)| *n == k) {
                        return Err(serde::de::Error::custom(format!("`{k}` given twice")));
                    }
                    out.push((k, v));
                }
                Ok(Named(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A share of trials with its 95% interval (Wilson for Monte-Carlo, `[x, x]` exact).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// The fraction.
    pub share: f64,
    /// The 95% interval.
    pub ci95: [f64; 2],
}

impl Share {
    /// An exact share: the interval is the point.
    pub fn exact(x: f64) -> Share {
        Share {
            share: x,
            ci95: [x, x],
        }
    }

    /// `k` of `n` trials with the Wilson interval.
    pub fn counted(k: u64, n: u64) -> Share {
        Share {
            share: if n == 0 { 0.0 } else { k as f64 / n as f64 },
            ci95: wilson(k, n),
        }
    }
}

/// The owner's outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Completed an offered path.
    pub recovered: Share,
    /// Offered paths, none completed (or all abandoned at their wait).
    pub failed: Share,
    /// No path offered.
    pub lockout: Share,
    /// A deny rule held.
    pub denied: Share,
}

/// Time to recover over recovered trials, in seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeToRecover {
    /// Mean (`null` when nobody recovered).
    pub mean: Option<f64>,
    /// Median (Monte-Carlo only).
    pub p50: Option<u64>,
    /// 95th percentile (Monte-Carlo only).
    pub p95: Option<u64>,
    /// The cumulative distribution (Monte-Carlo only; omitted when empty): points
    /// `[seconds, fraction of recovered trials recovered by then]`, increasing in both,
    /// the last at fraction 1; at most [`CDF_POINTS`] + 1 points, from the same
    /// histogram as `p50` and `p95`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cdf: Vec<(u64, f64)>,
}

/// At most this many points (plus the last) in [`TimeToRecover::cdf`].
pub const CDF_POINTS: usize = 100;

/// One attacker's figures.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttackerFigures {
    /// Share of all trials that end in a takeover by this attacker.
    pub takeover: Share,
}

/// The figures of a population (the whole run or one segment).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Trials in this population (`null` for `--exact`).
    pub trials: Option<u64>,
    /// The owner's outcomes.
    pub outcomes: Outcomes,
    /// Per path (policy order), the share of trials recovered through it.
    pub by_path: Named<f64>,
    /// Share of trials in which the owner attempted a `human` method.
    pub human_review_load: Share,
    /// Time to recover.
    pub time_to_recover_s: TimeToRecover,
    /// Per attacker (model order).
    pub attackers: Named<AttackerFigures>,
}

/// A simulation report: `regain simulate --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`] (or [`MERGE_SCHEMA`] from `merge`).
    pub schema: String,
    /// `policy NAME`.
    pub policy: String,
    /// True for `--exact`.
    pub exact: bool,
    /// The seed (`null` for `--exact`).
    pub seed: Option<u64>,
    /// The whole population's figures (`trials` is the run's total).
    #[serde(flatten)]
    pub figures: Figures,
    /// Per segment (model order; `{}` without segments).
    pub segments: Named<Figures>,
    /// For a shard: what `merge` needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
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

/// The integer tallies of one population in a shard file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTally {
    /// Trials.
    pub n: u64,
    /// recovered, failed, lockout, denied.
    pub outcomes: [u64; 4],
    /// Recovered per path.
    pub by_path: Vec<u64>,
    /// Trials with a human method attempted.
    pub human: u64,
    /// Sum of recovery times in seconds (decimal string: it may exceed 2⁶⁴).
    pub time_sum: String,
    /// Non-empty bins of the time histogram, `[bin, count]`.
    pub hist: Vec<[u64; 2]>,
    /// Takeovers per attacker.
    pub takeovers: Vec<u64>,
}

/// What a shard carries for `merge`: which run it belongs to and its raw tallies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardInfo {
    /// K of `K/N` (1-based).
    pub index: u64,
    /// N of `K/N`.
    pub of: u64,
    /// `policy NAME`.
    pub policy: String,
    /// sha256 of the policy source (lowercase hex).
    pub revision: String,
    /// sha256 of the model file's bytes (lowercase hex).
    pub model_hash: String,
    /// The run's seed.
    pub seed: u64,
    /// The run's total trials (all shards).
    pub trials: u64,
    /// Path names in policy order.
    pub paths: Vec<String>,
    /// Attacker names in model order.
    pub attackers: Vec<String>,
    /// Segment names in model order.
    pub segments: Vec<String>,
    /// The whole slice first, then one per segment.
    pub tallies: Vec<RawTally>,
}

/// A shard file that passed [`parse_shard`]: its description and tallies, checked for
/// consistency.
#[derive(Clone, Debug, PartialEq)]
pub struct Shard {
    /// The shard's description.
    pub info: ShardInfo,
    /// The tallies in typed form (whole slice first, then per segment).
    pub(crate) tallies: Vec<Tally>,
}

/// Why a text is not a valid shard.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(pub String);

#[derive(Deserialize)]
struct ShardFile {
    schema: Option<String>,
    shard: Option<ShardInfo>,
}

/// The trials of slice `k` (1-based) of `n` in a `trials`-trial run.
pub fn slice_trials(trials: u64, k: u64, n: u64) -> Option<u64> {
    if n == 0 || k == 0 || k > n {
        return None;
    }
    let chunks = u128::from(trials.div_ceil(CHUNK));
    let lo = u128::from(k - 1) * chunks / u128::from(n);
    let hi = u128::from(k) * chunks / u128::from(n);
    let at = |c: u128| (c * u128::from(CHUNK)).min(u128::from(trials));
    u64::try_from(at(hi) - at(lo)).ok()
}

/// Read a shard file (`simulate --shard K/N --format json`) and check that its numbers
/// are consistent. Never panics, whatever the input.
pub fn parse_shard(text: &str) -> Result<Shard, ShardError> {
    let bad = |m: String| Err(ShardError(m));
    let file: ShardFile =
        serde_json::from_str(text).map_err(|e| ShardError(format!("not a shard report: {e}")))?;
    match file.schema.as_deref() {
        Some(SCHEMA) => {}
        Some(s) => return bad(format!("schema is `{s}`, expected `{SCHEMA}`")),
        None => return bad("no `schema`: not a regain simulate report".into()),
    }
    let Some(info) = file.shard else {
        return bad(
            "no `shard` section: not a shard (run `simulate --shard K/N --format json`)".into(),
        );
    };
    if info.of == 0 || info.index == 0 || info.index > info.of {
        return bad(format!(
            "shard {}/{}: expected K/N with 1 ≤ K ≤ N",
            info.index, info.of
        ));
    }
    if info.trials == 0 {
        return bad("the run has 0 trials".into());
    }
    for (what, h) in [
        ("revision", &info.revision),
        ("model_hash", &info.model_hash),
    ] {
        if h.len() != 64
            || !h
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return bad(format!("`{what}` is not a sha256 in lowercase hex"));
        }
    }
    if info.tallies.len() != info.segments.len() + 1 {
        return bad(format!(
            "{} tallies for {} segments (expected the whole slice plus one per segment)",
            info.tallies.len(),
            info.segments.len()
        ));
    }
    let want = slice_trials(info.trials, info.index, info.of).unwrap_or(0);
    let mut tallies = Vec::with_capacity(info.tallies.len());
    for (i, raw) in info.tallies.iter().enumerate() {
        let t = Tally::from_raw(raw, info.paths.len(), info.attackers.len()).map_err(|e| {
            let whose = match i.checked_sub(1).and_then(|s| info.segments.get(s)) {
                Some(s) => format!("segment `{s}`"),
                None => "the whole slice".into(),
            };
            ShardError(format!("tallies of {whose}: {e}"))
        })?;
        tallies.push(t);
    }
    let (total, segs) = tallies
        .split_first()
        .ok_or_else(|| ShardError("no tallies".into()))?;
    if total.n != want {
        return bad(format!(
            "shard {}/{} of {} trials must hold {want} trials, holds {}",
            info.index, info.of, info.trials, total.n
        ));
    }
    if !segs.is_empty() {
        let sum = segs.iter().try_fold(0u64, |a, t| a.checked_add(t.n));
        if sum != Some(total.n) {
            return bad("the segments' trials do not add up to the slice's".into());
        }
    }
    Ok(Shard { info, tallies })
}

/// Check that histogram bins are in range (used by [`Tally::from_raw`]).
pub(crate) fn valid_bin(b: u64) -> Option<usize> {
    usize::try_from(b).ok().filter(|b| *b < HIST_BINS)
}
