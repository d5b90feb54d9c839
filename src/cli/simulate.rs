//! `regain simulate POLICY [--model FILE]` and `regain merge SHARD.json...`

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use regain::simulate::{self, Model, Options};
use regain::Engine;
use serde_json::Value;

use super::analyze::pct;
use super::eval::duration;
use super::{load_engine, read, Format, EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `regain simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The policy file.
    policy: PathBuf,
    /// The model (default: the policy's sibling `NAME.model.yaml`).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Trials of the whole run (all shards together).
    #[arg(long, default_value_t = 1_000_000)]
    trials: u64,
    /// Seed; the same seed gives the same result at any thread count.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Compute shares and mean time exactly, without sampling.
    #[arg(long)]
    exact: bool,
    /// Run slice K of N (`--shard 2/8`); combine the JSON outputs with `regain merge`.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 2/8")?;
    let k: u64 = k.parse().map_err(|_| "K must be a number")?;
    let n: u64 = n.parse().map_err(|_| "N must be a number")?;
    if k == 0 || n == 0 || k > n {
        return Err("expected 1 ≤ K ≤ N".into());
    }
    Ok((k, n))
}

/// The model path: given, or the policy's sibling `NAME.model.yaml`.
fn model_path(policy: &Path, given: &Option<PathBuf>) -> PathBuf {
    given.clone().unwrap_or_else(|| {
        let stem = policy
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("policy");
        policy.with_file_name(format!("{stem}.model.yaml"))
    })
}

/// The compiled policy, its model and the model's path.
fn load_both(policy: &Path, model: &Option<PathBuf>) -> Result<(Engine, Model, PathBuf), i32> {
    let engine = load_engine(policy)?;
    let mpath = model_path(policy, model);
    let model = load_model(&engine, &mpath)?;
    Ok((engine, model, mpath))
}

fn load_model(engine: &Engine, path: &Path) -> Result<Model, i32> {
    let text = read(path).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    Model::from_yaml(engine.policy(), &text).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        EXIT_BAD_INPUT
    })
}

pub fn run(a: Args) -> i32 {
    let (engine, model, mpath) = match load_both(&a.policy, &a.model) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let result = if a.exact {
        simulate::exact::exact(&engine, &model)
    } else {
        let opts = Options {
            trials: a.trials,
            seed: a.seed,
            threads: a.threads,
            shard: a.shard,
        };
        let show = !a.quiet && std::io::stderr().is_terminal();
        let bar = if show {
            let total = match a.shard {
                Some((k, n)) => {
                    let chunks = a.trials.div_ceil(simulate::CHUNK);
                    let (lo, hi) = ((k - 1) * chunks / n, k * chunks / n);
                    (hi * simulate::CHUNK).min(a.trials) - (lo * simulate::CHUNK).min(a.trials)
                }
                None => a.trials,
            };
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {wide_bar} {human_pos}/{human_len} trials {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(b)
        } else {
            None
        };
        let done = AtomicU64::new(0);
        let progress = |n: u64| {
            let d = done.fetch_add(n, Ordering::Relaxed) + n;
            if let Some(b) = &bar {
                b.set_position(d);
            }
        };
        let r = simulate::simulate(&engine, &model, opts, &progress);
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        r
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    print_report(&report, a.format, &mpath);
    EXIT_OK
}

fn print_report(report: &Value, format: Format, model: &Path) {
    match format {
        Format::Json => println!("{}", serde_json::to_string(report).unwrap_or_default()),
        Format::Human => print!("{}", human(report, model)),
    }
}

fn f(v: &Value, path: &[&str]) -> f64 {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    x.as_f64().unwrap_or(0.0)
}

fn ci(v: &Value) -> String {
    let lo = v["ci95"][0].as_f64().unwrap_or(0.0);
    let hi = v["ci95"][1].as_f64().unwrap_or(0.0);
    if lo == hi {
        String::new()
    } else {
        format!("  [{} – {}]", pct(lo), pct(hi))
    }
}

fn secs(v: &Value) -> String {
    let Some(s) = v.as_f64() else {
        return "–".into();
    };
    let s = s.round() as u64;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {}s", s % 60)
    } else {
        duration(s)
    }
}

/// The readable report.
pub fn human(r: &Value, model: &Path) -> String {
    let mut s = String::new();
    let exact = r["exact"].as_bool().unwrap_or(false);
    let how = if exact {
        "exact".to_string()
    } else {
        format!("{} trials, seed {}", r["trials"], r["seed"])
    };
    let _ = writeln!(
        s,
        "policy {} — model {} — {how}",
        r["policy"].as_str().unwrap_or("?"),
        model.display()
    );
    if let Some(sh) = r.get("shard") {
        let _ = writeln!(
            s,
            "shard {}/{} (combine shards with `regain merge`)",
            sh["index"], sh["of"]
        );
    }
    let _ = writeln!(s, "\noutcomes for the account owner:");
    for (k, label) in [
        ("recovered", "recovered"),
        ("failed", "tried and failed"),
        ("lockout", "locked out (no path)"),
        ("denied", "denied"),
    ] {
        let o = &r["outcomes"][k];
        let _ = writeln!(s, "  {label:<22} {:>8}{}", pct(f(o, &["share"])), ci(o));
    }
    let h = &r["human_review_load"];
    let _ = writeln!(
        s,
        "  {:<22} {:>8}{}",
        "human review load",
        pct(f(h, &["share"])),
        ci(h)
    );
    let t = &r["time_to_recover_s"];
    let _ = writeln!(
        s,
        "  {:<22} mean {}, median {}, p95 {}",
        "time to recover",
        secs(&t["mean"]),
        secs(&t["p50"]),
        secs(&t["p95"])
    );
    let _ = writeln!(s, "\nrecovered by path:");
    if let Some(bp) = r["by_path"].as_object() {
        for (name, v) in bp {
            let _ = writeln!(s, "  {name:<22} {:>8}", pct(v.as_f64().unwrap_or(0.0)));
        }
    }
    if let Some(att) = r["attackers"].as_object() {
        if !att.is_empty() {
            let _ = writeln!(
                s,
                "\nattackers (share of all trials that end in a takeover):"
            );
            for (name, v) in att {
                let tk = &v["takeover"];
                let _ = writeln!(s, "  {name:<22} {:>8}{}", pct(f(tk, &["share"])), ci(tk));
            }
        }
    }
    if let Some(segs) = r["segments"].as_object() {
        if !segs.is_empty() {
            let _ = writeln!(
                s,
                "\nby segment:                recovered   lockout    review  takeovers"
            );
            for (name, v) in segs {
                let tk: Vec<String> = v["attackers"]
                    .as_object()
                    .map(|a| {
                        a.values()
                            .map(|x| pct(f(x, &["takeover", "share"])))
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  {name:<22} {:>10} {:>9} {:>9}  {}",
                    pct(f(v, &["outcomes", "recovered", "share"])),
                    pct(f(v, &["outcomes", "lockout", "share"])),
                    pct(f(v, &["human_review_load", "share"])),
                    tk.join(" / ")
                );
            }
        }
    }
    s
}

/// Arguments of `regain merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard reports (`simulate --shard K/N --format json`).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// The policy the shards ran.
    #[arg(long)]
    policy: PathBuf,
    /// The model (default: the policy's sibling `NAME.model.yaml`).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run_merge(a: MergeArgs) -> i32 {
    let (engine, model, mpath) = match load_both(&a.policy, &a.model) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut shards = Vec::new();
    for p in &a.shards {
        let text = match read(p) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => shards.push(v),
            Err(e) => {
                eprintln!("error: {}: not a shard report: {e}", p.display());
                return EXIT_BAD_INPUT;
            }
        }
    }
    match simulate::merge(&engine, &model, &shards) {
        Ok(r) => {
            print_report(&r, a.format, &mpath);
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}
