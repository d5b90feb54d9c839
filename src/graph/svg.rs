//! SVG drawn by regain itself (no Graphviz): a small writer with fixed text metrics, and
//! the layered top-to-bottom layout of the decision graph (the MDD view). The paths view
//! uses the same writer ([`super::paths::to_svg`]).
//!
//! Text is set in a monospace font whose advance is [`CHAR_W`] per character, so that
//! every box is sized to its text and no text overlaps another.

use std::fmt::Write as _;

use super::{compile::TERMINAL, dot::decision_label, DecisionGraph};
use crate::check::ir::Ir;
use crate::decision::DecisionKind;

/// Font size of the drawings, in pixels.
pub const FONT: f64 = 12.0;
/// The advance of one character (monospace: 0.6 em).
pub const CHAR_W: f64 = FONT * 0.6;
/// The height of one text line.
pub const LINE_H: f64 = FONT * 1.4;
/// Padding inside boxes.
pub const PAD: f64 = 6.0;

/// Escape text for SVG/XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The width of `s` set in the drawing font.
pub fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// An SVG document under construction.
pub struct Svg {
    body: String,
}

impl Default for Svg {
    fn default() -> Self {
        Self::new()
    }
}

impl Svg {
    /// An empty drawing.
    pub fn new() -> Self {
        Svg {
            body: String::new(),
        }
    }

    /// A rectangle; `class` picks the style (see [`Svg::finish`]), `fill` overrides the fill.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, fill: Option<&str>) {
        let fill = fill
            .map(|f| format!(" style=\"fill:{f}\""))
            .unwrap_or_default();
        let _ = writeln!(
            self.body,
            "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"4\"{fill}/>"
        );
    }

    /// One line of text whose baseline box starts at `(x, y)` (top-left of the line).
    pub fn text(&mut self, x: f64, y: f64, s: &str, class: &str) {
        let _ = writeln!(
            self.body,
            "<text class=\"{class}\" x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
            y + LINE_H * 0.75,
            escape(s)
        );
    }

    /// A straight arrow from `(x1, y1)` to `(x2, y2)`.
    pub fn arrow(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        let _ = writeln!(
            self.body,
            "<line class=\"edge\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" marker-end=\"url(#arrow)\"/>"
        );
    }

    /// A line without an arrow head.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        let _ = writeln!(
            self.body,
            "<line class=\"edge\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\"/>"
        );
    }

    /// A comment (for readers of the SVG text and for tests).
    pub fn comment(&mut self, s: &str) {
        let _ = writeln!(self.body, "<!-- {} -->", s.replace("--", "- -"));
    }

    /// The whole document, `width` × `height` pixels.
    pub fn finish(self, title: &str, width: f64, height: f64) -> String {
        let mut out = String::with_capacity(self.body.len() + 1024);
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">"
        );
        let _ = writeln!(out, "<title>{}</title>", escape(title));
        out.push_str(concat!(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">",
            "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n",
            "<style>\n",
            "text { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12px; fill: #222; }\n",
            "text.title { font-weight: bold; }\n",
            "text.small { fill: #555; }\n",
            "rect { stroke: #555; stroke-width: 1; fill: #fff; }\n",
            "rect.deny { fill: #fdf0c2; }\n",
            "rect.path { fill: #f4f6f8; }\n",
            "rect.method { stroke-width: 1; }\n",
            "rect.restricted { stroke: #b00020; stroke-width: 2; stroke-dasharray: 5 3; }\n",
            "rect.group { fill: none; stroke: #888; stroke-dasharray: 3 3; }\n",
            "rect.test { fill: #fff; }\n",
            "rect.allow { fill: #c8f0c8; }\n",
            "rect.lockout { fill: #f4b6b6; }\n",
            "rect.section { fill: none; stroke: none; }\n",
            "rect.label { fill: #fff; stroke: none; fill-opacity: 0.85; }\n",
            "line.edge { stroke: #555; stroke-width: 1; }\n",
            "</style>\n",
            "<rect class=\"section\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" style=\"fill:#fff\"/>\n",
        ));
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}

/// An item of the layered drawing: a graph node, or a bend point of a long edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Item {
    Node(u32),
    Bend(usize),
}

/// The decision graph (MDD view) as SVG: layered top to bottom, one layer per fact in
/// the graph's order and the terminals at the bottom; an edge that skips layers bends
/// through a point in each layer it crosses (so it never runs through a box); within a
/// layer, items are sorted by the mean position of their parents. Each edge carries its
/// class label beside its first segment.
pub fn mdd_svg(graph: &DecisionGraph, ir: &Ir) -> String {
    use std::collections::HashMap;
    const HGAP: f64 = 24.0;
    const VGAP: f64 = 64.0;
    const MARGIN: f64 = 20.0;
    const BEND_W: f64 = 12.0;
    let c = &graph.c;
    let mut level_of_fact = vec![usize::MAX; ir.facts.len()];
    for (l, f) in c.order.iter().enumerate() {
        if let Some(slot) = level_of_fact.get_mut(f.index()) {
            *slot = l;
        }
    }
    let term_layer = c.order.len();
    let layer_of = |r: u32| -> usize {
        if r & TERMINAL != 0 {
            term_layer
        } else {
            c.nodes
                .get(r as usize)
                .and_then(|n| level_of_fact.get(n.fact as usize))
                .copied()
                .unwrap_or(term_layer)
        }
    };
    // Nodes in discovery order from the root (iterative), children in class order.
    let mut rank: HashMap<u32, usize> = HashMap::new();
    let mut order: Vec<u32> = vec![c.root];
    rank.insert(c.root, 0);
    let mut i = 0;
    while let Some(r) = order.get(i).copied() {
        i += 1;
        for k in graph.children(r) {
            if !rank.contains_key(k) {
                rank.insert(*k, order.len());
                order.push(*k);
            }
        }
    }
    let label = |r: u32| -> String {
        if r & TERMINAL != 0 {
            c.decisions
                .get((r & !TERMINAL) as usize)
                .map(|d| clip(&decision_label(d), 60))
                .unwrap_or_default()
        } else {
            c.nodes
                .get(r as usize)
                .and_then(|n| ir.facts.get(n.fact as usize))
                .map(|f| f.name.clone())
                .unwrap_or_default()
        }
    };
    // Edges as chains of items: (from, class, items after `from`).
    let mut layers: Vec<Vec<Item>> = vec![Vec::new(); term_layer + 1];
    let mut layer_item = |l: usize, it: Item| {
        if let Some(v) = layers.get_mut(l) {
            v.push(it);
        }
    };
    for r in &order {
        layer_item(layer_of(*r), Item::Node(*r));
    }
    let mut edges: Vec<(u32, usize, Vec<Item>)> = Vec::new();
    let mut bends = 0usize;
    for r in &order {
        let from = layer_of(*r);
        for (class, k) in graph.children(*r).iter().enumerate() {
            let mut chain = Vec::new();
            for l in from + 1..layer_of(*k) {
                chain.push(Item::Bend(bends));
                layer_item(l, Item::Bend(bends));
                bends += 1;
            }
            chain.push(Item::Node(*k));
            edges.push((*r, class, chain));
        }
    }
    let mut parents: HashMap<Item, Vec<Item>> = HashMap::new();
    for (r, _, chain) in &edges {
        let mut prev = Item::Node(*r);
        for it in chain {
            parents.entry(*it).or_default().push(prev);
            prev = *it;
        }
    }
    let node_h = LINE_H + 2.0 * PAD;
    let box_w = |r: u32| text_width(&label(r)) + 2.0 * PAD;
    // Edge labels: one line each below the box, the class-`i` edge leaving at
    // `(i + 1) / (k + 1)` of the box's width, its label starting just right of it.
    let edge_label = |r: u32, class: usize| -> String {
        c.nodes
            .get(r as usize)
            .map(|n| clip(&graph.class_label(ir, n.fact as usize, class), 24))
            .unwrap_or_default()
    };
    let start_x = |r: u32, class: usize, left: f64| -> f64 {
        let k = graph.children(r).len();
        left + box_w(r) * (class + 1) as f64 / (k + 1) as f64
    };
    // Room taken in its layer: the box, and the labels to its right.
    let width_of = |it: Item| match it {
        Item::Node(r) => (0..graph.children(r).len())
            .map(|i| start_x(r, i, 0.0) + 3.0 + text_width(&edge_label(r, i)))
            .fold(box_w(r), f64::max),
        Item::Bend(_) => BEND_W,
    };
    let widest = order
        .iter()
        .map(|r| graph.children(*r).len())
        .max()
        .unwrap_or(0);
    let vgap = VGAP.max(widest as f64 * LINE_H + 24.0);
    // Positions (x centre, y top), layer by layer.
    let mut pos: HashMap<Item, (f64, f64)> = HashMap::new();
    let mut width: f64 = 0.0;
    let mut y = MARGIN;
    let mut drawn_layers = 0usize;
    for layer in &layers {
        if layer.is_empty() {
            continue;
        }
        let mut keyed: Vec<(f64, usize, Item)> = layer
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let xs: Vec<f64> = parents
                    .get(it)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|p| pos.get(p).map(|q| q.0))
                    .collect();
                let bary = if xs.is_empty() {
                    0.0
                } else {
                    xs.iter().sum::<f64>() / xs.len() as f64
                };
                (bary, i, *it)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut x = MARGIN;
        for (bary, _, it) in &keyed {
            let w = match it {
                Item::Node(r) => box_w(*r),
                Item::Bend(_) => BEND_W,
            };
            // Under its parents when there is room.
            x = x.max(bary - w / 2.0);
            pos.insert(*it, (x + w / 2.0, y));
            x += width_of(*it) + HGAP;
        }
        width = width.max(x);
        y += node_h + vgap;
        drawn_layers += 1;
    }
    let height = MARGIN * 2.0 + drawn_layers as f64 * (node_h + vgap) - vgap;
    let mut svg = Svg::new();
    // Edges first, under the boxes: a polyline through the bends, the arrow on the last
    // segment; then their labels.
    let mut labels: Vec<(f64, f64, String)> = Vec::new();
    for (r, class, chain) in &edges {
        let Some(&(x0, y0)) = pos.get(&Item::Node(*r)) else {
            continue;
        };
        let sx = start_x(*r, *class, x0 - box_w(*r) / 2.0);
        let mut pts = vec![(sx, y0 + node_h)];
        for it in chain {
            let Some(&(x, y)) = pos.get(it) else { continue };
            match it {
                Item::Bend(_) => {
                    pts.push((x, y));
                    pts.push((x, y + node_h));
                }
                Item::Node(_) => pts.push((x, y)),
            }
        }
        for w in pts.windows(2) {
            if let [(x1, y1), (x2, y2)] = w {
                if w.get(1) == pts.last() {
                    svg.arrow(*x1, *y1, *x2, *y2);
                } else {
                    svg.line(*x1, *y1, *x2, *y2);
                }
            }
        }
        labels.push((
            sx + 3.0,
            y0 + node_h + 4.0 + *class as f64 * LINE_H,
            edge_label(*r, *class),
        ));
    }
    // Labels over the edges, each on a white ground.
    for (x, y, text) in &labels {
        svg.rect(*x - 1.0, *y, text_width(text) + 2.0, LINE_H, "label", None);
        svg.text(*x, *y, text, "small");
    }
    for r in &order {
        let Some(&(x, y)) = pos.get(&Item::Node(*r)) else {
            continue;
        };
        let text = label(*r);
        let w = text_width(&text) + 2.0 * PAD;
        let class = if *r & TERMINAL != 0 {
            match c.decisions.get((r & !TERMINAL) as usize).map(|d| d.kind()) {
                Some(DecisionKind::Allow) => "allow",
                Some(DecisionKind::Deny) => "deny",
                _ => "lockout",
            }
        } else {
            "test"
        };
        svg.comment(&format!("node {text}"));
        svg.rect(x - w / 2.0, y, w, node_h, class, None);
        svg.text(x - w / 2.0 + PAD, y + PAD, &text, "");
    }
    svg.finish(&ir.name, width + MARGIN, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_clips() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(text_width("abcd"), 4.0 * CHAR_W);
    }
}
