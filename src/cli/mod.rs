//! The command line: one file per command. Rendering of diagnostics, decisions and
//! errors lives here; the library returns data.
//!
//! # Exit codes
//!
//! One table for every command ([`EXIT_TABLE`], also printed by `regain --help`):
//!
//! | code | meaning |
//! |-----:|---------|
//! | 0 | success ([`EXIT_OK`]) |
//! | 1 | bad input or a failed check: policy, profile or model errors; `check` errors; `fmt --check` not canonical; `test` failures; `analyze`/`check --deny-warnings` with warnings; `diff`: the versions differ ([`EXIT_BAD_INPUT`], [`EXIT_FAILED`]) |
//! | 2 | `eval --exit-code` on deny or lockout ([`EXIT_NOT_ALLOWED`]); `diff` could not compare (a policy does not check, incomparable facts); `test`: a broken suite ([`EXIT_ERROR`]) |
//! | 64 | usage error: the command line itself is wrong ([`EXIT_USAGE`]) |
//! | 66 | a named input file cannot be read: missing, unreadable, a directory, not UTF-8 ([`EXIT_NO_INPUT`]) |
//!
//! # Errors as JSON
//!
//! With `--format json`, an error that stops a command is also printed to stdout as
//! `{"schema": "regain.error/1", "error": MESSAGE, "code": EXIT_CODE, "diagnostics":
//! [...]}` (the diagnostics of a policy that does not check, else `[]`); the human
//! message still goes to stderr. Commands report such errors through [`fail`],
//! [`read`], [`load_policy`] and [`load_engine`], which record them; [`run`] prints the
//! JSON once the command has returned its exit code.

mod analyze;
mod check;
mod eval;
mod fmt;
mod graph;
#[cfg(feature = "lsp")]
mod lsp;
mod render;
mod report;
#[cfg(feature = "serve")]
mod serve;
mod simulate;
mod test;

use std::ffi::OsStr;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};

/// Success.
pub const EXIT_OK: i32 = 0;
/// Bad input or a failed check: policy, profile or model errors, `check` errors, `fmt
/// --check` not canonical, `test` failures, `--deny-warnings` with warnings, `diff`: the
/// versions differ.
pub const EXIT_BAD_INPUT: i32 = 1;
/// The same code as [`EXIT_BAD_INPUT`], for a check that ran and failed.
pub const EXIT_FAILED: i32 = EXIT_BAD_INPUT;
/// `eval --exit-code`: the decision was deny or lockout.
pub const EXIT_NOT_ALLOWED: i32 = 2;
/// The command could not do its job on inputs it could read: `diff` of policies that
/// do not check or whose facts are incomparable, `test` with a broken suite. The same
/// value as [`EXIT_NOT_ALLOWED`].
pub const EXIT_ERROR: i32 = 2;
/// The command line itself was wrong.
pub const EXIT_USAGE: i32 = 64;
/// A named input file cannot be read: missing, unreadable, a directory, or not UTF-8
/// (`EX_NOINPUT` of sysexits.h). The same code for every command.
pub const EXIT_NO_INPUT: i32 = 66;

/// The exit-code table, `(code, meaning)`, as `regain --help` prints it.
pub const EXIT_TABLE: &[(i32, &str)] = &[
    (EXIT_OK, "ok"),
    (
        EXIT_FAILED,
        "bad input or a failed check: policy/profile/model errors, `check` errors,\n\
         `fmt --check` not canonical, `test` failures, `--deny-warnings` with\n\
         warnings, `diff`: the versions differ",
    ),
    (
        EXIT_NOT_ALLOWED,
        "`eval --exit-code`: a decision is deny or lockout",
    ),
    (
        EXIT_ERROR,
        "`diff` could not compare (a policy that does not check, incomparable\n\
         facts); `test`: a broken suite",
    ),
    (EXIT_USAGE, "usage error"),
    (
        EXIT_NO_INPUT,
        "a named input file cannot be read (missing, unreadable, not UTF-8)",
    ),
];

/// The text after `regain --help`: the exit-code table and the JSON error shape.
fn exit_codes_help() -> String {
    let mut s = String::from("Exit codes (the same for every command):\n");
    for (code, meaning) in EXIT_TABLE {
        let meaning = meaning.replace('\n', "\n      ");
        s.push_str(&format!("  {code:>2}  {meaning}\n"));
    }
    s.push_str(
        "\nWith --format json, an error is also printed to stdout as\n\
         {\"schema\": \"regain.error/1\", \"error\": MESSAGE, \"code\": EXIT_CODE, \"diagnostics\": [...]}",
    );
    s
}

#[derive(Parser, Debug)]
#[command(
    name = "regain",
    version,
    about = "Account-recovery policies: check, evaluate, draw, analyse and simulate",
    after_help = exit_codes_help()
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
    /// The language server for editors, over stdio (design/editor.md).
    #[cfg(feature = "lsp")]
    Lsp(lsp::Args),
    /// Serve decisions over HTTP (the sidecar): decide, reload, health, metrics.
    #[cfg(feature = "serve")]
    Serve(serve::Args),
    /// Serve the shipped policies with the playground page at `/`.
    #[cfg(feature = "serve")]
    Playground(serve::PlaygroundArgs),
}

/// Parse arguments and run; returns the exit code.
pub fn run() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = Cli::command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(x) => x,
        Err(e) => {
            if !e.use_stderr() {
                // --help, --version
                let _ = e.print();
                return EXIT_OK;
            }
            let _ = e.print();
            if asks_for_json(&args) {
                let text = e.render().to_string();
                let first = text.lines().next().unwrap_or("usage error");
                let message = first.strip_prefix("error: ").unwrap_or(first);
                print_error_json(message, EXIT_USAGE, Vec::new());
            }
            return EXIT_USAGE;
        }
    };
    let (name, sub) = matches.subcommand().unwrap_or(("", &matches));
    let _ = JSON.set(wants_json(sub));
    if let Err(code) = check_inputs(name, sub) {
        return finish(code);
    }
    let code = match cli.command {
        Command::Check(a) => check::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Diff(a) => analyze::run_diff(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Merge(a) => simulate::run_merge(a),
        Command::Fmt(a) => fmt::run(a),
        Command::Test(a) => test::run(a),
        #[cfg(feature = "lsp")]
        Command::Lsp(a) => lsp::run(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::run(a),
        #[cfg(feature = "serve")]
        Command::Playground(a) => serve::run_playground(a),
    };
    finish(code)
}

/// `--format json` (or `--format=json`) somewhere on a command line clap rejected.
fn asks_for_json(args: &[std::ffi::OsString]) -> bool {
    args.iter().any(|a| a == "--format=json")
        || args
            .windows(2)
            .any(|w| matches!(w, [a, b] if a == "--format" && b == "json"))
}

/// The chosen `--format` of a parsed command is `json` (read from its matches, so
/// every command with a `format` argument takes part, whatever its format type).
fn wants_json(sub: &ArgMatches) -> bool {
    match sub.try_get_raw("format") {
        Ok(Some(mut raw)) => raw.next_back() == Some(OsStr::new("json")),
        _ => false,
    }
}

/// The arguments of each command that name input files, checked before the command
/// runs so that an unreadable one gives [`EXIT_NO_INPUT`] whoever reads it (suites,
/// for instance, are read by the library). `check` and `fmt` go on with the other
/// files and report each one themselves.
fn input_args(command: &str) -> &'static [&'static str] {
    match command {
        "eval" => &["policy", "profile", "profiles"],
        "graph" | "analyze" => &["policy", "model", "baseline"],
        "diff" => &["old", "new"],
        "simulate" => &["policy", "model", "compare"],
        "merge" => &["shards", "policy", "model"],
        "test" => &["suites", "generate"],
        _ => &[],
    }
}

fn check_inputs(command: &str, sub: &ArgMatches) -> Result<(), i32> {
    for id in input_args(command) {
        let Ok(Some(paths)) = sub.try_get_many::<PathBuf>(id) else {
            continue;
        };
        for p in paths {
            if let Err(e) = readable(p) {
                return Err(fail(EXIT_NO_INPUT, e));
            }
        }
    }
    Ok(())
}

/// Whether a file can be opened for reading (stdin `-` always can). Pipes and devices
/// are not opened here: opening a named pipe and closing it again would end the
/// writer's stream before the command reads it.
fn readable(path: &Path) -> Result<(), String> {
    if path == Path::new("-") {
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, &e))?;
    if meta.is_dir() {
        return Err(format!(
            "cannot read `{}`: it is a directory",
            path.display()
        ));
    }
    if meta.is_file() {
        std::fs::File::open(path).map_err(|e| cannot_read(path, &e))?;
    }
    Ok(())
}

fn cannot_read(path: &Path, e: &std::io::Error) -> String {
    format!("cannot read `{}`: {e}", path.display())
}

/// `--format json` was chosen for this run (errors then also go to stdout as JSON).
static JSON: OnceLock<bool> = OnceLock::new();

/// An error a command stopped on, kept until the command returns its exit code.
struct Pending {
    message: String,
    code: i32,
    diagnostics: Vec<Value>,
}

static PENDING: Mutex<Vec<Pending>> = Mutex::new(Vec::new());

/// True when the command runs with `--format json`.
pub fn json_errors() -> bool {
    JSON.get().copied().unwrap_or(false)
}

fn record(message: String, code: i32, diagnostics: Vec<Value>) {
    if let Ok(mut p) = PENDING.lock() {
        p.push(Pending {
            message,
            code,
            diagnostics,
        });
    }
}

/// Report an error that stops the command and return its exit code: `error: MESSAGE`
/// on stderr, and with `--format json` the JSON error on stdout once the command
/// returns. `return cli::fail(EXIT_BAD_INPUT, format!("…"))`.
pub fn fail(code: i32, message: impl std::fmt::Display) -> i32 {
    let message = message.to_string();
    eprintln!("error: {message}");
    record(message, code, Vec::new());
    code
}

/// The final exit code, and the JSON error when one is due: an unreadable input
/// file makes it [`EXIT_NO_INPUT`] whatever the command returned.
fn finish(code: i32) -> i32 {
    let pending = PENDING
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default();
    if code == EXIT_OK {
        return code;
    }
    let code = if pending.iter().any(|p| p.code == EXIT_NO_INPUT) {
        EXIT_NO_INPUT
    } else {
        code
    };
    if json_errors() && !pending.is_empty() {
        let message = pending
            .iter()
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let diagnostics = pending.into_iter().flat_map(|p| p.diagnostics).collect();
        print_error_json(&message, code, diagnostics);
    }
    code
}

/// The JSON error object (`regain.error/1`).
pub fn error_json(message: &str, code: i32, diagnostics: Vec<Value>) -> Value {
    json!({
        "schema": "regain.error/1",
        "error": message,
        "code": code,
        "diagnostics": diagnostics,
    })
}

fn print_error_json(message: &str, code: i32, diagnostics: Vec<Value>) {
    println!("{}", error_json(message, code, diagnostics));
}

/// Why an input file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// `cannot read `FILE`: …` / `FILE is not UTF-8 text …`.
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Read a file (or stdin for `-`) without reporting anything: for commands that go on
/// with other files. An error here means [`EXIT_NO_INPUT`].
pub fn read_input(path: &Path) -> Result<String, ReadError> {
    let err = |message| ReadError { message };
    if path == Path::new("-") {
        let mut s = String::new();
        return std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map(|_| s)
            .map_err(|e| err(format!("cannot read standard input: {e}")));
    }
    readable(path).map_err(err)?;
    let bytes = std::fs::read(path).map_err(|e| err(cannot_read(path, &e)))?;
    String::from_utf8(bytes).map_err(|e| {
        err(format!(
            "`{}` is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Read a file (or stdin for `-`) with a clear error. The caller prints the error and
/// stops; the failure is recorded so that the command exits [`EXIT_NO_INPUT`] (and,
/// with `--format json`, prints the JSON error).
pub fn read(path: &Path) -> Result<String, String> {
    read_input(path).map_err(|e| {
        record(e.message.clone(), EXIT_NO_INPUT, Vec::new());
        e.message
    })
}

/// Read a named input file, reporting (stderr, and JSON when asked) and returning
/// [`EXIT_NO_INPUT`] when it cannot be read.
pub fn read_or_exit(path: &Path) -> Result<String, i32> {
    read_input(path).map_err(|e| fail(EXIT_NO_INPUT, e.message))
}

/// Load and check a policy, reporting its diagnostics on failure: [`EXIT_NO_INPUT`]
/// when the file cannot be read, [`EXIT_BAD_INPUT`] when it does not check.
pub fn load_policy(path: &Path) -> Result<regain::Policy, i32> {
    let src = read_input(path).map_err(|e| fail(EXIT_NO_INPUT, e))?;
    regain::Policy::parse_named(&path.display().to_string(), &src).map_err(|d| {
        render::diagnostics(&d);
        record(render::counts(&d), EXIT_BAD_INPUT, render::json_all(&d));
        EXIT_BAD_INPUT
    })
}

/// Load, check and compile a policy.
pub fn load_engine(path: &Path) -> Result<regain::Engine, i32> {
    let policy = load_policy(path)?;
    regain::Engine::new(&policy)
        .map_err(|e| fail(EXIT_BAD_INPUT, format!("{}: {e}", path.display())))
}

/// True when stderr is a terminal (colours allowed).
pub fn stderr_tty() -> bool {
    std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_recognised_on_a_rejected_command_line() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(asks_for_json(&args(&[
            "regain", "eval", "--format", "json", "-x"
        ])));
        assert!(asks_for_json(&args(&["regain", "eval", "--format=json"])));
        assert!(!asks_for_json(&args(&[
            "regain", "eval", "--format", "human"
        ])));
        assert!(!asks_for_json(&args(&["regain", "json", "--format"])));
    }

    #[test]
    fn the_help_lists_every_exit_code_once_per_meaning() {
        let help = exit_codes_help();
        for code in [
            EXIT_OK,
            EXIT_FAILED,
            EXIT_NOT_ALLOWED,
            EXIT_USAGE,
            EXIT_NO_INPUT,
        ] {
            assert!(help.contains(&format!("\n  {code:>2}  ")), "{code}: {help}");
        }
        assert_eq!(EXIT_TABLE.len(), 6);
        assert_eq!(EXIT_BAD_INPUT, EXIT_FAILED);
        assert_eq!(EXIT_NOT_ALLOWED, EXIT_ERROR);
        let v = error_json("boom", EXIT_NO_INPUT, Vec::new());
        assert_eq!(
            v.to_string(),
            r#"{"schema":"regain.error/1","error":"boom","code":66,"diagnostics":[]}"#
        );
    }

    #[test]
    fn an_unreadable_input_is_66_whatever_the_command_returned() {
        let missing = Path::new("no/such/file.regain");
        assert!(read(missing).is_err());
        assert_eq!(finish(EXIT_ERROR), EXIT_NO_INPUT);
        // The pending error was used up; a later failure keeps its own code.
        assert_eq!(finish(EXIT_BAD_INPUT), EXIT_BAD_INPUT);
        assert_eq!(finish(EXIT_OK), EXIT_OK);
        let dir = std::env::temp_dir();
        assert!(read_input(&dir).is_err_and(|e| e.message.contains("directory")));
    }
}
