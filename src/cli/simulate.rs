//! `regain simulate POLICY [--model FILE] [--compare NEW | --set KEY=V,…]` and
//! `regain merge SHARD.json...`

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use regain::simulate::compare::{compare, compare_exact, Comparison, DiffFigures};
use regain::simulate::report::{Figures, Share};
use regain::simulate::sweep::{parse_setting, sweep, Sweep};
use regain::simulate::{self, Model, Options, Report};
use regain::Engine;
use serde::Serialize;

use super::analyze::pct;
use super::eval::duration;
use super::{load_engine, read, Format, EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE};

/// Arguments of `regain simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The policy file (OLD with `--compare`).
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
    /// Worker threads (default 0: all cores; at most 8 per core).
    #[arg(long, default_value_t = 0, value_parser = parse_threads)]
    threads: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Compute shares and mean time exactly, without sampling.
    #[arg(long)]
    exact: bool,
    /// Run slice K of N (`--shard 2/8`); combine the JSON outputs with `regain merge`.
    #[arg(long, value_parser = parse_shard, conflicts_with_all = ["compare", "set"])]
    shard: Option<(u64, u64)>,
    /// Risk diff: run NEW on the same people and report new − old with paired intervals.
    #[arg(long, value_name = "NEW", conflicts_with = "set")]
    compare: Option<PathBuf>,
    /// Sweep: `PATH.wait=1h,48h,7d` or `PATH.stepK.count=1,2` (repeatable); every
    /// combination is evaluated.
    #[arg(long = "set", value_name = "KEY=V,…")]
    set: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Also write a self-contained HTML report with charts to FILE.
    #[arg(long, value_name = "FILE.html", conflicts_with_all = ["compare", "set"])]
    report: Option<PathBuf>,
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

fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of threads"))?;
    let max = simulate::max_threads();
    if n > max {
        return Err(format!(
            "{n} threads: at most {max} on this machine ({} per core; 0 uses every core)",
            simulate::MAX_THREADS_PER_CORE
        ));
    }
    Ok(n)
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

fn load_model(engine: &Engine, path: &Path, text: &str) -> Result<Model, i32> {
    Model::from_yaml(engine.policy(), text)
        .map_err(|e| super::fail(EXIT_BAD_INPUT, format!("{}: {e}", path.display())))
}

fn print_json<T: Serialize>(v: &T) {
    match serde_json::to_string(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot write JSON: {e}"),
    }
}

pub fn run(a: Args) -> i32 {
    match run_inner(a) {
        Ok(code) | Err(code) => code,
    }
}

fn run_inner(a: Args) -> Result<i32, i32> {
    let engine = load_engine(&a.policy)?;
    let mpath = model_path(&a.policy, &a.model);
    let mtext = super::read_or_exit(&mpath)?;
    let model = load_model(&engine, &mpath, &mtext)?;
    let opts = Options {
        trials: a.trials,
        seed: a.seed,
        threads: a.threads,
        shard: a.shard,
    };
    let fail = |e: simulate::SimError| {
        let code = match e {
            simulate::SimError::Usage(_) => EXIT_USAGE,
            _ => EXIT_BAD_INPUT,
        };
        super::fail(code, e)
    };
    if let Some(new_path) = &a.compare {
        let new = load_engine(new_path)?;
        let new_model = load_model(&new, &mpath, &mtext)?;
        let c = if a.exact {
            compare_exact(&engine, &model, &new, &new_model)
        } else {
            with_bar(a.quiet, a.trials, |p| {
                compare(&engine, &model, &new, &new_model, opts, p)
            })
        }
        .map_err(fail)?;
        match a.format {
            Format::Json => print_json(&c),
            Format::Human => print!("{}", human_compare(&c, (&a.policy, new_path), &mpath)),
        }
        return Ok(EXIT_OK);
    }
    if !a.set.is_empty() {
        let mut settings = Vec::new();
        for s in &a.set {
            settings.push(
                parse_setting(engine.policy().ir(), s)
                    .map_err(|e| super::fail(EXIT_USAGE, format!("--set {e}")))?,
            );
        }
        let sw = sweep(engine.policy(), &model, &settings, a.exact, opts).map_err(fail)?;
        match a.format {
            Format::Json => print_json(&sw),
            Format::Human => print!("{}", human_sweep(&sw, &mpath)),
        }
        return Ok(EXIT_OK);
    }
    let report = if a.exact {
        simulate::exact(&engine, &model)
    } else {
        let total = match a.shard {
            Some((k, n)) => simulate::report::slice_trials(a.trials, k, n).unwrap_or(0),
            None => a.trials,
        };
        with_bar(a.quiet, total, |p| {
            simulate::simulate(&engine, &model, opts, p)
        })
    }
    .map_err(fail)?;
    print_report(&report, a.format, &mpath);
    if let Some(out) = &a.report {
        super::report::simulation(out, &report, &engine, &a.policy, &mpath)?;
    }
    Ok(EXIT_OK)
}

/// Run `f` with a progress bar on a terminal.
fn with_bar<T>(quiet: bool, total: u64, f: impl FnOnce(&(dyn Fn(u64) + Sync)) -> T) -> T {
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {wide_bar} {human_pos}/{human_len} trials {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let done = AtomicU64::new(0);
    let progress = |n: u64| {
        let d = done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &bar {
            b.set_position(d);
        }
    };
    let r = f(&progress);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    r
}

fn print_report(report: &Report, format: Format, model: &Path) {
    match format {
        Format::Json => print_json(report),
        Format::Human => print!("{}", human(report, model)),
    }
}

fn ci(v: &Share) -> String {
    let [lo, hi] = v.ci95;
    if lo == hi {
        String::new()
    } else {
        format!("  [{} – {}]", pct(lo), pct(hi))
    }
}

fn secs_u(s: u64) -> String {
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

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |s| secs_u(s.round() as u64))
}

fn how(r: &Report) -> String {
    if r.exact {
        "exact".to_string()
    } else {
        format!(
            "{} trials, seed {}",
            r.figures.trials.unwrap_or(0),
            r.seed.unwrap_or(0)
        )
    }
}

/// The readable report.
pub fn human(r: &Report, model: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "policy {} — model {} — {}",
        r.policy,
        model.display(),
        how(r)
    );
    if let Some(sh) = &r.shard {
        let _ = writeln!(
            s,
            "shard {}/{} (combine shards with `regain merge`)",
            sh.index, sh.of
        );
    }
    let f = &r.figures;
    let _ = writeln!(s, "\noutcomes for the account owner:");
    for (label, o) in [
        ("recovered", &f.outcomes.recovered),
        ("tried and failed", &f.outcomes.failed),
        ("locked out (no path)", &f.outcomes.lockout),
        ("denied", &f.outcomes.denied),
        ("human review load", &f.human_review_load),
    ] {
        let _ = writeln!(s, "  {label:<22} {:>8}{}", pct(o.share), ci(o));
    }
    let t = &f.time_to_recover_s;
    let _ = writeln!(
        s,
        "  {:<22} mean {}, median {}, p95 {}",
        "time to recover",
        secs(t.mean),
        secs(t.p50.map(|x| x as f64)),
        secs(t.p95.map(|x| x as f64))
    );
    let _ = writeln!(s, "\nrecovered by path:");
    for (name, v) in f.by_path.iter() {
        let _ = writeln!(s, "  {name:<22} {:>8}", pct(*v));
    }
    if !f.attackers.is_empty() {
        let _ = writeln!(
            s,
            "\nattackers (share of all trials that end in a takeover):"
        );
        for (name, v) in f.attackers.iter() {
            let _ = writeln!(
                s,
                "  {name:<22} {:>8}{}",
                pct(v.takeover.share),
                ci(&v.takeover)
            );
        }
    }
    if !r.segments.is_empty() {
        let _ = writeln!(
            s,
            "\nby segment:                recovered   lockout    review  takeovers"
        );
        for (name, v) in r.segments.iter() {
            let tk: Vec<String> = v
                .attackers
                .iter()
                .map(|(_, a)| pct(a.takeover.share))
                .collect();
            let _ = writeln!(
                s,
                "  {name:<22} {:>10} {:>9} {:>9}  {}",
                pct(v.outcomes.recovered.share),
                pct(v.outcomes.lockout.share),
                pct(v.human_review_load.share),
                tk.join(" / ")
            );
        }
    }
    s
}

/// A signed percentage.
fn spct(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", pct(x))
    } else if x < 0.0 {
        format!("-{}", pct(-x))
    } else {
        "±0".into()
    }
}

fn delta(old: f64, new: f64, d: &Share) -> String {
    let interval = if d.ci95[0] == d.ci95[1] {
        String::new()
    } else {
        format!(", {} … {}", spct(d.ci95[0]), spct(d.ci95[1]))
    };
    format!(
        "{:>8} → {:<8} (Δ {}{interval})",
        pct(old),
        pct(new),
        spct(d.share)
    )
}

fn compare_figures(s: &mut String, old: &Figures, new: &Figures, d: &DiffFigures) {
    for (label, o, n, x) in [
        (
            "recovered",
            &old.outcomes.recovered,
            &new.outcomes.recovered,
            &d.outcomes.recovered,
        ),
        (
            "tried and failed",
            &old.outcomes.failed,
            &new.outcomes.failed,
            &d.outcomes.failed,
        ),
        (
            "locked out (no path)",
            &old.outcomes.lockout,
            &new.outcomes.lockout,
            &d.outcomes.lockout,
        ),
        (
            "denied",
            &old.outcomes.denied,
            &new.outcomes.denied,
            &d.outcomes.denied,
        ),
        (
            "human review load",
            &old.human_review_load,
            &new.human_review_load,
            &d.human_review_load,
        ),
    ] {
        let _ = writeln!(s, "  {label:<22} {}", delta(o.share, n.share, x));
    }
    let _ = writeln!(
        s,
        "  {:<22} mean {} → {}",
        "time to recover",
        secs(old.time_to_recover_s.mean),
        secs(new.time_to_recover_s.mean)
    );
    let _ = writeln!(s, "  recovered by path:");
    for (name, x) in d.by_path.iter() {
        let o = old.by_path.get(name).copied().unwrap_or(0.0);
        let n = new.by_path.get(name).copied().unwrap_or(0.0);
        let _ = writeln!(s, "    {name:<20} {}", delta(o, n, x));
    }
    if !d.attackers.is_empty() {
        let _ = writeln!(s, "  takeover:");
        for (name, x) in d.attackers.iter() {
            let o = old.attackers.get(name).map_or(0.0, |a| a.takeover.share);
            let n = new.attackers.get(name).map_or(0.0, |a| a.takeover.share);
            let _ = writeln!(s, "    {name:<20} {}", delta(o, n, &x.takeover));
        }
    }
}

/// The readable risk diff: each figure old → new (Δ, interval).
pub fn human_compare(c: &Comparison, files: (&Path, &Path), model: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} → {} (policy {}) — model {} — {} (same people for both)",
        files.0.display(),
        files.1.display(),
        c.new.policy,
        model.display(),
        how(&c.old)
    );
    let _ = writeln!(
        s,
        "\nwhole population:            old → new      (Δ, 95% interval)"
    );
    compare_figures(
        &mut s,
        &c.old.figures,
        &c.new.figures,
        &c.difference.figures,
    );
    for (name, d) in c.difference.segments.iter() {
        let (Some(o), Some(n)) = (c.old.segments.get(name), c.new.segments.get(name)) else {
            continue;
        };
        let _ = writeln!(s, "\nsegment {name}:");
        compare_figures(&mut s, o, n, d);
    }
    s
}

/// The readable sweep: one row per setting.
pub fn human_sweep(sw: &Sweep, model: &Path) -> String {
    let mut s = String::new();
    let Some(first) = sw.rows.first() else {
        return s;
    };
    let _ = writeln!(
        s,
        "policy {} — model {} — {} — {} settings (* = Pareto front)",
        first.report.policy,
        model.display(),
        how(&first.report),
        sw.rows.len()
    );
    let keys: Vec<&str> = first.set.iter().map(|(k, _)| k).collect();
    let width: Vec<usize> = keys
        .iter()
        .map(|k| {
            sw.rows
                .iter()
                .filter_map(|r| r.set.get(k).map(String::len))
                .chain([k.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut head = String::from("  ");
    for (k, w) in keys.iter().zip(&width) {
        let _ = write!(head, " {k:<w$}");
    }
    let _ = write!(
        head,
        "  {:>9} {:>8} {:>8} {:>11}",
        "recovered", "lockout", "review", "mean time"
    );
    for (a, _) in first.report.figures.attackers.iter() {
        let _ = write!(head, " {a:>12}");
    }
    let _ = writeln!(s, "\n{}", head.trim_end());
    for r in &sw.rows {
        let f = &r.report.figures;
        let mut line = String::from(if r.pareto { " *" } else { "  " });
        for (k, w) in keys.iter().zip(&width) {
            let _ = write!(line, " {:<w$}", r.set.get(k).map_or("", String::as_str));
        }
        let _ = write!(
            line,
            "  {:>9} {:>8} {:>8} {:>11}",
            pct(f.outcomes.recovered.share),
            pct(f.outcomes.lockout.share),
            pct(f.human_review_load.share),
            secs(f.time_to_recover_s.mean)
        );
        for (_, a) in f.attackers.iter() {
            let _ = write!(line, " {:>12}", pct(a.takeover.share));
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// Arguments of `regain merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard reports (`simulate --shard K/N --format json`); they name their run.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run_merge(a: MergeArgs) -> i32 {
    let mut shards = Vec::new();
    for p in &a.shards {
        let text = match read(p) {
            Ok(t) => t,
            Err(e) => {
                return super::fail(EXIT_BAD_INPUT, e);
            }
        };
        match simulate::parse_shard(&text) {
            Ok(s) => shards.push((p.display().to_string(), s)),
            Err(e) => {
                return super::fail(EXIT_BAD_INPUT, format!("{}: {e}", p.display()));
            }
        }
    }
    match simulate::merge(&shards) {
        Ok(r) => {
            match a.format {
                Format::Json => print_json(&r),
                Format::Human => print!("{}", human(&r, Path::new("(from the shards)"))),
            }
            EXIT_OK
        }
        Err(e) if e.file.is_empty() => super::fail(EXIT_BAD_INPUT, e.message),
        Err(e) => super::fail(EXIT_BAD_INPUT, e),
    }
}
