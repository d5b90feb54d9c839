//! `regain serve PATH...` and `regain playground [PATH...]` (design/serve.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use regain::serve::log::LogTarget;
use regain::serve::{self, Config, StartError};

use super::{render, EXIT_BAD_INPUT, EXIT_NO_INPUT, EXIT_OK};

/// Arguments of `regain serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Policy files or folders (every `*.regain` directly inside).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Where to listen; `127.0.0.1:0` picks a free port (named on stderr).
    #[arg(long, default_value = "127.0.0.1:8181")]
    addr: SocketAddr,
    /// How often policy files are re-read (by content hash), e.g. `2s`, `500ms`.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    poll: Duration,
    /// Require `Authorization: Bearer <token>` with the token in this file.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Append one JSON line per decision to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE|-")]
    decision_log: Option<String>,
    /// Facts written to the decision log's `profile` (none by default).
    #[arg(long, value_name = "FACT,...", value_delimiter = ',')]
    log_fields: Vec<String>,
    /// The largest request body, e.g. `1MiB`, `64KiB`, `100000`.
    #[arg(long, default_value = "1MiB", value_parser = parse_size)]
    max_body: usize,
    /// PEM certificate chain for HTTPS (with --tls-key).
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (with --tls-cert).
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Also serve the playground page at `/`.
    #[arg(long)]
    playground: bool,
    /// Threads answering HTTP. One gives the lowest tail latency next to a busy service
    /// (no work stealing, no wake-ups between workers); large batches and the authoring
    /// endpoints are worked off the HTTP threads, at most one per core at a time. Raise it
    /// only when one thread's ~60,000 requests/s are not enough.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: u16,
}

/// Arguments of `regain playground`.
#[derive(clap::Args, Debug)]
pub struct PlaygroundArgs {
    /// Policy files or folders [default: `policies/` in the current folder].
    paths: Vec<PathBuf>,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8181")]
    addr: SocketAddr,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("`{s}`: {e} (e.g. 2s, 500ms)"))?;
    if d.is_zero() {
        return Err("the interval must be more than 0".into());
    }
    Ok(d)
}

/// A size in bytes: `1048576`, `64KiB`, `1MiB`, `1MB`, `10kb`.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 1MiB, 64KiB, 100000)"))?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1024,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => return Err(format!("unknown unit `{other}` (B, KiB, MiB, KB, MB)")),
    };
    let size = n
        .checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))?;
    if size == 0 {
        return Err("the body limit must be more than 0".into());
    }
    Ok(size)
}

pub fn run(a: Args) -> i32 {
    let token = match &a.token_file {
        Some(p) => match super::read_input(p) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            Ok(_) => return super::fail(EXIT_BAD_INPUT, format!("`{}` is empty", p.display())),
            Err(e) => return super::fail(EXIT_NO_INPUT, e),
        },
        None => None,
    };
    let mut config = Config::new(a.paths);
    config.addr = a.addr;
    config.poll = a.poll;
    config.token = token;
    config.decision_log = a.decision_log.map(|d| {
        if d == "-" {
            LogTarget::Stdout
        } else {
            LogTarget::File(PathBuf::from(d))
        }
    });
    config.log_fields = a.log_fields;
    config.max_body = a.max_body;
    config.tls = a.tls_cert.zip(a.tls_key);
    config.playground = a.playground;
    serve_until_signal(config, a.threads)
}

pub fn run_playground(a: PlaygroundArgs) -> i32 {
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from("policies")]
    } else {
        a.paths
    };
    let mut config = Config::new(paths);
    config.addr = a.addr;
    config.playground = true;
    serve_until_signal(config, 1)
}

fn serve_until_signal(config: Config, threads: u16) -> i32 {
    let missing: Vec<&PathBuf> = config.paths.iter().filter(|p| !p.exists()).collect();
    if let Some(p) = missing.first() {
        return super::fail(
            EXIT_NO_INPUT,
            format!("cannot read `{}`: no such file or folder", p.display()),
        );
    }
    // One HTTP thread is a single-threaded runtime (no work stealing, no wake-ups of
    // idle workers); heavy work goes to the blocking pool either way.
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(usize::from(threads));
        b
    };
    let runtime = match serve::share::install(builder.enable_all()).build() {
        Ok(r) => r,
        Err(e) => return super::fail(EXIT_BAD_INPUT, format!("cannot start: {e}")),
    };
    let tls = config.tls.is_some();
    let playground = config.playground;
    runtime.block_on(async move {
        let server = match serve::start(config).await {
            Ok(s) => s,
            Err(StartError::Policies(failures)) => {
                for f in &failures {
                    match &f.diagnostics {
                        Some(d) => render::diagnostics(d),
                        None => eprintln!("error: {}", f.message),
                    }
                }
                return super::fail(
                    EXIT_BAD_INPUT,
                    format!("{} policy file(s) do not load", failures.len()),
                );
            }
            Err(e) => return super::fail(EXIT_BAD_INPUT, e),
        };
        let scheme = if tls { "https" } else { "http" };
        let names: Vec<String> = server
            .app()
            .store
            .snapshot()
            .policies
            .keys()
            .cloned()
            .collect();
        eprintln!("serving {} policies: {}", names.len(), names.join(", "));
        if playground {
            eprintln!("playground at {scheme}://{}/", server.addr());
        }
        let terminated = serve::terminated();
        eprintln!("listening on {scheme}://{}", server.addr());
        terminated.await;
        eprintln!("shutting down");
        server.shutdown().await;
        EXIT_OK
    })
}
