//! `regain test SUITE...` — QA scenario suites.

use std::fmt::Write as _;
use std::path::PathBuf;

use regain::suite::{self, Suite};

use super::{load_engine, Format, EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `regain test`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Suite files (YAML).
    #[arg(required_unless_present = "generate")]
    suites: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Run only the cases whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Report which paths, deny rules and graph terminals the suites reached.
    #[arg(long)]
    coverage: bool,
    /// Fail when fewer than PCT% of the graph's terminals are reached.
    #[arg(long, value_name = "PCT")]
    coverage_threshold: Option<f64>,
    /// Print a suite for POLICY that reaches every terminal, expecting today's decisions.
    #[arg(long, value_name = "POLICY", conflicts_with_all = ["suites", "junit", "coverage"])]
    generate: Option<PathBuf>,
}

/// A broken suite (bad YAML, unknown fact, missing policy).
const EXIT_BROKEN: i32 = 2;

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub fn run(a: Args) -> i32 {
    if let Some(p) = &a.generate {
        let engine = match load_engine(p) {
            Ok(e) => e,
            Err(code) => return code,
        };
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("policy.regain");
        print!("{}", suite::generate(&engine, name));
        return EXIT_OK;
    }
    let mut all_ok = true;
    let mut json_out = Vec::new();
    let mut junit = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    let mut below_threshold = false;
    for path in &a.suites {
        let s = match Suite::load(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BROKEN;
            }
        };
        let results = s.run(a.filter.as_deref());
        let failed = results.iter().filter(|r| !r.passed).count();
        all_ok &= failed == 0;
        let _ = writeln!(
            junit,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">",
            xml(&path.display().to_string()),
            results.len()
        );
        for r in &results {
            let _ = write!(
                junit,
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml(&r.name),
                xml(&path.display().to_string())
            );
            if r.passed {
                junit.push_str("/>\n");
            } else {
                let _ = writeln!(
                    junit,
                    ">\n      <failure message=\"{}\">{}\n{}</failure>\n    </testcase>",
                    xml(&r.failures.join("; ")),
                    xml(&r.location),
                    xml(r.explain.as_deref().unwrap_or(""))
                );
            }
        }
        junit.push_str("  </testsuite>\n");
        let cov =
            (a.coverage || a.coverage_threshold.is_some()).then(|| suite::coverage(&s, &results));
        if let (Some(t), Some(c)) = (a.coverage_threshold, &cov) {
            if c.terminal_pct + 1e-9 < t {
                below_threshold = true;
            }
        }
        match a.format {
            Format::Json => json_out.push(serde_json::json!({
                "suite": path.display().to_string(),
                "policy": s.policy_file.display().to_string(),
                "passed": results.len() - failed,
                "failed": failed,
                "cases": results,
                "coverage": cov,
            })),
            Format::Human => {
                for r in &results {
                    if r.passed {
                        println!("ok    {}", r.name);
                    } else {
                        println!("FAIL  {}  ({})", r.name, r.location);
                        for f in &r.failures {
                            println!("        {f}");
                        }
                        if let Some(e) = &r.explain {
                            println!("      why:");
                            for l in e.lines() {
                                println!("      {l}");
                            }
                        }
                    }
                }
                println!(
                    "{}: {} passed, {} failed",
                    path.display(),
                    results.len() - failed,
                    failed
                );
                if let Some(c) = &cov {
                    println!(
                        "coverage: paths {}/{}, deny rules {}/{}, graph terminals {}/{} ({:.1}%)",
                        c.paths.0,
                        c.paths.1,
                        c.denies.0,
                        c.denies.1,
                        c.terminals.0,
                        c.terminals.1,
                        c.terminal_pct
                    );
                    for p in &c.missed_paths {
                        println!("  path never offered: {p}");
                    }
                    for d in &c.missed_denies {
                        println!("  deny rule never fired: \"{d}\"");
                    }
                    for (d, cond) in &c.missed_regions {
                        println!("  not reached: {d}\n      e.g. when {cond}");
                    }
                }
            }
        }
    }
    junit.push_str("</testsuites>\n");
    if let Some(j) = &a.junit {
        if let Err(e) = std::fs::write(j, &junit) {
            eprintln!("error: cannot write `{}`: {e}", j.display());
            return EXIT_BAD_INPUT;
        }
    }
    if a.format == Format::Json {
        println!("{}", serde_json::Value::Array(json_out));
    }
    if below_threshold {
        if let Some(t) = a.coverage_threshold {
            eprintln!("error: terminal coverage is below the threshold of {t}%");
        }
        return EXIT_BAD_INPUT;
    }
    if all_ok {
        EXIT_OK
    } else {
        EXIT_BAD_INPUT
    }
}
