//! Shared test helpers: a generator of random, type-correct policies (as source text)
//! and of random profiles for them.
#![allow(dead_code)]

/// The benchmarks' deterministic RNG (xorshift64*), so that proptest seeds reproduce.
#[path = "../../benches/common/mod.rs"]
pub mod shared;
pub use shared::Rng;

/// Run the `regain` binary from the crate root: (exit code, stdout, stderr).
pub fn regain(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regain"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run regain");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[derive(Clone, Debug)]
pub enum Ty {
    Bool,
    Int(i64, i64),
    Enum(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct GenFact {
    pub name: String,
    pub ty: Ty,
    pub default: Option<String>,
}

/// A generated policy: its source and its facts (for profiles).
#[derive(Clone, Debug)]
pub struct GenPolicy {
    pub source: String,
    pub facts: Vec<GenFact>,
}

const FACTOR: &[&str] = &["knowledge", "possession", "inherence", "document", "human"];

fn expr(r: &mut Rng, facts: &[GenFact], depth: u32) -> String {
    let roll = r.below(10);
    if depth > 0 && roll < 2 {
        let n = 2 + r.below(2);
        let kw = if r.chance(0.5) { " and " } else { " or " };
        let parts: Vec<String> = (0..n).map(|_| expr(r, facts, depth - 1)).collect();
        return format!("({})", parts.join(kw));
    }
    if depth > 0 && roll == 2 {
        return format!("not {}", expr(r, facts, depth - 1));
    }
    if roll == 3 && r.chance(0.2) {
        return if r.chance(0.5) {
            "true".into()
        } else {
            "false".into()
        };
    }
    let f = r.pick(facts);
    match &f.ty {
        Ty::Bool => match r.below(3) {
            0 => f.name.clone(),
            1 => format!("{} == {}", f.name, r.chance(0.5)),
            _ => format!("{} != {}", f.name, r.chance(0.5)),
        },
        Ty::Int(lo, hi) => {
            if r.chance(0.2) {
                let n = 1 + r.below(3);
                let ks: Vec<String> = (0..n)
                    .map(|_| r.range(lo - 1, hi + 1).to_string())
                    .collect();
                format!("{} in [{}]", f.name, ks.join(", "))
            } else {
                let op = *r.pick(&["==", "!=", "<", "<=", ">", ">="]);
                format!("{} {op} {}", f.name, r.range(lo - 1, hi + 1))
            }
        }
        Ty::Enum(vs) => {
            if r.chance(0.3) {
                let n = 1 + r.below(vs.len() as u64);
                let ks: Vec<String> = (0..n).map(|_| r.pick(vs).clone()).collect();
                format!("{} in [{}]", f.name, ks.join(", "))
            } else {
                let op = *r.pick(&["==", "!="]);
                format!("{} {op} {}", f.name, r.pick(vs))
            }
        }
    }
}

/// A random, type-correct policy. `size` scales the number of facts, methods and paths.
pub fn policy(seed: u64, size: u32) -> GenPolicy {
    let mut r = Rng::new(seed);
    let nf = 1 + r.below(3 + size as u64) as usize;
    let mut facts = Vec::new();
    for i in 0..nf {
        let name = if r.chance(0.5) {
            format!("g{}.f{i}", r.below(3))
        } else {
            format!("f{i}")
        };
        let ty = match r.below(3) {
            0 => Ty::Bool,
            1 => {
                let lo = r.range(-3, 3);
                Ty::Int(lo, lo + r.range(0, 8))
            }
            _ => {
                let n = 2 + r.below(3);
                Ty::Enum((0..n).map(|k| format!("v{k}")).collect())
            }
        };
        let default = if r.chance(0.2) {
            Some(match &ty {
                Ty::Bool => r.chance(0.5).to_string(),
                Ty::Int(lo, hi) => r.range(*lo, *hi).to_string(),
                Ty::Enum(vs) => r.pick(vs).clone(),
            })
        } else {
            None
        };
        facts.push(GenFact { name, ty, default });
    }
    let mut src = String::from("# generated\npolicy generated\n\nfacts {\n");
    for f in &facts {
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
        src.push_str(&format!("  {}: {ty}{d}\n", f.name));
    }
    src.push_str("}\n\nmethods {\n");
    let nm = 1 + r.below(2 + size as u64) as usize;
    let methods: Vec<String> = (0..nm).map(|i| format!("m{i}")).collect();
    for m in &methods {
        let restricted = if r.chance(0.2) { " restricted" } else { "" };
        let req = if r.chance(0.7) {
            format!(" requires {}", expr(&mut r, &facts, 2))
        } else {
            String::new()
        };
        src.push_str(&format!("  {m}: {}{restricted}{req}\n", r.pick(FACTOR)));
    }
    src.push_str("}\n\n");
    for i in 0..r.below(3) {
        src.push_str(&format!(
            "deny \"reason {}\" when {}\n",
            i,
            expr(&mut r, &facts, 2)
        ));
    }
    let np = 1 + r.below(2 + size as u64);
    for p in 0..np {
        src.push_str(&format!("\npath p{p} {{\n"));
        if r.chance(0.6) {
            src.push_str(&format!("  when {}\n", expr(&mut r, &facts, 2)));
        }
        let ns = 1 + r.below(3);
        let mut steps = Vec::new();
        for _ in 0..ns {
            if r.chance(0.4) && methods.len() > 1 {
                let k = 2 + r.below(methods.len() as u64 - 1) as usize;
                let mut pool = methods.clone();
                let mut listed = Vec::new();
                for _ in 0..k.min(pool.len()) {
                    let i = r.below(pool.len() as u64) as usize;
                    listed.push(pool.remove(i));
                }
                let n = 1 + r.below(listed.len() as u64);
                steps.push(format!("any {n} of ({})", listed.join(", ")));
            } else {
                steps.push(r.pick(&methods).clone());
            }
        }
        src.push_str(&format!(
            "  steps {}\n  grants reset\n",
            steps.join(" then ")
        ));
        if r.chance(0.3) {
            src.push_str(&format!("  wait {}h\n", r.range(1, 72)));
        }
        if r.chance(0.5) {
            src.push_str(&format!("  notify {}\n", r.pick(&methods)));
        }
        src.push_str("}\n");
    }
    GenPolicy { source: src, facts }
}

/// A random profile for a generated policy, as JSON (defaults sometimes omitted).
pub fn profile_json(r: &mut Rng, facts: &[GenFact]) -> String {
    let mut parts = Vec::new();
    for f in facts {
        if f.default.is_some() && r.chance(0.3) {
            continue;
        }
        let v = match &f.ty {
            Ty::Bool => r.chance(0.5).to_string(),
            Ty::Int(lo, hi) => r.range(*lo, *hi).to_string(),
            Ty::Enum(vs) => format!("\"{}\"", r.pick(vs)),
        };
        parts.push(format!("\"{}\": {v}", f.name));
    }
    format!("{{{}}}", parts.join(", "))
}

/// Run the `regain` binary from the crate root with `stdin` as its standard input:
/// (exit code, stdout, stderr).
pub fn regain_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_regain"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run regain");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for regain");
    let _ = writer.join();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The JSON documents `regain` printed: one document, or one per line (JSON lines).
pub fn json_documents(stdout: &str) -> Vec<serde_json::Value> {
    if let Ok(v) = serde_json::from_str(stdout) {
        return vec![v];
    }
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The shipped policies (`policies/*.regain`), sorted, relative to the crate root.
pub fn shipped_policies() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("policies/")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".regain"))
        .map(|n| format!("policies/{n}"))
        .collect();
    v.sort();
    v
}
