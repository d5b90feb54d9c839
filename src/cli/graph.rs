//! `regain graph POLICY [--format dot|json]`

use std::path::PathBuf;

use regain::graph::dot;

use super::{load_engine, EXIT_OK};

/// Graph output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum GraphFormat {
    /// Graphviz DOT (render with `dot -Tsvg`).
    #[default]
    Dot,
    /// JSON: nodes, edges with labels, stats.
    Json,
    /// Only the size figures.
    Stats,
}

/// Arguments of `regain graph`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The policy file.
    policy: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: GraphFormat,
}

pub fn run(a: Args) -> i32 {
    let engine = match load_engine(&a.policy) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let g = engine.graph();
    let ir = engine.policy().ir();
    let s = g.stats();
    let line = format!(
        "{}: {} nodes, {} edges, depth {}, {} terminals",
        a.policy.display(),
        s.nodes,
        s.edges,
        s.depth,
        s.terminals
    );
    match a.format {
        GraphFormat::Dot => {
            print!("{}", dot::to_dot(g, ir));
            eprintln!("{line}");
        }
        GraphFormat::Json => println!("{}", dot::to_json(g, ir)),
        GraphFormat::Stats => println!("{line}"),
    }
    EXIT_OK
}
