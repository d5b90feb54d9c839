//! The properties the fuzz targets check, shared by the libFuzzer targets
//! (`fuzz/fuzz_targets/*.rs`) and their replay in `cargo test` (`tests/fuzz_replay.rs`),
//! so that every input ever found runs through the same assertions in CI.
//!
//! Each target is one function taking the raw input bytes. A property that does not hold
//! panics (libFuzzer records the input as a crash; the replay test fails).
//!
//! Structured targets (`differential`, `diff`) decode their bytes with [`Src`], a small
//! reader of our own rather than the `arbitrary` crate: the replay then needs no extra
//! dependency in the main crate, and the meaning of a stored corpus file cannot drift
//! with another crate's version.

#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use regain::analyze::diff::{self as rdiff, DiffError};
use regain::check::ir::{FactType, Ir};
use regain::simulate::model::{Dist, Model};
use regain::{CompileOptions, Decision, DecisionKind, Engine, Policy};

/// A target's check of one input.
pub type Check = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: &[(&str, Check)] = &[
    ("parse_check", parse_check),
    ("profile_json", profile_json),
    ("profile_yaml", profile_yaml),
    ("model", model),
    ("suite", suite),
    ("shard", shard),
    ("differential", differential),
    ("diff", diff),
];

// ---------------------------------------------------------------------------------------
// Shipped policies

/// A shipped policy with its engine and simulation model.
pub struct Shipped {
    /// File stem under `policies/`.
    pub name: &'static str,
    /// The source.
    pub source: &'static str,
    /// The checked policy.
    pub policy: Policy,
    /// Its engine.
    pub engine: Engine,
    /// The shipped model YAML.
    pub model_yaml: &'static str,
}

const SHIPPED_SRC: &[(&str, &str, &str)] = &[
    (
        "consumer",
        include_str!("../../policies/consumer.regain"),
        include_str!("../../policies/consumer.model.yaml"),
    ),
    (
        "alipay",
        include_str!("../../policies/alipay.regain"),
        include_str!("../../policies/alipay.model.yaml"),
    ),
    (
        "entra_sspr",
        include_str!("../../policies/entra_sspr.regain"),
        include_str!("../../policies/entra_sspr.model.yaml"),
    ),
];

/// The shipped policies, parsed and compiled once.
pub fn shipped() -> &'static [Shipped] {
    static S: OnceLock<Vec<Shipped>> = OnceLock::new();
    S.get_or_init(|| {
        SHIPPED_SRC
            .iter()
            .map(|(name, source, model_yaml)| {
                let policy = Policy::parse(source).expect("shipped policy checks");
                let engine = Engine::new(&policy).expect("shipped policy compiles");
                Shipped {
                    name,
                    source,
                    policy,
                    engine,
                    model_yaml,
                }
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------------------
// Helpers

/// A deterministic generator (splitmix64) for sampled profiles.
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The next 64 bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// FNV-1a of the input: the seed of its sampled profiles.
pub fn seed_of(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Profiles (dense values) of a policy's fact space: all of them when there are at most
/// `cap`, otherwise `cap` sampled ones (bounds favoured). The flag says "all".
pub fn profiles(ir: &Ir, seed: u64, cap: u64) -> (Vec<Vec<i64>>, bool) {
    let sizes: Vec<u128> = ir.facts.iter().map(|f| f.ty.size()).collect();
    let total = sizes
        .iter()
        .try_fold(1u128, |a, b| a.checked_mul(*b))
        .filter(|t| *t <= u128::from(cap));
    if let Some(total) = total {
        let all = (0..total)
            .map(|mut k| {
                ir.facts
                    .iter()
                    .zip(&sizes)
                    .map(|(f, n)| {
                        let i = k % n;
                        k /= n;
                        (i128::from(f.ty.bounds().0) + i as i128) as i64
                    })
                    .collect()
            })
            .collect();
        return (all, true);
    }
    let mut r = Rng::new(seed);
    let sampled = (0..cap)
        .map(|_| {
            ir.facts
                .iter()
                .zip(&sizes)
                .map(|(f, n)| {
                    let (lo, hi) = f.ty.bounds();
                    match r.next() % 4 {
                        0 => lo,
                        1 => hi,
                        _ => (i128::from(lo) + (u128::from(r.next()) % n) as i128) as i64,
                    }
                })
                .collect()
        })
        .collect();
    (sampled, false)
}

/// Each value lies in its fact's domain.
pub fn assert_in_domain(ir: &Ir, values: &[i64]) {
    assert_eq!(values.len(), ir.facts.len(), "one value per fact");
    for (f, v) in ir.facts.iter().zip(values) {
        let (lo, hi) = f.ty.bounds();
        assert!(
            lo <= *v && *v <= hi,
            "value {v} of `{}` outside {}",
            f.name,
            f.ty.describe()
        );
    }
}

/// A profile's values as dotted-key JSON.
pub fn json_of(ir: &Ir, values: &[i64]) -> String {
    let mut m = serde_json::Map::new();
    for (f, v) in ir.facts.iter().zip(values) {
        let j = match &f.ty {
            FactType::Bool => serde_json::Value::Bool(*v != 0),
            FactType::Int { .. } => serde_json::Value::from(*v),
            FactType::Enum(vs) => serde_json::Value::String(vs[*v as usize].clone()),
        };
        m.insert(f.name.clone(), j);
    }
    serde_json::Value::Object(m).to_string()
}

/// The engine's decision for dense values, through the typed builder (and through
/// `terminal_of`, which must agree).
pub fn engine_decides(engine: &Engine, values: &[i64]) -> Decision {
    let ir = engine.policy().ir();
    let mut b = engine.builder();
    for (f, v) in ir.facts.iter().zip(values) {
        b = match &f.ty {
            FactType::Bool => b.bool(&f.name, *v != 0),
            FactType::Int { .. } => b.int(&f.name, *v),
            FactType::Enum(vs) => b.variant(&f.name, &vs[*v as usize]),
        };
    }
    let p = b
        .build()
        .unwrap_or_else(|e| panic!("builder rejects in-domain values {values:?}: {e}"));
    assert_eq!(p.values(), values, "builder changed the values");
    let d = engine.evaluate(&p).clone();
    let t = engine
        .terminal_of(values)
        .expect("terminal_of of in-domain values");
    assert_eq!(
        &engine.graph().decisions()[t],
        &d,
        "terminal_of and evaluate disagree on {values:?}"
    );
    d
}

/// The graph of `engine` decides every profile as the reference interpreter does.
pub fn assert_graph_is_interp(engine: &Engine, profiles: &[Vec<i64>]) {
    let ir = engine.policy().ir();
    for v in profiles {
        let want = regain::interp::decide(ir, v);
        let got = engine_decides(engine, v);
        assert_eq!(
            got,
            want,
            "graph ≠ interpreter on {v:?}\n{}",
            engine.policy().source()
        );
    }
}

/// Comments of a source that parses, as the grammar reads them: `#` outside strings, up
/// to a line break (`\n` or `\r`), trailing whitespace dropped.
pub fn comments(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '"' => {
                while let Some((_, d)) = it.next() {
                    match d {
                        '\\' => {
                            it.next();
                        }
                        '"' | '\n' | '\r' => break,
                        _ => {}
                    }
                }
            }
            '#' => {
                let mut end = src.len();
                while let Some((j, d)) = it.peek() {
                    if *d == '\n' || *d == '\r' {
                        end = *j;
                        break;
                    }
                    it.next();
                }
                out.push(src[i..end].trim_end().to_string());
            }
            _ => {}
        }
    }
    out
}

/// True when every path of the source lists its clauses in fmt's order already (so fmt
/// moves no clause, and comments must keep their order exactly).
fn clauses_in_order(src: &str) -> bool {
    use regain::syntax::ast::{Clause, Item};
    let Ok(file) = regain::syntax::parse(src) else {
        return false;
    };
    let rank = |c: &Clause| match c {
        Clause::When(..) => 0,
        Clause::Steps(..) => 1,
        Clause::Grants(..) => 2,
        Clause::Wait(..) => 3,
        Clause::Notify(..) => 4,
    };
    file.items.iter().all(|it| match it {
        Item::Path(p) => p.clauses.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
        _ => true,
    })
}

/// `fmt` keeps every comment: each comment of the source is found in the output's
/// comments (fmt may join the trailing comments of one construct on one line), fmt
/// invents none, and when no clause moves, the comments keep their order exactly.
pub fn assert_comments_kept(src: &str, out: &str) {
    let before = comments(src);
    let after = comments(out);
    let joined_before = before.join(" ");
    let joined_after = after.join(" ");
    assert!(
        after.len() <= before.len(),
        "fmt invented comments:\n{before:?}\n{after:?}"
    );
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for c in &before {
        *counts.entry(c.as_str()).or_default() += 1;
    }
    for (c, n) in counts {
        assert!(
            joined_after.matches(c).count() >= n,
            "fmt lost comment {c:?}\nsource:\n{src}\nformatted:\n{out}"
        );
    }
    assert_eq!(
        joined_before.len(),
        joined_after.len(),
        "comment text changed:\n{before:?}\n{after:?}"
    );
    if joined_before != joined_after && clauses_in_order(src) {
        assert_eq!(
            joined_before, joined_after,
            "fmt reordered comments\nsource:\n{src}\nformatted:\n{out}"
        );
    }
}

/// fmt of a source that parses: succeeds, is idempotent, keeps every comment, and the
/// output checks exactly when the source does, with the same decisions on `profiles`.
pub fn assert_fmt_sound(src: &str, policy: Option<&Policy>, profile_cap: u64) {
    let out = regain::fmt::format(src)
        .unwrap_or_else(|e| panic!("fmt fails on a source that parses: {e:?}\n{src}"));
    assert_fmt_output_sound(src, &out, policy, profile_cap);
}

/// The checks of [`assert_fmt_sound`] on fmt's output `out` for `src`.
pub fn assert_fmt_output_sound(src: &str, out: &str, policy: Option<&Policy>, profile_cap: u64) {
    let again = regain::fmt::format(out).unwrap_or_else(|e| {
        panic!("fmt output does not parse: {e:?}\nsource:\n{src}\nformatted:\n{out}")
    });
    assert_eq!(again, out, "fmt is not idempotent\nsource:\n{src}");
    assert_comments_kept(src, out);
    let reparsed = Policy::parse(out);
    match (policy, reparsed) {
        (None, Err(_)) => {}
        (Some(p), Ok(q)) => {
            let (a, b) = (p.ir(), q.ir());
            assert_eq!(a.facts.len(), b.facts.len());
            for (x, y) in a.facts.iter().zip(&b.facts) {
                assert_eq!((&x.name, &x.ty), (&y.name, &y.ty), "fmt changed a fact");
            }
            let (ps, _) = profiles(a, seed_of(src.as_bytes()), profile_cap);
            for v in &ps {
                assert_eq!(
                    regain::interp::decide(a, v),
                    regain::interp::decide(b, v),
                    "fmt changed the decision on {v:?}\nsource:\n{src}\nformatted:\n{out}"
                );
            }
        }
        (p, q) => panic!(
            "the source {} but its fmt output {}\nsource:\n{src}\nformatted:\n{out}",
            if p.is_some() {
                "checks"
            } else {
                "does not check"
            },
            if q.is_ok() { "checks" } else { "does not" },
        ),
    }
}

// ---------------------------------------------------------------------------------------
// parse_check

/// Arbitrary bytes → parser + checker; when the text parses, fmt is sound; when it
/// checks, the compiled graph (small node limit) agrees with the interpreter.
pub fn parse_check(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let checked = Policy::parse(src);
    if let Err(d) = &checked {
        // Rendering the diagnostics must not panic either.
        let _ = d.to_string();
    }
    // fmt parses: it fails exactly on the sources that do not parse.
    let Ok(out) = regain::fmt::format(src) else {
        assert!(checked.is_err(), "fmt fails on a source that checks");
        return;
    };
    let policy = checked.ok();
    assert_fmt_output_sound(src, &out, policy.as_ref(), 64);
    if let Some(policy) = policy {
        if let Ok(engine) = Engine::with_options(&policy, CompileOptions { node_limit: 20_000 }) {
            let (ps, _) = profiles(policy.ir(), seed_of(data), 64);
            assert_graph_is_interp(&engine, &ps);
        }
    }
}

// ---------------------------------------------------------------------------------------
// profile_json / profile_yaml

fn check_profile(
    s: &Shipped,
    a: Result<regain::Profile, regain::ProfileError>,
    b: Result<regain::Profile, regain::ProfileError>,
) {
    let ir = s.policy.ir();
    match (a, b) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.values(), b.values(), "engine and policy loaders differ");
            assert_in_domain(ir, a.values());
            assert_eq!(
                s.engine.evaluate(&a),
                &s.policy.decide(&b),
                "engine ≠ interpreter on {:?}",
                a.values()
            );
            // The values written back as JSON load to the same values.
            let back = s
                .engine
                .profile_from_json(&json_of(ir, a.values()))
                .expect("a profile written back as JSON loads");
            assert_eq!(back.values(), a.values(), "JSON round trip changed values");
            assert_eq!(s.engine.evaluate(&back), s.engine.evaluate(&a));
        }
        (Err(x), Err(y)) => {
            assert_eq!(x, y, "engine and policy loaders give different errors");
            assert!(!x.message.is_empty(), "an error without a message");
        }
        (a, b) => panic!(
            "engine and policy loaders disagree: {:?} vs {:?}",
            a.map(|p| p.values().to_vec()),
            b.map(|p| p.values().to_vec())
        ),
    }
}

/// A shipped policy + arbitrary text → `profile_from_json`.
pub fn profile_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for s in shipped() {
        let a = s.engine.profile_from_json(text);
        if let (Ok(p), Ok(v)) = (&a, serde_json::from_str::<serde_json::Value>(text)) {
            let q = s
                .engine
                .profile_from_value(&v)
                .expect("JSON accepted as text is accepted as a value");
            assert_eq!(p.values(), q.values(), "text and value loaders differ");
        }
        check_profile(s, a, s.policy.profile_from_json(text));
    }
}

/// A shipped policy + arbitrary text → `profile_from_yaml`.
pub fn profile_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for s in shipped() {
        check_profile(
            s,
            s.engine.profile_from_yaml(text),
            s.policy.profile_from_yaml(text),
        );
    }
}

// ---------------------------------------------------------------------------------------
// model

fn p_ok(p: f64, what: &str) {
    assert!(
        p.is_finite() && (0.0..=1.0).contains(&p),
        "{what}: probability {p} accepted"
    );
}

fn check_dist(ir: &Ir, f: usize, d: &Dist) {
    let ty = &ir.facts[f].ty;
    let (lo, hi) = ty.bounds();
    let within = |v: i64| assert!(lo <= v && v <= hi, "value {v} outside {}", ty.describe());
    match d {
        Dist::Const(v) => within(*v),
        Dist::Bernoulli(p) => {
            assert_eq!(ty, &FactType::Bool, "a probability for a non-bool fact");
            p_ok(*p, "bernoulli");
        }
        Dist::Uniform(a, b) => {
            assert!(a <= b, "uniform {a}..{b}");
            within(*a);
            within(*b);
        }
        Dist::Weights(ws) => {
            assert!(!ws.is_empty(), "no weights");
            let mut sum = 0.0;
            for w in ws.windows(2) {
                assert!(w[0].0 < w[1].0, "weights not in increasing value order");
            }
            for (v, p) in ws {
                within(*v);
                p_ok(*p, "weight");
                sum += p;
            }
            assert!((sum - 1.0).abs() < 1e-9, "weights sum to {sum}");
        }
        Dist::Cond {
            then, otherwise, ..
        } => {
            check_dist(ir, f, then);
            check_dist(ir, f, otherwise);
        }
    }
}

/// Arbitrary YAML as the simulation model of each shipped policy: a model that loads is
/// valid (every probability in [0, 1], every value in its domain) and simulates.
pub fn model(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for s in shipped() {
        let Ok(m) = Model::from_yaml(&s.policy, text) else {
            continue;
        };
        let ir = s.policy.ir();
        for (f, d) in &m.order {
            check_dist(ir, f.index(), d);
        }
        for (f, v) in &m.defaults {
            check_dist(ir, f.index(), &Dist::Const(*v));
        }
        for seg in &m.segments {
            assert!(
                seg.weight.is_finite() && seg.weight >= 0.0,
                "segment weight"
            );
            assert_eq!(seg.overrides.len(), m.order.len());
            for ((f, _), o) in m.order.iter().zip(&seg.overrides) {
                if let Some(d) = o {
                    check_dist(ir, f.index(), d);
                }
            }
        }
        assert_eq!(m.people.len(), ir.methods.len());
        for p in m.people.iter().flatten() {
            p_ok(p.success, "owner success");
        }
        for a in &m.attackers {
            assert_eq!(a.success.len(), ir.methods.len());
            for p in &a.success {
                p_ok(*p, "attacker success");
            }
            for w in [1u64, 3_600, 86_400, 604_800, u64::MAX] {
                p_ok(a.stopped_when_notified.at(w), "stopped_when_notified");
            }
        }
        let opts = regain::simulate::Options {
            trials: 300,
            seed: seed_of(data),
            threads: 1,
            shard: None,
        };
        regain::simulate::simulate(&s.engine, &m, opts, &|_| {})
            .unwrap_or_else(|e| panic!("a model that loads does not simulate: {e}"));
        // --exact on small spaces (the domain sizes bound the class combinations).
        let space = m.order.iter().try_fold(1u128, |a, (f, _)| {
            a.checked_mul(ir.facts[f.index()].ty.size())
        });
        if space.is_some_and(|n| n <= 4096) {
            regain::simulate::exact::exact(&s.engine, &m)
                .unwrap_or_else(|e| panic!("--exact fails on a small valid model: {e}"));
        }
    }
}

// ---------------------------------------------------------------------------------------
// suite

fn suite_dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("regain-fuzz-suite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for s in SHIPPED_SRC {
            std::fs::write(dir.join(format!("{}.regain", s.0)), s.1).expect("write policy");
        }
        // The policy of the suite fixtures in tests/fixtures/suites.
        std::fs::write(
            dir.join("design.regain"),
            include_str!("../../tests/fixtures/suites/design.regain"),
        )
        .expect("write policy");
        dir
    })
}

/// Remove the suite target's temporary directory (the replay test calls it at the end).
pub fn cleanup() {
    let dir = std::env::temp_dir().join(format!("regain-fuzz-suite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(dir);
}

/// Arbitrary YAML as a suite file next to the shipped policies: loading never panics; a
/// suite that loads runs, one result per case.
pub fn suite(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The suite names its policy file; keep the fuzzer to the files of its own directory
    // (no device files, no reads elsewhere).
    if let Ok(serde_yaml::Value::Mapping(m)) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        if let Some(p) = m.get("policy") {
            match p.as_str() {
                Some(p) if !p.contains(['/', '\\']) && !p.starts_with('.') => {}
                Some(_) => return,
                None => {}
            }
        }
    }
    let path = suite_dir().join("suite.yaml");
    std::fs::write(&path, text).expect("write suite");
    let Ok(suite) = regain::suite::Suite::load(&path) else {
        return;
    };
    let results = suite.run(None);
    assert_eq!(results.len(), suite.cases.len());
    for r in &results {
        assert_eq!(
            r.passed(),
            r.failures.is_empty(),
            "{}: passed vs failures",
            r.name
        );
    }
    let _ = regain::suite::coverage(&suite, &results, 20);
}

// ---------------------------------------------------------------------------------------
// shard

/// Shard reports of the consumer policy (the shipped model, 3 shards): the seed corpus.
pub fn shard_seed(k: u64, n: u64) -> String {
    let s = &shipped()[0];
    let m = Model::from_yaml(&s.policy, s.model_yaml).expect("shipped model");
    let opts = regain::simulate::Options {
        trials: 1000,
        seed: 7,
        threads: 1,
        shard: Some((k, n)),
    };
    let r = regain::simulate::simulate(&s.engine, &m, opts, &|_| {}).expect("shard");
    serde_json::to_string(&r).expect("json")
}

/// Arbitrary texts (separated by a 0xFF byte) as the shard files of a `merge`: reading
/// a shard and merging never panic, and a merge that succeeds covers every slice.
pub fn shard(data: &[u8]) {
    let mut shards = Vec::new();
    for (i, part) in data.split(|b| *b == 0xFF).take(8).enumerate() {
        let Ok(text) = std::str::from_utf8(part) else {
            return;
        };
        match regain::simulate::parse_shard(text) {
            Ok(s) => shards.push((format!("shard{i}.json"), s)),
            Err(e) => {
                assert!(!e.to_string().is_empty(), "an error says why");
                return;
            }
        }
    }
    let _ = regain::simulate::merge(&shards);
}

// ---------------------------------------------------------------------------------------
// Structured input: a random well-typed policy

/// Reads decisions from the fuzzer's bytes; zeros once they run out, so every input,
/// even the empty one, decodes to a (small) policy.
pub struct Src<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Src<'a> {
    /// Over these bytes.
    pub fn new(data: &'a [u8]) -> Self {
        Src { data, pos: 0 }
    }
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    /// A number in `0..n` (0 when n ≤ 1).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else if n <= 256 {
            self.byte() as usize % n
        } else {
            (self.byte() as usize | (self.byte() as usize) << 8) % n
        }
    }
    /// True with `pct` percent.
    pub fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

/// A fact's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// bool
    Bool,
    /// int lo..hi
    Int(i64, i64),
    /// variants
    Enum(Vec<String>),
}

/// A generated fact.
#[derive(Clone, Debug)]
pub struct GFact {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: Ty,
    /// Default, as written.
    pub default: Option<String>,
}

/// A generated expression; literals are kept as written.
#[derive(Clone, Debug)]
pub enum E {
    /// true / false
    Lit(bool),
    /// a bool fact
    Fact(String),
    /// fact op literal
    Cmp(String, &'static str, String),
    /// fact in [literals]
    In(String, Vec<String>),
    /// not
    Not(Box<E>),
    /// and
    And(Vec<E>),
    /// or
    Or(Vec<E>),
    /// ( )
    Paren(Box<E>),
}

impl E {
    fn count(&self) -> usize {
        1 + match self {
            E::Not(x) | E::Paren(x) => x.count(),
            E::And(xs) | E::Or(xs) => xs.iter().map(E::count).sum(),
            _ => 0,
        }
    }
    fn nth(&mut self, mut k: usize) -> &mut E {
        if k == 0 {
            return self;
        }
        k -= 1;
        match self {
            E::Not(x) | E::Paren(x) => x.nth(k),
            E::And(xs) | E::Or(xs) => {
                for x in xs.iter_mut() {
                    let c = x.count();
                    if k < c {
                        return x.nth(k);
                    }
                    k -= c;
                }
                unreachable!("index within count")
            }
            _ => unreachable!("index within count"),
        }
    }
}

/// A step.
#[derive(Clone, Debug)]
pub enum GStep {
    /// One method.
    Method(String),
    /// any n of (methods)
    Any(usize, Vec<String>),
}

/// A generated method.
#[derive(Clone, Debug)]
pub struct GMethod {
    name: String,
    factor: &'static str,
    restricted: bool,
    requires: Option<E>,
}

/// A generated path.
#[derive(Clone, Debug)]
pub struct GPath {
    name: String,
    title: Option<String>,
    when: Option<E>,
    steps: Vec<GStep>,
    grants: String,
    wait: Option<String>,
    notify: Vec<String>,
    /// Clause order as written (a permutation of when, steps, grants, wait, notify).
    order: Vec<u8>,
}

/// A generated policy.
#[derive(Clone, Debug)]
pub struct GPolicy {
    /// Facts.
    pub facts: Vec<GFact>,
    methods: Vec<GMethod>,
    denies: Vec<(String, E)>,
    paths: Vec<GPath>,
}

const FACT_NAMES: &[&str] = &[
    "f",
    "g.h",
    "order",
    "android",
    "notable",
    "integer",
    "in_x",
    "trueish",
    "whenever",
    "a.b.c",
    "_u",
    "phone.active",
];
const METHOD_NAMES: &[&str] = &["m", "pin", "sms", "deny_x", "orbit", "notify_me", "then_x"];
const VARIANTS: &[&str] = &[
    "low",
    "high",
    "in_progress",
    "nothing",
    "v_1",
    "orange",
    "_x",
];
const FACTORS: &[&str] = &["knowledge", "possession", "inherence", "document", "human"];
const REASONS: &[&str] = &[
    "reason",
    "has \"quotes\"",
    "back\\slash",
    "# not a comment",
    "é ✓",
    "",
];

fn literal(ty: &Ty, v: i64) -> String {
    match ty {
        Ty::Bool => (v != 0).to_string(),
        Ty::Int(..) => v.to_string(),
        Ty::Enum(vs) => vs[v as usize % vs.len()].clone(),
    }
}

impl GPolicy {
    /// Decode a policy: 1–4 facts, 1–3 methods, 0–2 deny rules, 1–3 paths.
    pub fn generate(s: &mut Src) -> GPolicy {
        let nf = 1 + s.below(4);
        let facts: Vec<GFact> = (0..nf)
            .map(|i| {
                let name = format!("{}{i}", s.pick(FACT_NAMES));
                let ty = match s.below(3) {
                    0 => Ty::Bool,
                    1 => match s.below(10) {
                        0 => Ty::Int(i64::MIN, i64::MIN + s.below(4) as i64),
                        1 => Ty::Int(i64::MAX - s.below(4) as i64, i64::MAX),
                        _ => {
                            let lo = s.below(7) as i64 - 3;
                            Ty::Int(lo, lo + s.below(6) as i64)
                        }
                    },
                    _ => {
                        let n = 2 + s.below(3);
                        let start = s.below(VARIANTS.len());
                        Ty::Enum(
                            (0..n)
                                .map(|k| VARIANTS[(start + k) % VARIANTS.len()].to_string())
                                .collect(),
                        )
                    }
                };
                let default = if s.chance(20) {
                    let v = match &ty {
                        Ty::Bool => s.below(2) as i64,
                        Ty::Int(lo, hi) => lo.saturating_add(s.below(3) as i64).min(*hi),
                        Ty::Enum(vs) => s.below(vs.len()) as i64,
                    };
                    Some(literal(&ty, v))
                } else {
                    None
                };
                GFact { name, ty, default }
            })
            .collect();
        let nm = 1 + s.below(3);
        let methods: Vec<GMethod> = (0..nm)
            .map(|i| GMethod {
                name: format!("{}{i}", s.pick(METHOD_NAMES)),
                factor: s.pick(FACTORS),
                restricted: s.chance(20),
                requires: if s.chance(70) {
                    Some(gen_expr(s, &facts, 2))
                } else {
                    None
                },
            })
            .collect();
        let names: Vec<String> = methods.iter().map(|m| m.name.clone()).collect();
        let denies = (0..s.below(3))
            .map(|_| (s.pick(REASONS).to_string(), gen_expr(s, &facts, 2)))
            .collect();
        let np = 1 + s.below(3);
        let paths = (0..np).map(|i| gen_path(s, &facts, &names, i)).collect();
        GPolicy {
            facts,
            methods,
            denies,
            paths,
        }
    }

    fn roots(&mut self) -> Vec<&mut E> {
        let mut out: Vec<&mut E> = Vec::new();
        for m in &mut self.methods {
            if let Some(e) = &mut m.requires {
                out.push(e);
            }
        }
        for (_, e) in &mut self.denies {
            out.push(e);
        }
        for p in &mut self.paths {
            if let Some(e) = &mut p.when {
                out.push(e);
            }
        }
        out
    }

    /// The k-th expression node over all expressions (None when there is none).
    fn nth_expr(&mut self, k: usize) -> Option<&mut E> {
        let mut roots = self.roots();
        let total: usize = roots.iter().map(|e| e.count()).sum();
        if total == 0 {
            return None;
        }
        let mut k = k % total;
        for r in roots.drain(..) {
            let c = r.count();
            if k < c {
                return Some(r.nth(k));
            }
            k -= c;
        }
        None
    }

    /// The source, with comments placed by `s` when `comments` is set.
    pub fn render(&self, s: &mut Src, comments: bool) -> String {
        let mut w = Writer {
            s,
            comments,
            next: 0,
            out: String::new(),
        };
        w.own_line("");
        w.line("policy generated");
        w.blank();
        let order = if w.comments { w.s.below(4) } else { 0 };
        // Items in a decoded order: facts, methods, denies, paths (or a shuffle of blocks).
        let mut blocks: Vec<u8> = vec![0, 1, 2, 3];
        if order == 1 {
            blocks = vec![2, 0, 3, 1];
        }
        for b in blocks {
            match b {
                0 => {
                    w.own_line("");
                    w.line("facts {");
                    for f in &self.facts {
                        let ty = match &f.ty {
                            Ty::Bool => "bool".to_string(),
                            Ty::Int(lo, hi) => format!("int {lo}..{hi}"),
                            Ty::Enum(vs) => vs.join(" | "),
                        };
                        let d = f
                            .default
                            .as_ref()
                            .map(|d| format!(" = {d}"))
                            .unwrap_or_default();
                        w.own_line("  ");
                        w.line(&format!("  {}: {ty}{d}", f.name));
                    }
                    w.own_line("  ");
                    w.line("}");
                    w.blank();
                }
                1 => {
                    w.own_line("");
                    w.line("methods {");
                    for m in &self.methods {
                        w.own_line("  ");
                        w.raw(&format!("  {}: {}", m.name, m.factor));
                        if m.restricted {
                            w.raw(" restricted");
                        }
                        if let Some(r) = &m.requires {
                            w.raw(" requires ");
                            w.expr(r);
                        }
                        w.end_line();
                    }
                    w.own_line("  ");
                    w.line("}");
                    w.blank();
                }
                2 => {
                    for (reason, e) in &self.denies {
                        w.own_line("");
                        w.raw(&format!("deny {} when ", quote(reason)));
                        w.expr(e);
                        w.end_line();
                    }
                    w.blank();
                }
                _ => {
                    for p in &self.paths {
                        w.own_line("");
                        let title = p
                            .title
                            .as_ref()
                            .map(|t| format!(" {}", quote(t)))
                            .unwrap_or_default();
                        w.line(&format!("path {}{title} {{", p.name));
                        for c in &p.order {
                            match c {
                                0 => {
                                    if let Some(e) = &p.when {
                                        w.own_line("  ");
                                        w.raw("  when ");
                                        w.expr(e);
                                        w.end_line();
                                    }
                                }
                                1 => {
                                    w.own_line("  ");
                                    let steps: Vec<String> = p
                                        .steps
                                        .iter()
                                        .map(|st| match st {
                                            GStep::Method(m) => m.clone(),
                                            GStep::Any(n, ms) => {
                                                format!("any {n} of ({})", ms.join(", "))
                                            }
                                        })
                                        .collect();
                                    w.line(&format!("  steps {}", steps.join(" then ")));
                                }
                                2 => {
                                    w.own_line("  ");
                                    w.line(&format!("  grants {}", p.grants));
                                }
                                3 => {
                                    if let Some(d) = &p.wait {
                                        w.own_line("  ");
                                        w.line(&format!("  wait {d}"));
                                    }
                                }
                                _ => {
                                    if !p.notify.is_empty() {
                                        w.own_line("  ");
                                        w.line(&format!("  notify {}", p.notify.join(", ")));
                                    }
                                }
                            }
                        }
                        w.own_line("  ");
                        w.line("}");
                        w.blank();
                    }
                }
            }
        }
        w.own_line("");
        w.out
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn gen_expr(s: &mut Src, facts: &[GFact], depth: u32) -> E {
    let roll = s.below(10);
    if depth > 0 && roll < 2 {
        let n = 2 + s.below(2);
        let xs = (0..n).map(|_| gen_expr(s, facts, depth - 1)).collect();
        return if s.chance(50) { E::And(xs) } else { E::Or(xs) };
    }
    if depth > 0 && roll == 2 {
        return E::Not(Box::new(gen_expr(s, facts, depth - 1)));
    }
    if depth > 0 && roll == 3 && s.chance(30) {
        return E::Paren(Box::new(gen_expr(s, facts, depth - 1)));
    }
    if roll == 4 && s.chance(20) {
        return E::Lit(s.chance(50));
    }
    let f = &facts[s.below(facts.len())];
    leaf(s, f)
}

fn leaf(s: &mut Src, f: &GFact) -> E {
    match &f.ty {
        Ty::Bool => match s.below(3) {
            0 => E::Fact(f.name.clone()),
            1 => E::Cmp(f.name.clone(), "==", s.chance(50).to_string()),
            _ => E::Cmp(f.name.clone(), "!=", s.chance(50).to_string()),
        },
        Ty::Int(lo, hi) => {
            let val = |s: &mut Src| -> String {
                let span = (*hi as i128 - *lo as i128 + 3) as usize;
                let v = *lo as i128 - 1 + s.below(span.min(64)) as i128;
                v.clamp(i64::MIN as i128, i64::MAX as i128).to_string()
            };
            if s.chance(20) {
                let n = 1 + s.below(3);
                E::In(f.name.clone(), (0..n).map(|_| val(s)).collect())
            } else {
                let op = s.pick(&["==", "!=", "<", "<=", ">", ">="]);
                E::Cmp(f.name.clone(), op, val(s))
            }
        }
        Ty::Enum(vs) => {
            if s.chance(30) {
                let n = 1 + s.below(vs.len());
                E::In(f.name.clone(), (0..n).map(|_| s.pick(vs)).collect())
            } else {
                let op = s.pick(&["==", "!="]);
                E::Cmp(f.name.clone(), op, s.pick(vs))
            }
        }
    }
}

fn gen_path(s: &mut Src, facts: &[GFact], methods: &[String], i: usize) -> GPath {
    let ns = 1 + s.below(3);
    let steps = (0..ns)
        .map(|_| {
            if methods.len() > 1 && s.chance(40) {
                let mut pool = methods.to_vec();
                let k = 2 + s.below(pool.len() - 1);
                let listed: Vec<String> = (0..k.min(pool.len()))
                    .map(|_| {
                        let j = s.below(pool.len());
                        pool.remove(j)
                    })
                    .collect();
                GStep::Any(1 + s.below(listed.len()), listed)
            } else {
                GStep::Method(s.pick(methods))
            }
        })
        .collect();
    let mut order: Vec<u8> = vec![0, 1, 2, 3, 4];
    if s.chance(30) {
        // A decoded permutation (fmt puts the clauses back in order).
        for j in (1..order.len()).rev() {
            let k = s.below(j + 1);
            order.swap(j, k);
        }
    }
    GPath {
        name: format!("{}{i}", s.pick(&["p", "path_", "android", "wait_x"])),
        title: if s.chance(20) {
            Some(s.pick(REASONS).to_string())
        } else {
            None
        },
        when: if s.chance(60) {
            Some(gen_expr(s, facts, 2))
        } else {
            None
        },
        steps,
        grants: s
            .pick(&["reset", "reset_password", "recover_x"])
            .to_string(),
        wait: if s.chance(30) {
            Some(format!(
                "{}{}",
                1 + s.below(72),
                s.pick(&["s", "m", "h", "d"])
            ))
        } else {
            None
        },
        notify: if s.chance(50) {
            vec![s.pick(methods)]
        } else {
            Vec::new()
        },
        order,
    }
}

struct Writer<'s, 'a> {
    s: &'s mut Src<'a>,
    comments: bool,
    next: u32,
    out: String,
}

const COMMENT_TAILS: &[&str] = &[
    "",
    " \"q\"",
    " # inner",
    " \\",
    " é ✓",
    "  spaced  ",
    "\ttab",
    " \"open",
];

impl Writer<'_, '_> {
    fn comment(&mut self) -> String {
        self.next += 1;
        let tail = self.s.pick(COMMENT_TAILS);
        format!("# c{}{tail}", self.next)
    }
    fn own_line(&mut self, indent: &str) {
        if self.comments && self.s.chance(15) {
            let c = self.comment();
            self.out.push_str(&format!("{indent}{c}\n"));
        }
    }
    fn raw(&mut self, t: &str) {
        self.out.push_str(t);
    }
    fn end_line(&mut self) {
        if self.comments && self.s.chance(20) {
            let c = self.comment();
            self.out.push_str(&format!("  {c}"));
        }
        self.out.push('\n');
    }
    fn line(&mut self, t: &str) {
        self.raw(t);
        self.end_line();
    }
    fn blank(&mut self) {
        self.out.push('\n');
    }
    /// Sometimes a line break (with a comment) inside an expression.
    fn maybe_break(&mut self) {
        if self.comments && self.s.chance(8) {
            let c = self.comment();
            self.out.push_str(&format!(" {c}\n    "));
        }
    }
    fn expr(&mut self, e: &E) {
        match e {
            E::Lit(b) => self.raw(&b.to_string()),
            E::Fact(n) => self.raw(n),
            E::Cmp(n, op, l) => self.raw(&format!("{n} {op} {l}")),
            E::In(n, ls) => self.raw(&format!("{n} in [{}]", ls.join(", "))),
            E::Not(x) => {
                self.raw("not ");
                self.operand(x, true);
            }
            E::Paren(x) => {
                self.raw("(");
                self.expr(x);
                self.raw(")");
            }
            E::And(xs) | E::Or(xs) => {
                let kw = if matches!(e, E::And(_)) {
                    " and "
                } else {
                    " or "
                };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        self.raw(kw);
                        self.maybe_break();
                    }
                    // Chains inside chains (and under `not`) are parenthesised.
                    self.operand(x, true);
                }
            }
        }
    }
    fn operand(&mut self, x: &E, tight: bool) {
        if tight && matches!(x, E::And(_) | E::Or(_)) {
            self.raw("(");
            self.expr(x);
            self.raw(")");
        } else {
            self.expr(x);
        }
    }
}

/// Random policy + comments → graph ≡ interpreter on its profiles, and fmt then re-parse
/// gives the same decisions with every comment kept.
pub fn differential(data: &[u8]) {
    let mut s = Src::new(data);
    let g = GPolicy::generate(&mut s);
    let src = g.render(&mut s, true);
    let policy = Policy::parse(&src)
        .unwrap_or_else(|e| panic!("a generated well-typed policy does not check:\n{e}\n{src}"));
    let engine = Engine::new(&policy).unwrap_or_else(|e| panic!("does not compile: {e}\n{src}"));
    let (ps, _) = profiles(policy.ir(), seed_of(data), 256);
    assert_graph_is_interp(&engine, &ps);
    assert_fmt_sound(&src, Some(&policy), 256);
}

// ---------------------------------------------------------------------------------------
// diff

fn mutate(s: &mut Src, g: &mut GPolicy) -> &'static str {
    let kind = s.below(18);
    let pick = s.below(1 << 16);
    match kind {
        0 => {
            if let Some(e) = g.nth_expr(pick) {
                *e = match std::mem::replace(e, E::Lit(true)) {
                    E::And(xs) => E::Or(xs),
                    E::Or(xs) => E::And(xs),
                    other => E::Not(Box::new(other)),
                };
            }
            "flip and/or"
        }
        1 => {
            if let Some(e) = g.nth_expr(pick) {
                let inner = std::mem::replace(e, E::Lit(true));
                *e = E::Not(Box::new(inner));
            }
            "negate"
        }
        2 => {
            let op = s.pick(&["==", "!=", "<", "<=", ">", ">="]);
            if let Some(E::Cmp(_, o, _)) = g.nth_expr(pick) {
                *o = op;
            }
            "change an operator"
        }
        3 => {
            let facts = g.facts.clone();
            let e = gen_expr(s, &facts, 1);
            let p = {
                let n = g.paths.len();
                &mut g.paths[pick % n]
            };
            p.when = if p.when.is_some() { None } else { Some(e) };
            "toggle a when"
        }
        4 => {
            if g.denies.is_empty() || s.chance(50) {
                let facts = g.facts.clone();
                let e = gen_expr(s, &facts, 1);
                g.denies.push((format!("new {pick}"), e));
            } else {
                g.denies.remove(pick % g.denies.len());
            }
            "add or remove a deny rule"
        }
        5 => {
            let f = GFact {
                name: "extra.flag".into(),
                ty: Ty::Bool,
                default: None,
            };
            g.facts.push(f);
            let p = {
                let n = g.paths.len();
                &mut g.paths[pick % n]
            };
            p.when = Some(match p.when.take() {
                Some(w) => E::And(vec![w, E::Fact("extra.flag".into())]),
                None => E::Fact("extra.flag".into()),
            });
            "add a fact"
        }
        6 => {
            if g.facts.len() > 1 {
                g.facts.remove(pick % g.facts.len());
            }
            "remove a fact"
        }
        7 => {
            for f in &mut g.facts {
                if let Ty::Enum(vs) = &mut f.ty {
                    vs.reverse();
                    break;
                }
            }
            "reorder enum variants"
        }
        8 => {
            let i = pick % g.facts.len();
            let f = &mut g.facts[i];
            f.ty = match &f.ty {
                Ty::Bool => Ty::Int(0, 1),
                Ty::Int(lo, hi) => Ty::Int(*lo, hi.saturating_add(1)),
                Ty::Enum(vs) => {
                    let mut vs = vs.clone();
                    vs.push("added_v".into());
                    Ty::Enum(vs)
                }
            };
            "change a type"
        }
        9 => {
            let m = {
                let n = g.methods.len();
                &mut g.methods[pick % n]
            };
            m.restricted = !m.restricted;
            "toggle restricted"
        }
        10 => {
            let facts = g.facts.clone();
            let e = gen_expr(s, &facts, 1);
            let m = {
                let n = g.methods.len();
                &mut g.methods[pick % n]
            };
            m.requires = if m.requires.is_some() { None } else { Some(e) };
            "toggle requires"
        }
        11 => {
            let p = {
                let n = g.paths.len();
                &mut g.paths[pick % n]
            };
            for st in &mut p.steps {
                if let GStep::Any(n, ms) = st {
                    *n = 1 + (*n % ms.len());
                    break;
                }
            }
            "change any n"
        }
        12 => {
            if g.paths.len() > 1 {
                let i = pick % g.paths.len();
                let j = (i + 1) % g.paths.len();
                g.paths.swap(i, j);
            }
            "swap paths"
        }
        13 => {
            let p = {
                let n = g.paths.len();
                &mut g.paths[pick % n]
            };
            p.name = format!("renamed_{}", p.name);
            "rename a path"
        }
        14 => {
            if let Some(d) = g.denies.first_mut() {
                d.0.push_str(" (edited)");
            }
            "edit a reason"
        }
        15 => {
            let p = {
                let n = g.paths.len();
                &mut g.paths[pick % n]
            };
            p.wait = if p.wait.is_some() {
                None
            } else {
                Some("2h".into())
            };
            "toggle a wait"
        }
        16 => {
            let name = match g.nth_expr(pick) {
                Some(E::Cmp(n, ..) | E::In(n, ..) | E::Fact(n)) => Some(n.clone()),
                _ => None,
            };
            if let Some(f) = name.and_then(|n| g.facts.iter().find(|f| f.name == n).cloned()) {
                let new = leaf(s, &f);
                if let Some(e) = g.nth_expr(pick) {
                    *e = new;
                }
            }
            "change a comparison"
        }
        _ => "no change",
    }
}

fn key(d: &Decision) -> (DecisionKind, Vec<String>, Vec<String>) {
    (
        d.kind(),
        d.path_names().iter().map(|s| s.to_string()).collect(),
        d.denied_by().to_vec(),
    )
}

fn same_type(a: &FactType, b: &FactType) -> bool {
    match (a, b) {
        (FactType::Enum(x), FactType::Enum(y)) => {
            let (mut x, mut y) = (x.clone(), y.clone());
            x.sort();
            y.sort();
            x == y
        }
        // An int whose range changed is compared over the union of both ranges.
        (FactType::Int { .. }, FactType::Int { .. }) => true,
        _ => a == b,
    }
}

/// Random policy and a random mutation → `diff`'s regions ≡ evaluating both versions:
/// every profile decided differently lies in exactly one region (with both decisions),
/// none decided alike lies in any, and the shares are exact.
pub fn diff(data: &[u8]) {
    let mut s = Src::new(data);
    let g = GPolicy::generate(&mut s);
    let mut h = g.clone();
    let what = mutate(&mut s, &mut h);
    let old_src = g.render(&mut s, false);
    let new_src = h.render(&mut s, false);
    let old = Policy::parse(&old_src)
        .unwrap_or_else(|e| panic!("a generated policy does not check:\n{e}\n{old_src}"));
    let Ok(new) = Policy::parse(&new_src) else {
        return; // e.g. a removed fact still in use
    };
    let (a, b) = (old.ir(), new.ir());
    let type_changed = b.facts.iter().any(|f| {
        a.fact_id(&f.name)
            .is_some_and(|i| !same_type(&a.facts[i.index()].ty, &f.ty))
    });
    let range_changed = b.facts.iter().any(|f| {
        a.fact_id(&f.name)
            .is_some_and(|i| a.facts[i.index()].ty != f.ty)
    });
    let d = match rdiff::diff(&old, &new, CompileOptions::default()) {
        Ok(d) => {
            assert!(!type_changed, "diff accepted a changed type ({what})");
            if range_changed {
                assert!(d.changes.iter().any(|c| c.what == "fact.domain"), "{what}");
                return; // profiles outside one range: not enumerated here
            }
            d
        }
        Err(DiffError::TypeChanged { .. }) => {
            assert!(
                type_changed,
                "diff reports a type change that is not ({what})"
            );
            return;
        }
        Err(e) => panic!("diff fails: {e}\n{old_src}\n{new_src}"),
    };
    // The universe: old facts, then new-only facts.
    let mut uni = a.clone();
    for f in &b.facts {
        if uni.fact_id(&f.name).is_none() {
            uni.facts.push(f.clone());
        }
    }
    let (profiles, all) = profiles(&uni, seed_of(data), 1024);
    let project = |ir: &Ir, v: &[i64]| -> Vec<i64> {
        ir.facts
            .iter()
            .map(|f| {
                let i = uni.fact_id(&f.name).expect("fact in universe").index();
                match (&f.ty, &uni.facts[i].ty) {
                    (FactType::Enum(vs), FactType::Enum(us)) => {
                        let name = &us[v[i] as usize];
                        vs.iter().position(|x| x == name).expect("same variants") as i64
                    }
                    _ => v[i],
                }
            })
            .collect()
    };
    let facts_block: String = uni
        .facts
        .iter()
        .map(|f| format!("  {}: {}\n", f.name, f.ty.describe()))
        .collect();
    let conds: Vec<Policy> = d
        .regions
        .iter()
        .map(|r| {
            let src = format!(
                "policy c\nfacts {{\n{facts_block}}}\nmethods {{ m: human }}\ndeny \"r\" when {}\npath p {{ steps m grants r }}\n",
                r.condition
            );
            Policy::parse(&src).unwrap_or_else(|e| {
                panic!("a diff region does not parse as a condition: {}\n{e}", r.condition)
            })
        })
        .collect();
    let ctx = || format!("mutation: {what}\n--- old\n{old_src}\n--- new\n{new_src}");
    let mut differing = 0u64;
    let mut per_region = vec![0u64; d.regions.len()];
    for v in &profiles {
        let x = regain::interp::decide(a, &project(a, v));
        let y = regain::interp::decide(b, &project(b, v));
        let differs = !x.same_as(&y);
        let hits: Vec<usize> = conds
            .iter()
            .enumerate()
            .filter(|(_, c)| c.ir().denies[0].when.eval(v))
            .map(|(i, _)| i)
            .collect();
        if differs {
            differing += 1;
            if d.truncated && hits.is_empty() {
                continue;
            }
            assert_eq!(
                hits.len(),
                1,
                "{v:?} is decided differently but lies in regions {hits:?}\n{}",
                ctx()
            );
            let r = &d.regions[hits[0]];
            per_region[hits[0]] += 1;
            assert!(
                r.old.decision == x.kind()
                    && r.old.denied_by == x.denied_by()
                    && r.old.paths.len() == x.paths().len()
                    && r.old.paths.iter().zip(x.paths()).all(|(p, q)| p.same_as(q)),
                "old side of region {}\n{}",
                r.condition,
                ctx()
            );
            assert!(
                r.new.decision == y.kind()
                    && r.new.denied_by == y.denied_by()
                    && r.new.paths.len() == y.paths().len()
                    && r.new.paths.iter().zip(y.paths()).all(|(p, q)| p.same_as(q)),
                "new side of region {}\n{}",
                r.condition,
                ctx()
            );
        } else {
            assert!(
                hits.is_empty(),
                "{v:?} is decided alike but lies in region {:?}\n{}",
                hits.iter()
                    .map(|i| &d.regions[*i].condition)
                    .collect::<Vec<_>>(),
                ctx()
            );
        }
    }
    if all {
        let n = profiles.len() as f64;
        let material = d.changes.iter().any(|c| c.material);
        assert_eq!(
            d.equivalent,
            differing == 0 && !material,
            "equivalent\n{}",
            ctx()
        );
        assert!(
            (d.share - differing as f64 / n).abs() < 1e-9,
            "share {} vs {}\n{}",
            d.share,
            differing as f64 / n,
            ctx()
        );
        if !d.truncated {
            for (r, c) in d.regions.iter().zip(&per_region) {
                assert!(
                    (r.share - *c as f64 / n).abs() < 1e-9,
                    "region {} share {} vs {}\n{}",
                    r.condition,
                    r.share,
                    *c as f64 / n,
                    ctx()
                );
            }
        }
    } else if differing > 0 {
        assert!(
            !d.equivalent,
            "a differing profile but `equivalent`\n{}",
            ctx()
        );
    }
    if what == "no change" {
        assert!(
            d.equivalent && d.regions.is_empty(),
            "diff of a policy with itself"
        );
    }
}
