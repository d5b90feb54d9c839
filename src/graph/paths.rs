//! The paths view of a policy: deny rules at the top, then each path in order as a box
//! (title, `when`, grants, wait, notify, shares) followed by its steps as a chain of
//! method boxes (`any N of` as a group), methods coloured by factor and marked when
//! restricted. Its size is linear in the policy's, whatever the size of the decision
//! graph, so it stays readable (and quick for Graphviz) for bank-sized policies.
//!
//! [`PathsView::new`] builds the typed view; [`to_dot`] and [`to_svg`] draw it. The
//! shares come from the caller (`regain::analyze::path_shares`): drawing does not
//! depend on analysis.

use std::fmt::Write as _;

use super::svg::{clip, text_width, Svg, LINE_H, PAD};
use crate::check::ir::{Cond, Ir, MethodId, PathId, Step};
use crate::syntax::ast::Factor;

/// The longest condition text shown in a box, in characters.
const MAX_COND: usize = 90;

/// Per path: the share of profiles for which it is available, and offered first.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Share {
    /// Among the offered paths.
    pub available: f64,
    /// The first offered path.
    pub first: f64,
}

/// A method as drawn: name, factor, restricted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodBox {
    /// The method.
    pub id: MethodId,
    /// Its name.
    pub name: String,
    /// Its factor.
    pub factor: Factor,
    /// A restricted authenticator.
    pub restricted: bool,
}

/// One step: one method, or `any N of` a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepBox {
    /// `Some(n)` for `any n of (…)`.
    pub any: Option<usize>,
    /// The methods, in listed order.
    pub methods: Vec<MethodBox>,
}

/// A deny rule as drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyBox {
    /// The reason.
    pub reason: String,
    /// The condition as written (whitespace collapsed, clipped).
    pub when: String,
}

/// A path as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct PathBox {
    /// The path.
    pub id: PathId,
    /// Its name.
    pub name: String,
    /// Its title.
    pub title: Option<String>,
    /// The `when` as written, if any.
    pub when: Option<String>,
    /// What it grants.
    pub grants: String,
    /// Waiting period in seconds.
    pub wait_s: u64,
    /// Notified methods.
    pub notify: Vec<String>,
    /// The steps.
    pub steps: Vec<StepBox>,
    /// Shares, when known.
    pub share: Option<Share>,
}

impl PathBox {
    /// The lines of the path's box.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!("path {}", self.name)];
        if let Some(t) = &self.title {
            out.push(clip(t, MAX_COND));
        }
        if let Some(w) = &self.when {
            out.push(format!("when {w}"));
        }
        let mut g = format!("grants {}", self.grants);
        if self.wait_s > 0 {
            let _ = write!(g, " · wait {}", duration(self.wait_s));
        }
        out.push(g);
        if !self.notify.is_empty() {
            out.push(clip(
                &format!("notify {}", self.notify.join(", ")),
                MAX_COND,
            ));
        }
        if let Some(s) = self.share {
            out.push(format!(
                "available {} · first {}",
                percent(s.available),
                percent(s.first)
            ));
        }
        out
    }
}

/// The paths view of a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PathsView {
    /// The policy's name.
    pub policy: String,
    /// Deny rules in order.
    pub denies: Vec<DenyBox>,
    /// Paths in order of preference.
    pub paths: Vec<PathBox>,
}

impl PathsView {
    /// The view of a policy. `source` is the policy's text (conditions are shown as
    /// written); `shares`, when given, is indexed like the paths.
    pub fn new(ir: &Ir, source: &str, shares: Option<&[Share]>) -> PathsView {
        let method = |m: &MethodId| {
            ir.methods.get(m.index()).map(|d| MethodBox {
                id: *m,
                name: d.name.clone(),
                factor: d.factor,
                restricted: d.restricted,
            })
        };
        let denies = ir
            .denies
            .iter()
            .map(|d| DenyBox {
                reason: d.reason.clone(),
                when: cond_text(&d.when, source),
            })
            .collect();
        let paths = ir
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| PathBox {
                id: PathId(i as u32),
                name: p.name.clone(),
                title: p.title.clone(),
                when: (!p.when.is_always()).then(|| cond_text(&p.when, source)),
                grants: p.grants.clone(),
                wait_s: p.wait_s,
                notify: p
                    .notify
                    .iter()
                    .filter_map(|m| ir.methods.get(m.index()).map(|d| d.name.clone()))
                    .collect(),
                steps: p
                    .steps
                    .iter()
                    .map(|s| StepBox {
                        any: match s {
                            Step::Method(_) => None,
                            Step::Any { .. } => Some(s.needed()),
                        },
                        methods: s.methods().iter().filter_map(method).collect(),
                    })
                    .collect(),
                share: shares.and_then(|s| s.get(i)).copied(),
            })
            .collect();
        PathsView {
            policy: ir.name.clone(),
            denies,
            paths,
        }
    }
}

/// A condition as written in the source: comments dropped, whitespace collapsed,
/// clipped to [`MAX_COND`] characters.
fn cond_text(c: &Cond, source: &str) -> String {
    let raw = source.get(c.span.start..c.span.end).unwrap_or("");
    let mut out = String::new();
    for line in raw.lines() {
        let code = line.split('#').next().unwrap_or("");
        for word in code.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    clip(&out, MAX_COND)
}

/// `72h`, `30m`, `45s`.
fn duration(s: u64) -> String {
    if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// `41.2%`, `<0.1%` for tiny non-zero shares.
fn percent(x: f64) -> String {
    if x > 0.0 && x < 0.0005 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

/// The fill colour of a factor.
pub fn factor_colour(f: Factor) -> &'static str {
    match f {
        Factor::Knowledge => "#cfe2ff",
        Factor::Possession => "#c9f0d3",
        Factor::Inherence => "#fde0c5",
        Factor::Document => "#e6d9f7",
        Factor::Human => "#f3d0d0",
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz `\l`-separated, left-aligned label lines.
fn dot_lines(lines: &[String]) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(&dot_escape(l));
        out.push_str("\\l");
    }
    out
}

/// The method's label lines: name, factor, `restricted`.
fn method_lines(m: &MethodBox) -> Vec<String> {
    let mut l = vec![m.name.clone(), m.factor.as_str().to_string()];
    if m.restricted {
        l.push("restricted".into());
    }
    l
}

/// The paths view in Graphviz DOT: top to bottom, deny rules first, then one row per
/// path (its box, then its steps left to right, an `any N of` group as a cluster).
/// Invisible edges keep the rows in the policy's order.
pub fn to_dot(view: &PathsView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_escape(&view.policy));
    out.push_str(
        "  rankdir=TB;\n  newrank=true;\n  compound=true;\n  nodesep=0.3;\n  ranksep=0.3;\n",
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11, shape=box, style=\"rounded,filled\", fillcolor=white];\n");
    out.push_str("  edge [arrowsize=0.7];\n");
    // The first node of each row, top to bottom.
    let mut column: Vec<String> = Vec::new();
    if !view.denies.is_empty() {
        out.push_str("  subgraph cluster_deny {\n    label=\"deny rules (checked first)\";\n    style=dashed;\n");
        for (i, d) in view.denies.iter().enumerate() {
            let lines = [format!("deny \"{}\"", d.reason), format!("when {}", d.when)];
            let _ = writeln!(
                out,
                "    deny{i} [fillcolor=\"#fdf0c2\", label=\"{}\"];",
                dot_lines(&lines)
            );
            column.push(format!("deny{i}"));
        }
        out.push_str("  }\n");
    }
    for (pi, p) in view.paths.iter().enumerate() {
        let head = format!("path{pi}");
        let _ = writeln!(
            out,
            "  {head} [fillcolor=\"#f4f6f8\", label=\"{}\"];",
            dot_lines(&p.lines())
        );
        let mut row = vec![head.clone()];
        // The previous node of the chain, and the cluster it belongs to (for `ltail`).
        let mut prev = (head.clone(), None::<String>);
        for (si, s) in p.steps.iter().enumerate() {
            let node = |mi: usize| format!("p{pi}s{si}m{mi}");
            let method = |m: &MethodBox| {
                let style = if m.restricted {
                    "\"rounded,filled,dashed,bold\", color=\"#b00020\""
                } else {
                    "\"rounded,filled\""
                };
                format!(
                    "fillcolor=\"{}\", style={style}, label=\"{}\"",
                    factor_colour(m.factor),
                    dot_lines(&method_lines(m))
                )
            };
            let cluster = s.any.map(|_| format!("cluster_p{pi}s{si}"));
            let indent = if cluster.is_some() { "    " } else { "  " };
            if let (Some(name), Some(n)) = (&cluster, s.any) {
                let _ = writeln!(
                    out,
                    "  subgraph {name} {{\n    label=\"any {n} of\";\n    style=\"dashed,rounded\";"
                );
            }
            for (mi, m) in s.methods.iter().enumerate() {
                let _ = writeln!(out, "{indent}{} [{}];", node(mi), method(m));
                row.push(node(mi));
            }
            // A group's methods side by side, in listed order.
            for mi in 1..s.methods.len() {
                let _ = writeln!(
                    out,
                    "{indent}{} -> {} [style=invis];",
                    node(mi - 1),
                    node(mi)
                );
            }
            if cluster.is_some() {
                out.push_str("  }\n");
            }
            let mut attrs = Vec::new();
            if let Some(t) = &prev.1 {
                attrs.push(format!("ltail={t}"));
            }
            if let Some(h) = &cluster {
                attrs.push(format!("lhead={h}"));
            }
            let attrs = if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            };
            let last = node(s.methods.len().saturating_sub(1));
            let _ = writeln!(out, "  {} -> {}{attrs};", prev.0, node(0));
            prev = (last, cluster);
        }
        let _ = writeln!(out, "  {{ rank=same; {}; }}", row.join("; "));
        column.push(head);
    }
    for w in column.windows(2) {
        if let [a, b] = w {
            let _ = writeln!(out, "  {a} -> {b} [style=invis];");
        }
    }
    out.push_str("}\n");
    out
}

/// A box of text lines: its size.
fn box_size(lines: &[String]) -> (f64, f64) {
    let w = lines.iter().map(|l| text_width(l)).fold(0.0, f64::max) + 2.0 * PAD;
    let h = lines.len() as f64 * LINE_H + 2.0 * PAD;
    (w, h)
}

/// The paths view as SVG, laid out by regain: deny rules at the top, then one row per
/// path: the path's box, then its steps left to right (columns aligned across rows).
pub fn to_svg(view: &PathsView) -> String {
    const MARGIN: f64 = 20.0;
    const HGAP: f64 = 28.0;
    const VGAP: f64 = 18.0;
    const MGAP: f64 = 6.0;
    let group_label_h = LINE_H;
    let mut svg = Svg::new();
    let mut y = MARGIN;
    svg.text(MARGIN, y, &format!("policy {}", view.policy), "title");
    y += LINE_H + VGAP / 2.0;
    let mut width: f64 = MARGIN + text_width(&format!("policy {}", view.policy));
    // Deny rules.
    if !view.denies.is_empty() {
        svg.text(MARGIN, y, "deny rules (checked first)", "small");
        y += LINE_H;
        for d in &view.denies {
            let lines = [format!("deny \"{}\"", d.reason), format!("when {}", d.when)];
            let (w, h) = box_size(&lines);
            svg.comment(&format!("deny {}", d.reason));
            svg.rect(MARGIN, y, w, h, "deny", None);
            for (i, l) in lines.iter().enumerate() {
                svg.text(MARGIN + PAD, y + PAD + i as f64 * LINE_H, l, "");
            }
            width = width.max(MARGIN + w);
            y += h + MGAP;
        }
        y += VGAP;
    }
    // Column widths: the path boxes, then each step index.
    // A step's size: its methods side by side (in a labelled group for `any N of`).
    let step_size = |s: &StepBox| -> (f64, f64) {
        let sizes: Vec<(f64, f64)> = s
            .methods
            .iter()
            .map(|m| box_size(&method_lines(m)))
            .collect();
        let w: f64 =
            sizes.iter().map(|s| s.0).sum::<f64>() + MGAP * (sizes.len().saturating_sub(1)) as f64;
        let h = sizes.iter().map(|s| s.1).fold(0.0, f64::max);
        match s.any {
            Some(n) => {
                let label_w = text_width(&format!("any {n} of"));
                (w.max(label_w) + 2.0 * PAD, h + group_label_h + 2.0 * PAD)
            }
            None => (w, h),
        }
    };
    for p in &view.paths {
        let lines = p.lines();
        let (pw, ph) = box_size(&lines);
        let row_h = p.steps.iter().map(|s| step_size(s).1).fold(ph, f64::max);
        // Every box is centred on the row's middle; arrows run along it.
        let mid = y + row_h / 2.0;
        svg.comment(&format!("path {}", p.name));
        let py = mid - ph / 2.0;
        svg.rect(MARGIN, py, pw, ph, "path", None);
        for (i, l) in lines.iter().enumerate() {
            let class = if i == 0 { "title" } else { "" };
            svg.text(MARGIN + PAD, py + PAD + i as f64 * LINE_H, l, class);
        }
        let mut x = MARGIN + pw;
        for s in &p.steps {
            let (sw, sh) = step_size(s);
            let cx = x + HGAP;
            svg.arrow(x, mid, cx, mid);
            let top = mid - sh / 2.0;
            let mut mx = if let Some(n) = s.any {
                svg.comment(&format!("any {n} of"));
                svg.rect(cx, top, sw, sh, "group", None);
                svg.text(cx + PAD, top + PAD, &format!("any {n} of"), "small");
                cx + PAD
            } else {
                cx
            };
            // Methods below a group's label, centred in what is left.
            let inner_mid = if s.any.is_some() {
                mid + group_label_h / 2.0
            } else {
                mid
            };
            for m in &s.methods {
                let ml = method_lines(m);
                let (mw, mh) = box_size(&ml);
                let my = inner_mid - mh / 2.0;
                let class = if m.restricted {
                    "method restricted"
                } else {
                    "method"
                };
                svg.comment(&format!("method {}", m.name));
                svg.rect(mx, my, mw, mh, class, Some(factor_colour(m.factor)));
                for (i, l) in ml.iter().enumerate() {
                    let class = if i == 0 { "" } else { "small" };
                    svg.text(mx + PAD, my + PAD + i as f64 * LINE_H, l, class);
                }
                mx += mw + MGAP;
            }
            x = cx + sw;
        }
        width = width.max(x);
        y += row_h + VGAP;
    }
    // A legend of the factors.
    let mut lx = MARGIN;
    for f in [
        Factor::Knowledge,
        Factor::Possession,
        Factor::Inherence,
        Factor::Document,
        Factor::Human,
    ] {
        let w = text_width(f.as_str()) + 2.0 * PAD;
        svg.rect(
            lx,
            y,
            w,
            LINE_H + 2.0 * PAD,
            "method",
            Some(factor_colour(f)),
        );
        svg.text(lx + PAD, y + PAD, f.as_str(), "small");
        lx += w + MGAP;
    }
    let w = text_width("restricted") + 2.0 * PAD;
    svg.rect(lx, y, w, LINE_H + 2.0 * PAD, "method restricted", None);
    svg.text(lx + PAD, y + PAD, "restricted", "small");
    lx += w;
    width = width.max(lx);
    y += LINE_H + 2.0 * PAD;
    svg.finish(&view.policy, width + MARGIN, y + MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_percentages() {
        assert_eq!(duration(72 * 3600), "72h");
        assert_eq!(duration(90), "90s");
        assert_eq!(duration(120), "2m");
        assert_eq!(percent(0.41234), "41.2%");
        assert_eq!(percent(0.0001), "<0.1%");
        assert_eq!(percent(0.0), "0.0%");
    }
}
