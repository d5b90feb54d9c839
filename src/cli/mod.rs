//! The command line: one file per command. Rendering of diagnostics, decisions and
//! errors lives here; the library returns data.
//!
//! Exit codes: 0 success; 1 bad input (policy or profile errors, unreadable files,
//! failing checks); 2 `eval --exit-code` on deny or lockout; 64 a usage error.

mod analyze;
mod check;
mod eval;
mod fmt;
mod graph;
mod render;
mod simulate;
mod test;

use std::io::IsTerminal;
use std::path::Path;

use clap::{Parser, Subcommand, ValueEnum};

/// Success.
pub const EXIT_OK: i32 = 0;
/// Bad input: policy or profile errors, unreadable files, failing checks.
pub const EXIT_BAD_INPUT: i32 = 1;
/// `eval --exit-code`: the decision was deny or lockout.
pub const EXIT_NOT_ALLOWED: i32 = 2;
/// The command line itself was wrong.
pub const EXIT_USAGE: i32 = 64;

#[derive(Parser, Debug)]
#[command(
    name = "regain",
    version,
    about = "Account-recovery policies: check, evaluate, draw, analyse and simulate",
    after_help = "Exit codes: 0 ok, 1 bad input or failed check, 2 deny/lockout with `eval --exit-code`, 64 usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Readable text (default).
    #[default]
    Human,
    /// JSON.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check policies and print diagnostics (exit 0 clean or warnings only, 1 on errors).
    Check(check::Args),
    /// Evaluate one profile (--profile) or a JSON-lines batch (--profiles).
    Eval(eval::Args),
    /// Print the decision graph (DOT or JSON) and its size.
    Graph(graph::Args),
    /// Regions, lockouts, dead items, single points of compromise and lints.
    Analyze(analyze::Args),
    /// Where two versions of a policy decide differently (exit 0 same, 1 different, 2 error).
    Diff(analyze::DiffArgs),
    /// Monte-Carlo (or --exact) simulation of owners and attackers through the policy.
    Simulate(simulate::Args),
    /// Combine `simulate --shard K/N --format json` outputs into the single-run result.
    Merge(simulate::MergeArgs),
    /// Print policies in canonical form (--check: exit 1 with a diff; --write: rewrite).
    Fmt(fmt::Args),
    /// Run QA scenario suites (exit 0 all pass, 1 a failure, 2 a broken suite).
    Test(test::Args),
}

/// Parse arguments and run; returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Diff(a) => analyze::run_diff(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Merge(a) => simulate::run_merge(a),
        Command::Fmt(a) => fmt::run(a),
        Command::Test(a) => test::run(a),
    }
}

/// Read a file (or stdin for `-`) with a clear error.
pub fn read(path: &Path) -> Result<String, String> {
    if path == Path::new("-") {
        let mut s = String::new();
        return std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map(|_| s)
            .map_err(|e| format!("cannot read standard input: {e}"));
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "`{}` is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Load and check a policy, printing its diagnostics on failure.
pub fn load_policy(path: &Path) -> Result<regain::Policy, i32> {
    let src = read(path).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    regain::Policy::parse_named(&path.display().to_string(), &src).map_err(|d| {
        render::diagnostics(&d);
        EXIT_BAD_INPUT
    })
}

/// Load, check and compile a policy.
pub fn load_engine(path: &Path) -> Result<regain::Engine, i32> {
    let policy = load_policy(path)?;
    regain::Engine::new(&policy).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        EXIT_BAD_INPUT
    })
}

/// True when stderr is a terminal (colours allowed).
pub fn stderr_tty() -> bool {
    std::io::stderr().is_terminal()
}
