//! Shared by the benchmarks: generated recovery policies of a given size, and a fixed
//! set of alipay profiles.
#![allow(dead_code)]

/// xorshift64*: deterministic, dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// A recovery policy with `paths` paths over `facts` facts, shaped like a large real
/// policy: the paths are grouped by an `account.segment` enum (country, product, account
/// type…), ten paths a segment, and each path's `when` adds one or two channel facts.
/// Three quarters of the facts are bool channels, the rest int (days) and enum (risk).
/// Twelve methods (a real vocabulary: SMS, email, app, questions, card, ID…), each
/// requiring one or two facts.
pub fn generated(paths: usize, facts: usize, seed: u64) -> String {
    generate(paths, facts, seed, true)
}

/// Like [`generated`], but with no segments: every path may apply to everyone, so the
/// number of distinct decisions (terminals) grows exponentially with the paths.
pub fn unsegmented(paths: usize, facts: usize, seed: u64) -> String {
    generate(paths, facts, seed, false)
}

fn generate(paths: usize, facts: usize, seed: u64, segmented: bool) -> String {
    let mut r = Rng::new(seed);
    let mut src = format!("policy generated_{paths}_{facts}\nfacts {{\n");
    let segments = paths.div_ceil(10).max(2);
    if segmented {
        let vs: Vec<String> = (0..segments).map(|s| format!("s{s}")).collect();
        src.push_str(&format!("  account.segment: {}\n", vs.join(" | ")));
    }
    let mut kinds = Vec::new();
    for i in 0..facts {
        let k = if i % 8 == 7 {
            2
        } else if i % 4 == 3 {
            1
        } else {
            0
        };
        kinds.push(k);
        match k {
            0 => src.push_str(&format!("  c{i}.ok: bool\n")),
            1 => src.push_str(&format!("  c{i}.days: int 0..3650\n")),
            _ => src.push_str(&format!("  c{i}.risk: low | medium | high\n")),
        }
    }
    src.push_str("}\nmethods {\n");
    let atom = |r: &mut Rng, i: usize| -> String {
        match kinds[i] {
            0 => {
                if r.chance(0.8) {
                    format!("c{i}.ok")
                } else {
                    format!("not c{i}.ok")
                }
            }
            1 => format!("c{i}.days > {}", [7, 30, 90, 365][r.below(4) as usize]),
            _ => format!("c{i}.risk != {}", ["high", "medium"][r.below(2) as usize]),
        }
    };
    // A fixed vocabulary of methods, as in real policies (DESIGN.md has 7, Entra 10).
    let methods = 12;
    for m in 0..methods {
        let i = r.below(facts as u64) as usize;
        let a = atom(&mut r, i);
        let req = if r.chance(0.3) {
            let j = r.below(facts as u64) as usize;
            format!("{a} and {}", atom(&mut r, j))
        } else {
            a
        };
        let factor = ["possession", "knowledge", "document", "inherence"][r.below(4) as usize];
        src.push_str(&format!("  m{m}: {factor} requires {req}\n"));
    }
    src.push_str("  agent: human\n}\n");
    src.push_str(&format!(
        "deny \"frozen\" when c0.ok and {}\n",
        atom(&mut r, facts - 1)
    ));
    for p in 0..paths {
        let n = if segmented {
            1 + r.below(2)
        } else {
            1 + r.below(3)
        } as usize;
        let mut when: Vec<String> = (0..n)
            .map(|_| {
                let i = r.below(facts as u64) as usize;
                atom(&mut r, i)
            })
            .collect();
        if segmented {
            when.insert(0, format!("account.segment == s{}", p / 10));
        }
        let m1 = r.below(methods as u64);
        let steps = if r.chance(0.3) {
            let a = r.below(methods as u64);
            let b = (a + 1 + r.below(methods as u64 - 1)) % methods as u64;
            format!("m{m1} then any 1 of (m{a}, m{b})").replace(
                &format!("m{m1} then any 1 of (m{m1}, "),
                &format!("m{m1} then any 1 of (agent, "),
            )
        } else {
            format!("m{m1}")
        };
        src.push_str(&format!(
            "path p{p} {{ when {} steps {steps} grants reset notify m0 }}\n",
            when.join(" and ")
        ));
    }
    src
}

/// Fixed alipay profiles covering phone in and out of service, email, questions, risk.
pub fn alipay_profiles() -> Vec<String> {
    let mut out = Vec::new();
    let mut r = Rng::new(42);
    for _ in 0..64 {
        let b = |r: &mut Rng, p: f64| if r.chance(p) { "true" } else { "false" };
        out.push(format!(
            r#"{{"phone":{{"bound":{},"active":{},"sim_changed_days":{},"owner_verified":{}}},"device":{{"trusted":{}}},"email":{{"bound":{},"verified":{},"changed_days":{}}},"questions":{{"set":{}}},"identity":{{"verified":{}}},"bank_card":{{"bound":{}}},"account":{{"risk":"{}","frozen":{}}}}}"#,
            b(&mut r, 0.95),
            b(&mut r, 0.7),
            r.below(400),
            b(&mut r, 0.8),
            b(&mut r, 0.5),
            b(&mut r, 0.7),
            b(&mut r, 0.8),
            r.below(400),
            r.below(6),
            b(&mut r, 0.8),
            b(&mut r, 0.6),
            ["low", "medium", "high"][r.below(3) as usize],
            b(&mut r, 0.03),
        ));
    }
    out
}

/// A random valid profile (JSON, dotted keys) for any policy.
pub fn random_profile(r: &mut Rng, ir: &regain::Ir) -> String {
    use regain::check::ir::FactType;
    let parts: Vec<String> = ir
        .facts
        .iter()
        .map(|f| {
            let v = match &f.ty {
                FactType::Bool => r.chance(0.5).to_string(),
                FactType::Int { lo, hi } => {
                    // Half the time near a small constant, so that every interval is hit.
                    let span = (*hi as i128 - *lo as i128 + 1) as u64;
                    let v = if r.chance(0.5) {
                        r.below(span.min(400))
                    } else {
                        r.below(span)
                    };
                    (*lo + v as i64).to_string()
                }
                FactType::Enum(vs) => format!("\"{}\"", vs[r.below(vs.len() as u64) as usize]),
            };
            format!("\"{}\": {v}", f.name)
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}
