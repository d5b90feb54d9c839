//! Drawing the decision graph: Graphviz DOT and a JSON form.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;

use petgraph::visit::EdgeRef;
use serde_json::json;

use super::{DecisionGraph, GraphNode};
use crate::check::ir::Ir;
use crate::decision::{Decision, DecisionKind};

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A one-line summary of a decision: `allow: email, support`, `deny: account is frozen`.
pub fn decision_label(d: &Decision) -> String {
    match d.kind() {
        DecisionKind::Allow => format!("allow: {}", d.path_names().join(", ")),
        DecisionKind::Deny => format!("deny: {}", d.denied_by().join("; ")),
        DecisionKind::Lockout => "lockout".into(),
    }
}

/// The graph in Graphviz DOT.
pub fn to_dot(graph: &DecisionGraph, ir: &Ir) -> String {
    let g = graph.to_petgraph();
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(&ir.name));
    let _ = writeln!(out, "  rankdir=TB;");
    let _ = writeln!(out, "  node [fontname=\"Helvetica\"];");
    for i in g.node_indices() {
        match &g[i] {
            GraphNode::Test { fact } => {
                let _ = writeln!(
                    out,
                    "  n{} [shape=ellipse, label=\"{}\"];",
                    i.index(),
                    escape(&ir.facts[*fact].name)
                );
            }
            GraphNode::Terminal { decision } => {
                let d = &graph.decisions()[*decision];
                let color = match d.kind() {
                    DecisionKind::Allow => "palegreen",
                    DecisionKind::Deny => "lightgoldenrod",
                    DecisionKind::Lockout => "lightcoral",
                };
                let _ = writeln!(
                    out,
                    "  n{} [shape=box, style=filled, fillcolor={color}, label=\"{}\"];",
                    i.index(),
                    escape(&decision_label(d))
                );
            }
        }
    }
    for e in g.edge_references() {
        let GraphNode::Test { fact } = g[e.source()] else {
            continue;
        };
        let _ = writeln!(
            out,
            "  n{} -> n{} [label=\"{}\"];",
            e.source().index(),
            e.target().index(),
            escape(&graph.class_label(ir, fact, e.weight().class))
        );
    }
    out.push_str("}\n");
    out
}

/// The graph as JSON: nodes (tests and terminals), edges with class labels, stats.
pub fn to_json(graph: &DecisionGraph, ir: &Ir) -> serde_json::Value {
    let g = graph.to_petgraph();
    let nodes: Vec<_> = g
        .node_indices()
        .map(|i| match &g[i] {
            GraphNode::Test { fact } => json!({"id": i.index(), "test": ir.facts[*fact].name}),
            GraphNode::Terminal { decision } => {
                json!({"id": i.index(), "terminal": graph.decisions()[*decision]})
            }
        })
        .collect();
    let edges: Vec<_> = g
        .edge_references()
        .filter_map(|e| {
            let GraphNode::Test { fact } = g[e.source()] else {
                return None;
            };
            Some(json!({
                "from": e.source().index(),
                "to": e.target().index(),
                "label": graph.class_label(ir, fact, e.weight().class),
            }))
        })
        .collect();
    json!({"policy": ir.name, "root": 0, "nodes": nodes, "edges": edges, "stats": graph.stats()})
}
