//! `regain lsp [--stdio]`: the language server (see the `lsp` module).

/// Arguments of `regain lsp`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Talk over stdin/stdout (the only transport; accepted because editors pass it).
    #[arg(long)]
    stdio: bool,
}

/// Serve until the client says `exit`: 0 after `shutdown`, 1 otherwise.
pub fn run(a: Args) -> i32 {
    let _ = a.stdio;
    crate::lsp::run()
}
