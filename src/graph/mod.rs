//! The decision graph: compile ([`compile`]), evaluate, and draw ([`dot`]).
//!
//! The graph is a reduced, ordered multi-valued decision diagram. Inner nodes test one
//! fact and have one edge per value class; terminals are complete decisions. It is kept
//! in flat arrays for evaluation and exported as a petgraph [`petgraph::graph::DiGraph`]
//! for drawing and analysis.

pub mod classes;
pub mod compile;
pub mod dot;
pub mod paths;
pub mod svg;

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::check::ir::{FactType, Ir};
use crate::decision::Decision;
use classes::Classes;
use compile::{Compiled, TERMINAL};

/// A node of the exported graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphNode {
    /// Tests one fact (by index into the policy's facts).
    Test {
        /// The fact's index.
        fact: usize,
    },
    /// A complete decision (index into [`DecisionGraph::decisions`]).
    Terminal {
        /// The decision's index.
        decision: usize,
    },
}

/// An edge of the exported graph: the value class it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphEdge {
    /// The class index of the tested fact.
    pub class: usize,
}

/// Size figures of a compiled graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Inner (test) nodes.
    pub nodes: usize,
    /// Edges out of inner nodes.
    pub edges: usize,
    /// The longest root-to-terminal path, in tests.
    pub depth: usize,
    /// Distinct terminal decisions.
    pub terminals: usize,
}

/// A compiled decision graph.
#[derive(Clone, Debug)]
pub struct DecisionGraph {
    pub(crate) c: Compiled,
}

impl DecisionGraph {
    pub(crate) fn new(c: Compiled) -> Self {
        DecisionGraph { c }
    }

    /// The distinct decisions at the terminals.
    pub fn decisions(&self) -> &[Decision] {
        &self.c.decisions
    }

    /// The value classes of each fact.
    pub fn classes(&self) -> &[Classes] {
        &self.c.classes
    }

    /// The order in which facts are tested (fact indices).
    pub fn order(&self) -> Vec<usize> {
        self.c.order.iter().map(|f| f.index()).collect()
    }

    /// Walk the graph with a class lookup per fact. `None` if a class is missing.
    #[inline]
    pub(crate) fn walk(&self, class_of: impl Fn(usize) -> Option<u32>) -> Option<usize> {
        let mut r = self.c.root;
        loop {
            if r & TERMINAL != 0 {
                return Some((r & !TERMINAL) as usize);
            }
            let n = self.c.nodes.get(r as usize)?;
            let class = class_of(n.fact as usize)?;
            r = *self.c.kids.get(n.first as usize + class as usize)?;
        }
    }

    /// The children of inner node `n` (one per class of its fact); empty for an id
    /// that is not an inner node.
    pub(crate) fn children(&self, n: u32) -> &[u32] {
        let Some(node) = self.c.nodes.get(n as usize) else {
            return &[];
        };
        let width = self
            .c
            .classes
            .get(node.fact as usize)
            .map_or(0, Classes::count);
        let first = node.first as usize;
        self.c.kids.get(first..first + width).unwrap_or(&[])
    }

    /// Size figures.
    pub fn stats(&self) -> Stats {
        let mut depth = vec![0usize; self.c.nodes.len()];
        // Children have smaller ids than parents: one pass in id order.
        let mut edges = 0;
        for i in 0..self.c.nodes.len() {
            let kids = self.children(i as u32);
            edges += kids.len();
            let d = kids
                .iter()
                .filter(|k| *k & TERMINAL == 0)
                .filter_map(|k| depth.get(*k as usize))
                .max()
                .copied()
                .unwrap_or(0);
            if let Some(slot) = depth.get_mut(i) {
                *slot = d + 1;
            }
        }
        let root_depth = if self.c.root & TERMINAL != 0 {
            0
        } else {
            depth.get(self.c.root as usize).copied().unwrap_or(0)
        };
        Stats {
            nodes: self.c.nodes.len(),
            edges,
            depth: root_depth,
            terminals: self.c.decisions.len(),
        }
    }

    /// The graph as a petgraph `DiGraph` (node 0 is the root).
    pub fn to_petgraph(&self) -> DiGraph<GraphNode, GraphEdge> {
        let mut g = DiGraph::new();
        let mut inner = vec![None; self.c.nodes.len()];
        let mut term = vec![None; self.c.decisions.len()];
        // The root first, so that it is node 0.
        self.add(&mut g, &mut inner, &mut term, self.c.root);
        let mut stack = vec![self.c.root];
        while let Some(r) = stack.pop() {
            let Some(from) = Self::index_of(&inner, &term, r) else {
                continue;
            };
            for (c, k) in self.children(r).iter().enumerate() {
                let fresh = Self::index_of(&inner, &term, *k).is_none();
                let Some(to) = self.add(&mut g, &mut inner, &mut term, *k) else {
                    continue;
                };
                g.add_edge(from, to, GraphEdge { class: c });
                if fresh {
                    stack.push(*k);
                }
            }
        }
        g
    }

    fn index_of(
        inner: &[Option<NodeIndex>],
        term: &[Option<NodeIndex>],
        r: u32,
    ) -> Option<NodeIndex> {
        if r & TERMINAL != 0 {
            term.get((r & !TERMINAL) as usize).copied().flatten()
        } else {
            inner.get(r as usize).copied().flatten()
        }
    }

    /// The petgraph node of `r`, added if new; `None` for an id outside the graph.
    fn add(
        &self,
        g: &mut DiGraph<GraphNode, GraphEdge>,
        inner: &mut [Option<NodeIndex>],
        term: &mut [Option<NodeIndex>],
        r: u32,
    ) -> Option<NodeIndex> {
        if let Some(i) = Self::index_of(inner, term, r) {
            return Some(i);
        }
        if r & TERMINAL != 0 {
            let d = (r & !TERMINAL) as usize;
            let slot = term.get_mut(d)?;
            let i = g.add_node(GraphNode::Terminal { decision: d });
            *slot = Some(i);
            Some(i)
        } else {
            let fact = self.c.nodes.get(r as usize)?.fact as usize;
            let slot = inner.get_mut(r as usize)?;
            let i = g.add_node(GraphNode::Test { fact });
            *slot = Some(i);
            Some(i)
        }
    }

    /// A readable label for class `c` of fact `f`: `true`, `2..5`, `low | medium`.
    pub fn class_label(&self, ir: &Ir, f: usize, c: usize) -> String {
        let (Some(fact), Some(classes)) = (ir.facts.get(f), self.c.classes.get(f)) else {
            return String::new();
        };
        match (classes, &fact.ty) {
            (Classes::Bool, _) => (c == 1).to_string(),
            (Classes::Enum { members, .. }, FactType::Enum(vs)) => members
                .get(c)
                .map(|m| {
                    m.iter()
                        .filter_map(|v| vs.get(*v as usize).cloned())
                        .collect::<Vec<_>>()
                        .join(" | ")
                })
                .unwrap_or_default(),
            (cls @ Classes::Int { .. }, _) => match cls.interval(c) {
                Some((a, b)) if a == b => a.to_string(),
                Some((a, b)) => format!("{a}..{b}"),
                None => String::new(),
            },
            _ => String::new(),
        }
    }
}
