//! Drawing the decision graph: Graphviz DOT and a JSON form.

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
        let Some(node) = g.node_weight(i) else {
            continue;
        };
        match node {
            GraphNode::Test { fact } => {
                let _ = writeln!(
                    out,
                    "  n{} [shape=ellipse, label=\"{}\"];",
                    i.index(),
                    escape(ir.facts.get(*fact).map_or("", |f| f.name.as_str()))
                );
            }
            GraphNode::Terminal { decision } => {
                let Some(d) = graph.decisions().get(*decision) else {
                    continue;
                };
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
        let Some(GraphNode::Test { fact }) = g.node_weight(e.source()).cloned() else {
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
        .filter_map(|i| g.node_weight(i).map(|n| (i, n)))
        .map(|(i, n)| match n {
            GraphNode::Test { fact } => {
                json!({"id": i.index(), "test": ir.facts.get(*fact).map(|f| &f.name)})
            }
            GraphNode::Terminal { decision } => {
                json!({"id": i.index(), "terminal": graph.decisions().get(*decision)})
            }
        })
        .collect();
    let edges: Vec<_> = g
        .edge_references()
        .filter_map(|e| {
            let Some(GraphNode::Test { fact }) = g.node_weight(e.source()).cloned() else {
                return None;
            };
            Some(json!({
                "from": e.source().index(),
                "to": e.target().index(),
                "label": graph.class_label(ir, fact, e.weight().class),
            }))
        })
        .collect();
    json!({"schema": "regain.graph/1", "policy": ir.name, "root": 0, "nodes": nodes, "edges": edges, "stats": graph.stats()})
}
