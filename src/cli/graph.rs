//! `regain graph POLICY [--format dot|svg|json|stats] [--view paths|mdd]`

use std::path::PathBuf;

use regain::graph::paths::{self, PathsView};
use regain::graph::{dot, svg};

use super::{load_policy, EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE};

/// Graph output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum GraphFormat {
    /// Graphviz DOT (render with `dot -Tsvg`).
    #[default]
    Dot,
    /// SVG drawn by regain itself (no Graphviz needed).
    Svg,
    /// JSON: nodes, edges with labels, stats (the decision graph).
    Json,
    /// Only the size figures.
    Stats,
}

/// What `dot` and `svg` draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphView {
    /// The policy as paths: deny rules, then each path with its steps and shares.
    Paths,
    /// The decision graph (multi-valued decision diagram).
    Mdd,
}

/// Above this many nodes, `dot` and `svg` draw the paths view unless `--view mdd`.
pub const MDD_MAX_NODES: usize = 300;

/// Arguments of `regain graph`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The policy file.
    policy: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: GraphFormat,
    /// What to draw with `dot` and `svg` [default: `mdd` up to 300 graph nodes, `paths`
    /// above].
    #[arg(long, value_enum)]
    view: Option<GraphView>,
}

pub fn run(a: Args) -> i32 {
    if a.view.is_some() && matches!(a.format, GraphFormat::Json | GraphFormat::Stats) {
        return super::fail(
            EXIT_USAGE,
            "`--view` applies to `--format dot` and `--format svg`",
        );
    }
    let policy = match load_policy(&a.policy) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let engine = regain::Engine::new(&policy);
    let ir = policy.ir();
    // The paths view does not need the graph: it is drawn (without shares) even when
    // the graph does not compile.
    let engine = match (engine, a.format, a.view) {
        (Ok(e), _, _) => Some(e),
        (Err(e), GraphFormat::Dot | GraphFormat::Svg, None | Some(GraphView::Paths)) => {
            eprintln!(
                "warning: {}: {e}; drawing the paths view without shares",
                a.policy.display()
            );
            None
        }
        (Err(e), _, _) => {
            return super::fail(EXIT_BAD_INPUT, format!("{}: {e}", a.policy.display()));
        }
    };
    let stats = engine.as_ref().map(|e| e.graph().stats());
    let line = stats.map(|s| {
        format!(
            "{}: {} nodes, {} edges, depth {}, {} terminals",
            a.policy.display(),
            s.nodes,
            s.edges,
            s.depth,
            s.terminals
        )
    });
    let view = a.view.unwrap_or(match stats {
        Some(s) if s.nodes <= MDD_MAX_NODES => GraphView::Mdd,
        _ => GraphView::Paths,
    });
    let paths_view = || match &engine {
        Some(e) => regain::analyze::paths_view(e),
        None => PathsView::new(ir, policy.source(), None),
    };
    match (a.format, view, &engine) {
        (GraphFormat::Dot, GraphView::Paths, _) => print!("{}", paths::to_dot(&paths_view())),
        (GraphFormat::Svg, GraphView::Paths, _) => print!("{}", paths::to_svg(&paths_view())),
        (GraphFormat::Dot, GraphView::Mdd, Some(e)) => print!("{}", dot::to_dot(e.graph(), ir)),
        (GraphFormat::Svg, GraphView::Mdd, Some(e)) => print!("{}", svg::mdd_svg(e.graph(), ir)),
        (GraphFormat::Json, _, Some(e)) => println!("{}", dot::to_json(e.graph(), ir)),
        (GraphFormat::Stats, _, Some(_)) => {
            if let Some(l) = &line {
                println!("{l}");
            }
            return EXIT_OK;
        }
        // Without a graph only the paths view is drawn (handled above).
        (_, _, None) => return EXIT_BAD_INPUT,
    }
    if let (Some(l), GraphFormat::Dot | GraphFormat::Svg) = (&line, a.format) {
        eprintln!("{l}");
    }
    EXIT_OK
}
