//! The `regain` command-line tool.

mod cli;
#[cfg(feature = "lsp")]
mod lsp;

fn main() {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`regain graph … | head`) instead of failing on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any
    // thread exists, has no memory-safety implications.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(cli::run());
}
