//! The simulation model (DESIGN.md "Simulation model"): who the users are, how well
//! owners do each method, who attacks. Loaded from YAML and validated strictly; every
//! error names its YAML location (`population.facts.phone.active.then`).

use std::fmt;

use serde_yaml::{Mapping, Value};

use sha2::{Digest, Sha256};

use crate::check::ir::{Cond, Fact, FactId, FactType, Ir};
use crate::syntax::ast::Factor;
use crate::Policy;

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A model error with its YAML location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// Where in the YAML (a key path), or empty for the document.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

impl std::error::Error for ModelError {}

fn err(location: &str, message: impl Into<String>) -> ModelError {
    ModelError {
        location: location.to_string(),
        message: message.into(),
    }
}

/// A distribution of one fact's value.
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always this (encoded) value.
    Const(i64),
    /// A bool that is true with this probability.
    Bernoulli(f64),
    /// Every value of `lo..=hi` equally likely.
    Uniform(i64, i64),
    /// Values with their probabilities (weights normalised to sum 1), in increasing
    /// value order.
    Weights(Vec<(i64, f64)>),
    /// `when` → `then`, otherwise `else`.
    Cond {
        /// The condition over earlier facts.
        when: Box<Cond>,
        /// When it holds.
        then: Box<Dist>,
        /// When it does not.
        otherwise: Box<Dist>,
    },
}

/// A population segment.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Its name.
    pub name: String,
    /// Relative weight.
    pub weight: f64,
    /// Per sampled fact (same positions as [`Model::order`]), an override.
    pub overrides: Vec<Option<Dist>>,
    /// The segment's `owner.gives_up_after` (seconds), else the model's.
    pub gives_up_after: Option<u64>,
}

/// How the owner does one method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Person {
    /// Chance of success.
    pub success: f64,
    /// Seconds an attempt takes.
    pub time_s: u64,
}

/// One attacker.
#[derive(Clone, Debug)]
pub struct Attacker {
    /// Its name.
    pub name: String,
    /// Per method, the chance of passing it (0 when not listed).
    pub success: Vec<f64>,
    /// The chance that a notified owner stops the attack during a `wait`.
    pub stopped_when_notified: Stop,
}

/// `stopped_when_notified`: one chance, or a table by wait length.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// The same chance for every wait.
    Const(f64),
    /// `(wait in seconds, chance)`, ascending by wait, at least one entry: interpolated
    /// linearly in log time, constant beyond the ends.
    Table(Vec<(u64, f64)>),
}

impl Stop {
    /// The chance that a notified owner stops the attack during a wait of `wait_s`
    /// seconds (0 for no wait: nothing can be stopped).
    pub fn at(&self, wait_s: u64) -> f64 {
        if wait_s == 0 {
            return 0.0;
        }
        match self {
            Stop::Const(p) => *p,
            Stop::Table(t) => {
                let (Some(first), Some(last)) = (t.first(), t.last()) else {
                    return 0.0;
                };
                if wait_s <= first.0 {
                    return first.1;
                }
                if wait_s >= last.0 {
                    return last.1;
                }
                for w in t.windows(2) {
                    if let [(a, pa), (b, pb)] = w {
                        if wait_s <= *b {
                            let (la, lb, lx) =
                                ((*a as f64).ln(), (*b as f64).ln(), (wait_s as f64).ln());
                            return pa + (pb - pa) * (lx - la) / (lb - la);
                        }
                    }
                }
                last.1
            }
        }
    }
}

/// A validated model.
#[derive(Clone, Debug)]
pub struct Model {
    /// Facts sampled, in order, with their distributions.
    pub order: Vec<(FactId, Dist)>,
    /// Facts not listed: their defaults.
    pub defaults: Vec<(FactId, i64)>,
    /// Segments (empty: one implicit population).
    pub segments: Vec<Segment>,
    /// Per method, the owner's figures (methods in no path may be absent).
    pub people: Vec<Option<Person>>,
    /// Attackers in file order.
    pub attackers: Vec<Attacker>,
    /// Per method, whether it is a human method (for the review load).
    pub human: Vec<bool>,
    /// `owner.gives_up_after` (seconds): a path whose wait is longer counts as failed.
    pub gives_up_after: Option<u64>,
    /// sha256 of the model's YAML text (lowercase hex).
    pub hash: String,
}

impl Model {
    /// The `gives_up_after` in force for a trial of `segment`.
    pub fn gives_up(&self, segment: Option<usize>) -> Option<u64> {
        segment
            .and_then(|s| self.segments.get(s))
            .and_then(|s| s.gives_up_after)
            .or(self.gives_up_after)
    }
}

fn get<'a>(m: &'a Mapping, key: &str) -> Option<&'a Value> {
    m.get(Value::String(key.to_string()))
}

fn key_str(k: &Value, loc: &str) -> Result<String, ModelError> {
    match k {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(err(loc, "keys must be names")),
    }
}

fn expect_map<'a>(v: &'a Value, loc: &str, what: &str) -> Result<&'a Mapping, ModelError> {
    v.as_mapping().ok_or_else(|| {
        err(
            loc,
            format!("expected {what} (a mapping), found {}", describe(v)),
        )
    })
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("\"{s}\""),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

fn check_keys(m: &Mapping, loc: &str, allowed: &[&str]) -> Result<(), ModelError> {
    for k in m.keys() {
        let k = key_str(k, loc)?;
        if !allowed.contains(&k.as_str()) {
            let help = crate::diagnostic::suggestion(&k, allowed.iter().copied())
                .map(|h| format!("; {h}"))
                .unwrap_or_else(|| format!("; expected one of {}", allowed.join(", ")));
            return Err(err(loc, format!("unknown key `{k}`{help}")));
        }
    }
    Ok(())
}

fn probability(v: &Value, loc: &str) -> Result<f64, ModelError> {
    let p = v.as_f64().ok_or_else(|| {
        err(
            loc,
            format!("expected a probability in [0, 1], found {}", describe(v)),
        )
    })?;
    if !(0.0..=1.0).contains(&p) || p.is_nan() {
        return Err(err(loc, format!("probability {p} is outside [0, 1]")));
    }
    Ok(p)
}

/// A duration in the language's syntax (`90s`, `3m`, `1d`), or 0.
fn duration(v: &Value, loc: &str) -> Result<u64, ModelError> {
    if let Some(0) = v.as_u64() {
        return Ok(0);
    }
    let s = v.as_str().ok_or_else(|| {
        err(
            loc,
            format!("expected a duration like `3m`, found {}", describe(v)),
        )
    })?;
    let bad = || {
        err(
            loc,
            format!("`{s}` is not a duration: write a number and s, m, h or d (`90s`, `3m`, `1d`)"),
        )
    };
    parse_duration(s).ok_or_else(bad)
}

/// A duration in the language's syntax (`90s`, `3m`, `48h`, `1d`) in seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let unit = s.chars().last()?;
    let mul = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let digits = s.strip_suffix(unit)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(mul)
}

struct Loader<'a> {
    ir: &'a Ir,
    /// Facts sampled so far (may be used in `when`).
    known: Vec<bool>,
}

impl Loader<'_> {
    fn fact(&self, fact: FactId, loc: &str) -> Result<&Fact, ModelError> {
        self.ir
            .facts
            .get(fact.index())
            .ok_or_else(|| err(loc, "internal error: fact out of range"))
    }

    fn value(&self, fact: FactId, v: &Value, loc: &str) -> Result<i64, ModelError> {
        let f = self.fact(fact, loc)?;
        match (&f.ty, v) {
            (FactType::Bool, Value::Bool(b)) => Ok(*b as i64),
            (FactType::Int { lo, hi }, Value::Number(n)) => {
                let i = n.as_i64().ok_or_else(|| {
                    err(loc, format!("expected an integer in {lo}..{hi}, found {n}"))
                })?;
                if i < *lo || i > *hi {
                    return Err(err(
                        loc,
                        format!("{i} is outside `{}`'s range {lo}..{hi}", f.name),
                    ));
                }
                Ok(i)
            }
            (FactType::Enum(vs), Value::String(s)) => vs
                .iter()
                .position(|x| x == s)
                .map(|i| i as i64)
                .ok_or_else(|| {
                    let help = crate::diagnostic::suggestion(s, vs.iter().map(String::as_str))
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default();
                    err(
                        loc,
                        format!(
                            "`{s}` is not a variant of `{}` ({}){help}",
                            f.name,
                            vs.join(" | ")
                        ),
                    )
                }),
            (ty, v) => Err(err(
                loc,
                format!(
                    "`{}` is {}, but this is {}",
                    f.name,
                    ty.describe(),
                    describe(v)
                ),
            )),
        }
    }

    fn dist(&self, fact: FactId, v: &Value, loc: &str) -> Result<Dist, ModelError> {
        let f = self.fact(fact, loc)?;
        match v {
            Value::Number(_) if f.ty == FactType::Bool => Ok(Dist::Bernoulli(probability(v, loc)?)),
            Value::Mapping(m) => {
                if get(m, "when").is_some() || get(m, "then").is_some() || get(m, "else").is_some()
                {
                    check_keys(m, loc, &["when", "then", "else"])?;
                    let w = get(m, "when").ok_or_else(|| err(loc, "a conditional needs `when`"))?;
                    let then =
                        get(m, "then").ok_or_else(|| err(loc, "a conditional needs `then`"))?;
                    let otherwise =
                        get(m, "else").ok_or_else(|| err(loc, "a conditional needs `else`"))?;
                    let when = self.condition(w, &format!("{loc}.when"))?;
                    return Ok(Dist::Cond {
                        when: Box::new(when),
                        then: Box::new(self.dist(fact, then, &format!("{loc}.then"))?),
                        otherwise: Box::new(self.dist(fact, otherwise, &format!("{loc}.else"))?),
                    });
                }
                if let Some(u) = get(m, "uniform") {
                    check_keys(m, loc, &["uniform"])?;
                    let FactType::Int { .. } = f.ty else {
                        return Err(err(
                            loc,
                            format!(
                                "`uniform` applies to int facts; `{}` is {}",
                                f.name,
                                f.ty.describe()
                            ),
                        ));
                    };
                    let loc = format!("{loc}.uniform");
                    let Some([lo, hi]) = u.as_sequence().map(Vec::as_slice) else {
                        return Err(err(&loc, "expected `[lo, hi]`"));
                    };
                    let a = self.value(fact, lo, &loc)?;
                    let b = self.value(fact, hi, &loc)?;
                    if a > b {
                        return Err(err(&loc, format!("empty range: {a} > {b}")));
                    }
                    return Ok(Dist::Uniform(a, b));
                }
                if let Some(w) = get(m, "weights") {
                    check_keys(m, loc, &["weights"])?;
                    let loc = format!("{loc}.weights");
                    let wm = expect_map(w, &loc, "value: weight pairs")?;
                    let mut out: Vec<(i64, f64)> = Vec::new();
                    for (k, wv) in wm {
                        let kloc = format!("{loc}.{}", key_str(k, &loc)?);
                        // Keys come as YAML scalars: `true`, `3`, `low`.
                        let val = self.value(fact, k, &kloc)?;
                        let weight = wv.as_f64().ok_or_else(|| {
                            err(
                                &kloc,
                                format!("expected a positive weight, found {}", describe(wv)),
                            )
                        })?;
                        if weight <= 0.0 || !weight.is_finite() {
                            return Err(err(&kloc, format!("weight {weight} must be positive")));
                        }
                        if out.iter().any(|(x, _)| *x == val) {
                            return Err(err(&kloc, "value listed twice"));
                        }
                        out.push((val, weight));
                    }
                    if out.is_empty() {
                        return Err(err(&loc, "no weights given"));
                    }
                    out.sort_by_key(|x| x.0);
                    let total: f64 = out.iter().map(|x| x.1).sum();
                    for x in &mut out {
                        x.1 /= total;
                    }
                    return Ok(Dist::Weights(out));
                }
                Err(err(loc, "expected a probability, a constant, `uniform`, `weights` or `when`/`then`/`else`"))
            }
            other => Ok(Dist::Const(self.value(fact, other, loc)?)),
        }
    }

    fn condition(&self, v: &Value, loc: &str) -> Result<Cond, ModelError> {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(err(
                    loc,
                    format!("expected a regain condition, found {}", describe(other)),
                ))
            }
        };
        let expr = crate::syntax::parse_expr(&text)
            .map_err(|d| err(loc, format!("in `{text}`: {}", messages(&d))))?;
        let cond = crate::check::check_expr(self.ir, &expr)
            .map_err(|d| err(loc, format!("in `{text}`: {}", messages(&d))))?;
        let mut tests = Vec::new();
        cond.tests(&mut tests);
        for t in tests {
            if !self.known.get(t.fact().index()).copied().unwrap_or(false) {
                let name = self.fact(t.fact(), loc)?.name.as_str();
                return Err(err(
                    loc,
                    format!(
                        "`{name}` is not sampled before this fact; list facts in dependency order"
                    ),
                ));
            }
        }
        Ok(cond)
    }
}

fn messages(d: &[crate::Diagnostic]) -> String {
    d.iter()
        .map(|e| match &e.help {
            Some(h) => format!("{} ({h})", e.message),
            None => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `owner: {gives_up_after: 3d}`.
fn owner(v: &Value, loc: &str) -> Result<Option<u64>, ModelError> {
    let m = expect_map(v, loc, "`{gives_up_after: 3d}`")?;
    check_keys(m, loc, &["gives_up_after"])?;
    get(m, "gives_up_after")
        .map(|g| duration(g, &format!("{loc}.gives_up_after")))
        .transpose()
}

/// `stopped_when_notified`: a probability or `{1h: 0.2, 1d: 0.6}`.
fn stop(v: &Value, loc: &str) -> Result<Stop, ModelError> {
    let Value::Mapping(m) = v else {
        return Ok(Stop::Const(probability(v, loc)?));
    };
    let mut t: Vec<(u64, f64)> = Vec::new();
    for (k, p) in m {
        let ks = key_str(k, loc)?;
        let kloc = format!("{loc}.{ks}");
        let w = duration(k, &kloc)?;
        if w == 0 {
            return Err(err(&kloc, "a wait length must be longer than 0s"));
        }
        if t.iter().any(|(x, _)| *x == w) {
            return Err(err(&kloc, "this wait length is listed twice"));
        }
        t.push((w, probability(p, &kloc)?));
    }
    if t.is_empty() {
        return Err(err(loc, "an empty table; give at least one `wait: chance`"));
    }
    t.sort_by_key(|x| x.0);
    Ok(Stop::Table(t))
}

impl Model {
    /// Load and validate a model for `policy` from YAML text.
    pub fn from_yaml(policy: &Policy, yaml: &str) -> Result<Model, ModelError> {
        let doc: Value =
            serde_yaml::from_str(yaml).map_err(|e| err("", format!("invalid YAML: {e}")))?;
        let ir = policy.ir();
        let top = expect_map(&doc, "", "a model")?;
        check_keys(top, "", &["population", "owner", "people", "attackers"])?;
        let gives_up_after = match get(top, "owner") {
            Some(v) => owner(v, "owner")?,
            None => None,
        };
        let pop = get(top, "population").ok_or_else(|| err("", "missing `population`"))?;
        let pop = expect_map(pop, "population", "the population")?;
        check_keys(pop, "population", &["facts", "segments"])?;
        let facts_v = get(pop, "facts").ok_or_else(|| err("population", "missing `facts`"))?;
        let facts_m = expect_map(facts_v, "population.facts", "fact distributions")?;

        let mut loader = Loader {
            ir,
            known: vec![false; ir.facts.len()],
        };
        // Facts with defaults that the model does not list are constants known up front.
        let listed: Vec<String> = facts_m
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        for name in &listed {
            if ir.fact_id(name).is_none() {
                let help =
                    crate::diagnostic::suggestion(name, ir.facts.iter().map(|f| f.name.as_str()))
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default();
                return Err(err(
                    &format!("population.facts.{name}"),
                    format!("the policy has no fact `{name}`{help}"),
                ));
            }
        }
        let mut defaults = Vec::new();
        for (i, f) in ir.facts.iter().enumerate() {
            if !listed.contains(&f.name) {
                match f.default {
                    Some(d) => {
                        defaults.push((FactId(i as u32), d));
                        if let Some(k) = loader.known.get_mut(i) {
                            *k = true;
                        }
                    }
                    None => {
                        return Err(err(
                            "population.facts",
                            format!("fact `{}` needs a distribution (it has no default)", f.name),
                        ))
                    }
                }
            }
        }
        let mut order = Vec::new();
        for (k, v) in facts_m {
            let name = key_str(k, "population.facts")?;
            let loc = format!("population.facts.{name}");
            let id = ir.fact_id(&name).ok_or_else(|| {
                let help =
                    crate::diagnostic::suggestion(&name, ir.facts.iter().map(|f| f.name.as_str()))
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default();
                err(&loc, format!("the policy has no fact `{name}`{help}"))
            })?;
            let d = loader.dist(id, v, &loc)?;
            if let Some(k) = loader.known.get_mut(id.index()) {
                *k = true;
            }
            order.push((id, d));
        }

        let mut segments = Vec::new();
        if let Some(segs) = get(pop, "segments") {
            let seq = segs
                .as_sequence()
                .ok_or_else(|| err("population.segments", "expected a list of segments"))?;
            for (i, s) in seq.iter().enumerate() {
                let loc = format!("population.segments[{i}]");
                let m = expect_map(s, &loc, "a segment")?;
                check_keys(m, &loc, &["name", "weight", "facts", "owner"])?;
                let seg_gives_up = match get(m, "owner") {
                    Some(v) => owner(v, &format!("{loc}.owner"))?,
                    None => None,
                };
                let name = get(m, "name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| err(&loc, "a segment needs a `name`"))?
                    .to_string();
                if segments.iter().any(|x: &Segment| x.name == name) {
                    return Err(err(&loc, format!("segment `{name}` is listed twice")));
                }
                let weight = get(m, "weight")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| err(&loc, "a segment needs a numeric `weight`"))?;
                if weight <= 0.0 || !weight.is_finite() {
                    return Err(err(
                        &format!("{loc}.weight"),
                        format!("weight {weight} must be positive"),
                    ));
                }
                let mut overrides = vec![None; order.len()];
                if let Some(fv) = get(m, "facts") {
                    let floc = format!("{loc}.facts");
                    let fm = expect_map(fv, &floc, "fact overrides")?;
                    for (k, v) in fm {
                        let fname = key_str(k, &floc)?;
                        let oloc = format!("{floc}.{fname}");
                        let pos = order
                            .iter()
                            .position(|(id, _)| ir.fact_id(&fname) == Some(*id))
                            .ok_or_else(|| err(&oloc, format!("a segment overrides only facts listed in `population.facts`; `{fname}` is not")))?;
                        // Conditions in an override may use facts sampled before it.
                        let mut l2 = Loader {
                            ir,
                            known: vec![false; ir.facts.len()],
                        };
                        for id in defaults
                            .iter()
                            .map(|d| d.0)
                            .chain(order.iter().take(pos).map(|o| o.0))
                        {
                            if let Some(k) = l2.known.get_mut(id.index()) {
                                *k = true;
                            }
                        }
                        let target = order
                            .get(pos)
                            .map(|x| x.0)
                            .ok_or_else(|| err(&oloc, "internal error"))?;
                        let d = l2.dist(target, v, &oloc)?;
                        if let Some(o) = overrides.get_mut(pos) {
                            *o = Some(d);
                        }
                    }
                }
                segments.push(Segment {
                    name,
                    weight,
                    overrides,
                    gives_up_after: seg_gives_up,
                });
            }
        }

        // People: every method used in some path's steps needs an entry.
        let mut people = vec![None; ir.methods.len()];
        let people_m = match get(top, "people") {
            Some(v) => Some(expect_map(v, "people", "per-method figures")?),
            None => None,
        };
        if let Some(pm) = people_m {
            for (k, v) in pm {
                let name = key_str(k, "people")?;
                let loc = format!("people.{name}");
                let id = ir
                    .method_id(&name)
                    .ok_or_else(|| unknown_method(ir, &name, &loc))?;
                let m = expect_map(v, &loc, "`{success, time}`")?;
                check_keys(m, &loc, &["success", "time"])?;
                let success = probability(
                    get(m, "success").ok_or_else(|| err(&loc, "missing `success`"))?,
                    &format!("{loc}.success"),
                )?;
                let time_s = match get(m, "time") {
                    Some(t) => duration(t, &format!("{loc}.time"))?,
                    None => 0,
                };
                if let Some(slot) = people.get_mut(id.index()) {
                    *slot = Some(Person { success, time_s });
                }
            }
        }
        for p in &ir.paths {
            for s in &p.steps {
                for m in s.methods() {
                    if people.get(m.index()).is_none_or(Option::is_none) {
                        let name = ir.methods.get(m.index()).map_or("?", |x| x.name.as_str());
                        return Err(err(
                            "people",
                            format!(
                                "method `{name}` (used by path `{}`) needs an entry: `{name}: {{success: 0.9, time: 2m}}`",
                                p.name,
                            ),
                        ));
                    }
                }
            }
        }

        let mut attackers = Vec::new();
        if let Some(av) = get(top, "attackers") {
            let am = expect_map(av, "attackers", "named attackers")?;
            for (k, v) in am {
                let name = key_str(k, "attackers")?;
                let loc = format!("attackers.{name}");
                let m = expect_map(v, &loc, "an attacker")?;
                check_keys(m, &loc, &["methods", "stopped_when_notified"])?;
                let mut success = vec![0.0; ir.methods.len()];
                if let Some(mv) = get(m, "methods") {
                    let mloc = format!("{loc}.methods");
                    for (mk, p) in expect_map(mv, &mloc, "method: chance pairs")? {
                        let mname = key_str(mk, &mloc)?;
                        let ploc = format!("{mloc}.{mname}");
                        let id = ir
                            .method_id(&mname)
                            .ok_or_else(|| unknown_method(ir, &mname, &ploc))?;
                        let p = probability(p, &ploc)?;
                        if let Some(slot) = success.get_mut(id.index()) {
                            *slot = p;
                        }
                    }
                }
                let stopped_when_notified = match get(m, "stopped_when_notified") {
                    Some(p) => stop(p, &format!("{loc}.stopped_when_notified"))?,
                    None => Stop::Const(0.0),
                };
                attackers.push(Attacker {
                    name,
                    success,
                    stopped_when_notified,
                });
            }
        }
        // Takeovers are tallied as one bit per attacker.
        if attackers.len() > 64 {
            return Err(err(
                "attackers",
                format!(
                    "{} attackers given; at most 64 are supported",
                    attackers.len()
                ),
            ));
        }
        Ok(Model {
            order,
            defaults,
            segments,
            people,
            attackers,
            human: ir
                .methods
                .iter()
                .map(|m| m.factor == Factor::Human)
                .collect(),
            gives_up_after,
            hash: sha256_hex(yaml.as_bytes()),
        })
    }
}

fn unknown_method(ir: &Ir, name: &str, loc: &str) -> ModelError {
    let help = crate::diagnostic::suggestion(name, ir.methods.iter().map(|m| m.name.as_str()))
        .map(|h| format!("; {h}"))
        .unwrap_or_default();
    err(loc, format!("the policy has no method `{name}`{help}"))
}
