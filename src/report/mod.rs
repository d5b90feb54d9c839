//! HTML reports (`--report FILE.html`, design/reports.md): one self-contained file per
//! run of `simulate`, `analyze` or `diff` — inline CSS, SVG charts drawn by regain
//! ([`charts`], plotters' SVG backend), no network at view time, and the run's JSON
//! (exactly what `--format json` prints) embedded as
//! `<script type="application/json" id="regain-data">`. Every number shown is read from
//! the same typed value that JSON is serialised from.

pub mod charts;

use std::fmt::Write as _;

use serde::Serialize;

use crate::analyze::diff::{Diff, Side};
use crate::analyze::{Analysis, MeasureKind, Region};
use crate::decision::DecisionKind;
use crate::graph::paths::{self, PathsView};
use crate::graph::svg::escape;
use crate::simulate::report::{Figures, Report};
use crate::{Policy, Severity};
use charts::{colour, Bar};

/// How many allow regions the analysis report lists (all are in the embedded JSON).
pub const TOP_ALLOW: usize = 15;
/// How many rows a regions table shows at most (all are in the embedded JSON).
pub const MAX_ROWS: usize = 200;

/// What the report says about a simulation run besides its JSON.
#[derive(Clone, Debug, Default)]
pub struct SimulationRun {
    /// The policy file as given.
    pub policy_file: String,
    /// The model file as given.
    pub model_file: String,
    /// sha256 of the policy's source (lowercase hex).
    pub revision: String,
}

/// The two files of a diff.
#[derive(Clone, Debug, Default)]
pub struct DiffRun {
    /// The old version's file.
    pub old_file: String,
    /// The new version's file.
    pub new_file: String,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the report's JSON: {0}")]
pub struct ReportError(#[from] serde_json::Error);

/// The JSON of `value` as `--format json` prints it, safe inside a `<script>` element
/// (`<` is written `\u003c`, which reads back as the same JSON value).
pub fn embedded_json<T: Serialize>(value: &T, pretty: bool) -> Result<String, ReportError> {
    let text = if pretty {
        serde_json::to_string_pretty(value)?
    } else {
        serde_json::to_string(value)?
    };
    Ok(text.replace('<', "\\u003c"))
}

/// A share as a percentage (as the CLI prints it).
pub fn pct(x: f64) -> String {
    let p = if x.abs() < 1e-15 { 0.0 } else { x * 100.0 };
    if p > 0.0 && p < 0.01 {
        format!("{p:.1e}%")
    } else {
        format!("{p:.2}%")
    }
}

fn interval(ci: [f64; 2]) -> String {
    if ci[0] == ci[1] {
        "exact".into()
    } else {
        format!("{} – {}", pct(ci[0]), pct(ci[1]))
    }
}

const CSS: &str = r#"
:root{--ink:#1f2328;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--accent:#005fa3;--red:#b03000;--green:#00734f}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
header{background:#0d2a45;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#d6e4f0}
main{max-width:1240px;margin:0 auto;padding:8px 24px 48px}
h2{font-size:19px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:18px 0 6px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.kpi{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px;background:var(--bg)}
.kpi b{display:block;font-size:22px}
.kpi span{color:var(--muted);font-size:13px}
.kpi.bad b{color:var(--red)}.kpi.good b{color:var(--green)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px 24px;align-items:start}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px;background:#fff}
figcaption{color:var(--muted);font-size:13px;padding:4px 6px 0}
svg.chart{display:block;width:100%;height:auto}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:14px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:var(--bg);font-weight:600}tbody th{font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
dl.params{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0}
dl.params dt{color:var(--muted)}dl.params dd{margin:0;overflow-wrap:anywhere}
.sev-error{color:var(--red);font-weight:600}.sev-warning{color:#8a5a00;font-weight:600}
.paths{overflow:auto;max-height:900px;border:1px solid var(--line);border-radius:8px;padding:8px}
.paths svg{max-width:none}
.note{color:var(--muted);font-size:13px}
td.nowrap code{white-space:nowrap;overflow-wrap:normal}
.badge{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;font-weight:600;color:#fff}
.allow{background:#00734f}.deny{background:#56595c}.lockout{background:#b03000}
footer{color:var(--muted);font-size:13px;margin-top:32px}
"#;

/// The page around a report's body, with the JSON embedded.
fn page(title: &str, subtitle: &str, body: &str, json: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"regain {version}\">\n<title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header><h1>{t}</h1><p>{s}</p></header>\n<main>\n{body}\n<footer>Made by regain {version}. The figures above are the JSON of this run, embedded in this file as <code>script#regain-data</code>.</footer>\n</main>\n<script type=\"application/json\" id=\"regain-data\">{json}</script>\n</body>\n</html>\n",
        t = escape(title),
        s = escape(subtitle),
        version = env!("CARGO_PKG_VERSION"),
    )
}

fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        escape(caption)
    )
}

fn kpi(value: &str, label: &str, class: &str) -> String {
    format!(
        "<div class=\"kpi {class}\"><b>{}</b><span>{}</span></div>",
        escape(value),
        escape(label)
    )
}

fn badge(d: DecisionKind) -> String {
    let (c, t) = match d {
        DecisionKind::Allow => ("allow", "allow"),
        DecisionKind::Deny => ("deny", "deny"),
        DecisionKind::Lockout => ("lockout", "lockout"),
    };
    format!("<span class=\"badge {c}\">{t}</span>")
}

// ---------------------------------------------------------------- simulation

fn outcome_bars(f: &Figures) -> Vec<Bar> {
    let o = &f.outcomes;
    [
        ("recovered", o.recovered, colour::GREEN),
        ("tried and failed", o.failed, colour::ORANGE),
        ("locked out (no path)", o.lockout, colour::RED),
        ("denied", o.denied, colour::GREY),
    ]
    .into_iter()
    .map(|(l, s, c)| Bar {
        label: l.into(),
        value: s.share,
        ci: Some(s.ci95),
        colour: c,
    })
    .collect()
}

fn outcome_series() -> Vec<(String, plotters::style::RGBColor)> {
    vec![
        ("recovered".into(), colour::GREEN),
        ("failed".into(), colour::ORANGE),
        ("lockout".into(), colour::RED),
        ("denied".into(), colour::GREY),
    ]
}

fn outcome_row(name: &str, f: &Figures) -> (String, Vec<f64>) {
    let o = &f.outcomes;
    (
        name.to_string(),
        vec![
            o.recovered.share,
            o.failed.share,
            o.lockout.share,
            o.denied.share,
        ],
    )
}

/// The populations of a report: the whole run, then each segment.
fn populations(r: &Report) -> Vec<(&str, &Figures)> {
    let mut out = vec![("all trials", &r.figures)];
    out.extend(r.segments.iter());
    out
}

/// The charts of a simulation report, each `(id, svg)`: outcome shares with 95%
/// intervals, outcomes per segment, recovery by path, time to recover, takeover per
/// attacker and segment, human review load. Shared by the HTML report and the
/// playground.
pub fn simulation_charts(r: &Report) -> Vec<(&'static str, String)> {
    let f = &r.figures;
    let mut out = vec![(
        "outcomes",
        charts::hbars(
            "Outcomes for the account owner",
            "share of trials (bars: 95% interval)",
            &outcome_bars(f),
            Some(1.0),
            &[],
        ),
    )];
    let pops = populations(r);
    if !r.segments.is_empty() {
        let rows: Vec<(String, Vec<f64>)> = pops.iter().map(|(n, f)| outcome_row(n, f)).collect();
        out.push((
            "segments",
            charts::stacked(
                "Outcomes per segment",
                "share of the segment's trials",
                &rows,
                &outcome_series(),
            ),
        ));
    }
    let paths: Vec<Bar> = f
        .by_path
        .iter()
        .enumerate()
        .map(|(i, (n, v))| Bar {
            label: n.to_string(),
            value: *v,
            ci: None,
            colour: charts::cycle(i),
        })
        .collect();
    out.push((
        "by-path",
        charts::hbars(
            "Recovered, by path",
            "share of all trials recovered through the path",
            &paths,
            None,
            &[],
        ),
    ));
    let t = &f.time_to_recover_s;
    if !t.cdf.is_empty() {
        out.push((
            "time",
            charts::cdf("Time to recover (recovered trials)", &t.cdf, t.p50, t.p95),
        ));
    }
    if !f.attackers.is_empty() {
        let legend: Vec<(String, _)> = pops
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.to_string(), charts::cycle(i)))
            .collect();
        let mut bars = Vec::new();
        for (a, _) in f.attackers.iter() {
            for (i, (pn, pf)) in pops.iter().enumerate() {
                if let Some(x) = pf.attackers.get(a) {
                    bars.push(Bar {
                        label: if pops.len() > 1 {
                            format!("{a} · {pn}")
                        } else {
                            a.to_string()
                        },
                        value: x.takeover.share,
                        ci: Some(x.takeover.ci95),
                        colour: charts::cycle(i),
                    });
                }
            }
        }
        out.push((
            "takeover",
            charts::hbars(
                "Takeover, per attacker and segment",
                "share of trials ending in a takeover (bars: 95% interval)",
                &bars,
                None,
                if pops.len() > 1 { &legend } else { &[] },
            ),
        ));
    }
    let review: Vec<Bar> = pops
        .iter()
        .enumerate()
        .map(|(i, (n, f))| Bar {
            label: n.to_string(),
            value: f.human_review_load.share,
            ci: Some(f.human_review_load.ci95),
            colour: charts::cycle(i),
        })
        .collect();
    out.push((
        "review",
        charts::hbars(
            "Human review load",
            "share of trials with a human method attempted (bars: 95% interval)",
            &review,
            None,
            &[],
        ),
    ));
    out
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), charts::human_secs)
}

/// The simulation report: `regain simulate POLICY --report FILE.html`.
pub fn simulation(r: &Report, run: &SimulationRun) -> Result<String, ReportError> {
    let json = embedded_json(r, false)?;
    let f = &r.figures;
    let mut b = String::new();
    let how = if r.exact {
        "exact (no sampling)".to_string()
    } else {
        format!(
            "{} trials, seed {}",
            f.trials.unwrap_or(0),
            r.seed.unwrap_or(0)
        )
    };
    let _ = write!(
        b,
        "<h2 id=\"parameters\">Run</h2><dl class=\"params\"><dt>policy</dt><dd><code>{}</code> ({})</dd><dt>revision</dt><dd><code>sha256:{}</code></dd><dt>model</dt><dd>{}</dd><dt>run</dt><dd>{}</dd>",
        escape(&r.policy),
        escape(&run.policy_file),
        escape(&run.revision),
        escape(&run.model_file),
        escape(&how)
    );
    if let Some(sh) = &r.shard {
        let _ = write!(
            b,
            "<dt>shard</dt><dd>{} of {} (combine the shards with <code>regain merge</code>)</dd>",
            sh.index, sh.of
        );
    }
    b.push_str("</dl>");
    let takeover: f64 = f
        .attackers
        .iter()
        .map(|(_, a)| a.takeover.share)
        .fold(0.0, f64::max);
    b.push_str("<div class=\"kpis\">");
    b.push_str(&kpi(&pct(f.outcomes.recovered.share), "recovered", "good"));
    b.push_str(&kpi(
        &pct(f.outcomes.lockout.share),
        "locked out (no path)",
        "bad",
    ));
    b.push_str(&kpi(&pct(f.outcomes.failed.share), "tried and failed", ""));
    b.push_str(&kpi(
        &secs(f.time_to_recover_s.mean),
        "mean time to recover",
        "",
    ));
    if !f.attackers.is_empty() {
        b.push_str(&kpi(
            &pct(takeover),
            "highest takeover (one attacker)",
            "bad",
        ));
    }
    b.push_str(&kpi(
        &pct(f.human_review_load.share),
        "human review load",
        "",
    ));
    b.push_str("</div>");

    b.push_str("<h2 id=\"charts\">Charts</h2><div class=\"grid\">");
    for (id, svg) in simulation_charts(r) {
        let caption = match id {
            "outcomes" => "Every trial ends in one outcome; the four shares add up to 100%.",
            "segments" => "Outcomes within each segment of the model's population.",
            "by-path" => "Which path the recovered owners completed first.",
            "time" => "Cumulative share of recovered owners by elapsed time (waits included); red marks are the median (p50) and the 95th percentile.",
            "takeover" => "Share of trials in which the attacker took the account over.",
            _ => "Share of trials in which the owner attempted a method reviewed by a person.",
        };
        let _ = write!(b, "<div id=\"chart-{id}\">{}</div>", figure(&svg, caption));
    }
    b.push_str("</div>");
    if f.time_to_recover_s.cdf.is_empty() {
        let _ = write!(
            b,
            "<p class=\"note\">Time to recover: mean {}{}.</p>",
            secs(f.time_to_recover_s.mean),
            if r.exact {
                " (an exact run computes the mean, not the distribution; run without --exact for quantiles)"
            } else {
                ""
            }
        );
    }

    b.push_str("<h2 id=\"figures\">Figures</h2><table><thead><tr><th scope=\"col\">population</th><th class=\"num\" scope=\"col\">trials</th><th class=\"num\" scope=\"col\">recovered</th><th class=\"num\" scope=\"col\">failed</th><th class=\"num\" scope=\"col\">lockout</th><th class=\"num\" scope=\"col\">denied</th><th class=\"num\" scope=\"col\">review</th><th class=\"num\" scope=\"col\">mean / p50 / p95 time</th></tr></thead><tbody>");
    for (n, f) in populations(r) {
        let o = &f.outcomes;
        let t = &f.time_to_recover_s;
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}<br><span class=\"note\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}<br><span class=\"note\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} / {} / {}</td></tr>",
            escape(n),
            f.trials.map_or_else(|| "exact".into(), |t| t.to_string()),
            pct(o.recovered.share),
            interval(o.recovered.ci95),
            pct(o.failed.share),
            pct(o.lockout.share),
            interval(o.lockout.ci95),
            pct(o.denied.share),
            pct(f.human_review_load.share),
            secs(t.mean),
            secs(t.p50.map(|x| x as f64)),
            secs(t.p95.map(|x| x as f64)),
        );
    }
    b.push_str("</tbody></table>");
    if !f.attackers.is_empty() {
        b.push_str("<h3>Takeover</h3><table><thead><tr><th scope=\"col\">attacker</th>");
        let pops = populations(r);
        for (n, _) in &pops {
            let _ = write!(b, "<th class=\"num\" scope=\"col\">{}</th>", escape(n));
        }
        b.push_str("</tr></thead><tbody>");
        for (a, _) in f.attackers.iter() {
            let _ = write!(b, "<tr><th scope=\"row\">{}</th>", escape(a));
            for (_, pf) in &pops {
                match pf.attackers.get(a) {
                    Some(x) => {
                        let _ = write!(
                            b,
                            "<td class=\"num\">{}<br><span class=\"note\">{}</span></td>",
                            pct(x.takeover.share),
                            interval(x.takeover.ci95)
                        );
                    }
                    None => b.push_str("<td class=\"num\">–</td>"),
                }
            }
            b.push_str("</tr>");
        }
        b.push_str("</tbody></table>");
    }
    Ok(page(
        &format!("Simulation of {}", r.policy),
        &format!("{} · model {} · {how}", run.policy_file, run.model_file),
        &b,
        &json,
    ))
}

// ---------------------------------------------------------------- analysis

fn region_outcome(r: &Region) -> String {
    match r.decision {
        DecisionKind::Allow => format!("{} {}", badge(r.decision), escape(&r.paths.join(", "))),
        DecisionKind::Deny => format!("{} {}", badge(r.decision), escape(&r.denied_by.join("; "))),
        DecisionKind::Lockout => badge(r.decision),
    }
}

fn regions_table(b: &mut String, rows: &[&Region], limit: usize) {
    b.push_str("<table><thead><tr><th class=\"num\" scope=\"col\">share</th><th scope=\"col\">decision</th><th scope=\"col\">condition</th></tr></thead><tbody>");
    for r in rows.iter().take(limit) {
        let _ = write!(
            b,
            "<tr><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td></tr>",
            pct(r.share),
            region_outcome(r),
            escape(&r.condition)
        );
    }
    b.push_str("</tbody></table>");
    if rows.len() > limit {
        let rest: f64 = rows.iter().skip(limit).map(|r| r.share).sum();
        let _ = write!(
            b,
            "<p class=\"note\">… {} more regions ({}); all are in the embedded JSON.</p>",
            rows.len() - limit,
            pct(rest)
        );
    }
}

/// The charts of an analysis, each `(id, svg)`: shares by decision (and per segment
/// under a model) and per-path availability. Shared by the report and the playground.
pub fn analysis_charts(a: &Analysis) -> Vec<(&'static str, String)> {
    let s = &a.shares;
    let mut out = vec![(
        "shares",
        charts::hbars(
            "Decisions over the profile space",
            match a.measure {
                MeasureKind::Uniform => "share of profiles (every fact value equally likely)",
                MeasureKind::Model => "share of the model's population",
            },
            &[
                Bar {
                    label: "allow".into(),
                    value: s.allow,
                    ci: None,
                    colour: colour::GREEN,
                },
                Bar {
                    label: "deny".into(),
                    value: s.deny,
                    ci: None,
                    colour: colour::GREY,
                },
                Bar {
                    label: "lockout".into(),
                    value: s.lockout,
                    ci: None,
                    colour: colour::RED,
                },
            ],
            Some(1.0),
            &[],
        ),
    )];
    if !a.segments.0.is_empty() {
        let rows: Vec<(String, Vec<f64>)> = a
            .segments
            .0
            .iter()
            .map(|(n, g)| {
                (
                    n.clone(),
                    vec![g.shares.allow, g.shares.deny, g.shares.lockout],
                )
            })
            .collect();
        out.push((
            "segments",
            charts::stacked(
                "Decisions per segment",
                "share of the segment's population",
                &rows,
                &[
                    ("allow".into(), colour::GREEN),
                    ("deny".into(), colour::GREY),
                    ("lockout".into(), colour::RED),
                ],
            ),
        ));
    }
    let mut bars = Vec::new();
    for (n, p) in &a.paths.0 {
        bars.push(Bar {
            label: format!("{n} · available"),
            value: p.available.share,
            ci: None,
            colour: colour::BLUE,
        });
        bars.push(Bar {
            label: format!("{n} · first"),
            value: p.first.share,
            ci: None,
            colour: colour::SKY,
        });
    }
    out.push((
        "paths",
        charts::hbars(
            "Per path: available, and offered first",
            "share of profiles",
            &bars,
            Some(1.0),
            &[
                ("available".into(), colour::BLUE),
                ("offered first".into(), colour::SKY),
            ],
        ),
    ));
    out
}

/// The paths view of a policy with the analysis' per-path shares, as SVG (the
/// library's own renderer, as `regain graph --view paths --format svg`).
pub fn paths_view_svg(policy: &Policy, a: &Analysis) -> String {
    let ir = policy.ir();
    let shares: Vec<paths::Share> = ir
        .paths
        .iter()
        .map(|p| {
            a.paths
                .0
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, x)| paths::Share {
                    available: x.available.share,
                    first: x.first.share,
                })
                .unwrap_or_default()
        })
        .collect();
    scoped(
        &paths::to_svg(&PathsView::new(ir, policy.source(), Some(&shares))),
        "regain-paths",
    )
}

/// An SVG whose `<style>` rules apply only inside it once inlined in a page: every
/// selector is prefixed with `.scope` and the root element gets that class (inline SVG
/// styles are otherwise global to the page and would restyle the charts).
pub fn scoped(svg: &str, scope: &str) -> String {
    let (Some(a), Some(b)) = (svg.find("<style>"), svg.find("</style>")) else {
        return svg.to_string();
    };
    let (Some(head), Some(css), Some(tail)) = (
        svg.get(..a + "<style>".len()),
        svg.get(a + "<style>".len()..b),
        svg.get(b..),
    ) else {
        return svg.to_string();
    };
    let mut out = String::with_capacity(svg.len() + 256);
    out.push_str(&head.replacen("<svg ", &format!("<svg class=\"{scope}\" "), 1));
    for line in css.lines() {
        match line.split_once('{') {
            Some((sel, rest)) => {
                let sels: Vec<String> = sel
                    .split(',')
                    .map(|x| format!(".{scope} {}", x.trim()))
                    .collect();
                let _ = writeln!(out, "{} {{{rest}", sels.join(", "));
            }
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out.push_str(tail);
    out
}

/// The analysis report: `regain analyze POLICY --report FILE.html`. `policy` is the
/// analysed policy (for the paths view).
pub fn analysis(a: &Analysis, policy: &Policy, policy_file: &str) -> Result<String, ReportError> {
    let json = embedded_json(a, true)?;
    let mut b = String::new();
    let measure = match a.measure {
        MeasureKind::Uniform => "every fact value equally likely",
        MeasureKind::Model => "weighted by the model's population",
    };
    let _ = write!(
        b,
        "<dl class=\"params\"><dt>policy</dt><dd><code>{}</code> ({})</dd><dt>measure</dt><dd>{}</dd><dt>decision graph</dt><dd>{} nodes, {} edges, depth {}, {} terminals</dd></dl>",
        escape(&a.policy),
        escape(policy_file),
        measure,
        a.graph.nodes,
        a.graph.edges,
        a.graph.depth,
        a.graph.terminals
    );
    let errors = a
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    b.push_str("<div class=\"kpis\">");
    b.push_str(&kpi(&pct(a.shares.allow), "allow", "good"));
    b.push_str(&kpi(&pct(a.shares.deny), "deny", ""));
    b.push_str(&kpi(
        &pct(a.shares.lockout),
        "lockout (no way back in)",
        if a.shares.lockout > 0.0 {
            "bad"
        } else {
            "good"
        },
    ));
    b.push_str(&kpi(
        &pct(a.not_denied.lockout),
        "lockout among profiles not denied",
        if a.not_denied.lockout > 0.0 {
            "bad"
        } else {
            "good"
        },
    ));
    b.push_str(&kpi(
        &a.findings.len().to_string(),
        &format!("findings ({errors} errors)"),
        if errors > 0 { "bad" } else { "" },
    ));
    b.push_str("</div>");

    b.push_str("<h2 id=\"lockout\">Lockout</h2>");
    if a.lockout.conditions.is_empty() {
        b.push_str("<p>No lockout: every profile that is not denied has a way back in.</p>");
    } else {
        let _ = write!(
            b,
            "<p><strong>{}</strong> of profiles have no way back in; they are exactly those where one of these conditions holds:</p><table><thead><tr><th class=\"num\" scope=\"col\">share</th><th scope=\"col\">condition</th></tr></thead><tbody>",
            pct(a.lockout.share)
        );
        for c in a.lockout.conditions.iter().take(MAX_ROWS) {
            let _ = write!(
                b,
                "<tr><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
                pct(c.share),
                escape(&c.condition)
            );
        }
        b.push_str("</tbody></table>");
    }

    b.push_str("<h2 id=\"charts\">Shares</h2><div class=\"grid\">");
    for (id, svg) in analysis_charts(a) {
        let caption = match id {
            "shares" => "Each profile gets exactly one decision; the three shares add up to 100%.",
            "segments" => "Decisions within each segment of the model's population.",
            _ => "Available: the path is offered. First: it is the first path offered.",
        };
        let _ = write!(b, "<div id=\"chart-{id}\">{}</div>", figure(&svg, caption));
    }
    b.push_str("</div>");

    let denies: Vec<&Region> = a
        .regions
        .iter()
        .filter(|r| r.decision == DecisionKind::Deny)
        .collect();
    b.push_str("<h2 id=\"deny\">Deny rules</h2>");
    if denies.is_empty() {
        b.push_str("<p>No profile is denied.</p>");
    } else {
        let _ = write!(b, "<p>{} of profiles are denied.</p>", pct(a.shares.deny));
        regions_table(&mut b, &denies, MAX_ROWS);
    }
    let allows: Vec<&Region> = a
        .regions
        .iter()
        .filter(|r| r.decision == DecisionKind::Allow)
        .collect();
    let _ = write!(
        b,
        "<h2 id=\"allow\">Largest allow regions</h2><p>{} of profiles are allowed, in {} regions; the largest:</p>",
        pct(a.shares.allow),
        allows.len()
    );
    regions_table(&mut b, &allows, TOP_ALLOW);

    b.push_str("<h2 id=\"paths\">Per path</h2><table><thead><tr><th scope=\"col\">path</th><th class=\"num\" scope=\"col\">available</th><th class=\"num\" scope=\"col\">first</th><th scope=\"col\">available when</th></tr></thead><tbody>");
    for (n, p) in &a.paths.0 {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
            escape(n),
            pct(p.available.share),
            pct(p.first.share),
            escape(&charts_clip(&p.available.condition, 600))
        );
    }
    b.push_str("</tbody></table>");

    b.push_str("<h2 id=\"findings\">Findings</h2>");
    if a.findings.is_empty() {
        b.push_str("<p>No findings.</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">severity</th><th scope=\"col\">code</th><th scope=\"col\">where</th><th scope=\"col\">finding</th><th scope=\"col\">cites</th></tr></thead><tbody>");
        for f in &a.findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut msg = escape(&f.message);
            if let Some(ack) = &f.acknowledged {
                let _ = write!(
                    msg,
                    "<br><span class=\"note\">acknowledged: {}</span>",
                    escape(&ack.reason)
                );
            }
            let _ = write!(
                b,
                "<tr><td class=\"sev-{sev}\">{sev}</td><td class=\"nowrap\"><code>{}</code></td><td><code>{}</code></td><td>{msg}</td><td>{}</td></tr>",
                escape(f.code),
                escape(&f.location),
                f.cites.map(escape).unwrap_or_default()
            );
        }
        b.push_str("</tbody></table>");
    }

    b.push_str("<h2 id=\"paths-view\">The policy as paths</h2><p class=\"note\">Deny rules at the top, then each path in order of preference with its steps; methods coloured by factor; each path marked with the share of profiles for which it is available and first.</p><div class=\"paths\">");
    b.push_str(&paths_view_svg(policy, a));
    b.push_str("</div>");
    Ok(page(
        &format!("Analysis of {}", a.policy),
        &format!("{policy_file} · {measure}"),
        &b,
        &json,
    ))
}

fn charts_clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push_str(" … (all in the JSON)");
        t
    }
}

// ---------------------------------------------------------------- diff

fn side(s: &Side) -> String {
    match s.decision {
        DecisionKind::Allow => format!(
            "{} {}",
            badge(s.decision),
            escape(&s.path_names().join(", "))
        ),
        DecisionKind::Deny => format!("{} {}", badge(s.decision), escape(&s.denied_by.join("; "))),
        DecisionKind::Lockout => badge(s.decision),
    }
}

/// The charts of a diff, each `(id, svg)`: share decided differently by kind of
/// change, and per-path availability old → new.
pub fn diff_charts(d: &Diff) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !d.summary.groups.is_empty() {
        let bars: Vec<Bar> = d
            .summary
            .groups
            .iter()
            .map(|g| Bar {
                label: g.kind.label().into(),
                value: g.share,
                ci: None,
                colour: match g.kind {
                    crate::analyze::diff::ChangeKind::LockoutGained => colour::RED,
                    crate::analyze::diff::ChangeKind::LockoutLost => colour::GREEN,
                    _ => colour::BLUE,
                },
            })
            .collect();
        out.push((
            "groups",
            charts::hbars(
                "Profiles decided differently, by kind of change",
                "share of profiles (a region may count under several kinds)",
                &bars,
                None,
                &[],
            ),
        ));
    }
    let mut bars = Vec::new();
    for p in &d.summary.paths {
        bars.push(Bar {
            label: format!("{} · old", p.name),
            value: p.available.old,
            ci: None,
            colour: colour::GREY,
        });
        bars.push(Bar {
            label: format!("{} · new", p.name),
            value: p.available.new,
            ci: None,
            colour: colour::BLUE,
        });
    }
    bars.push(Bar {
        label: "lockout · old".into(),
        value: d.summary.lockout.old,
        ci: None,
        colour: colour::GREY,
    });
    bars.push(Bar {
        label: "lockout · new".into(),
        value: d.summary.lockout.new,
        ci: None,
        colour: colour::RED,
    });
    out.push((
        "paths",
        charts::hbars(
            "Path availability and lockout, old → new",
            "share of profiles",
            &bars,
            Some(1.0),
            &[("old".into(), colour::GREY), ("new".into(), colour::BLUE)],
        ),
    ));
    out
}

/// The diff report: `regain diff OLD NEW --report FILE.html`.
pub fn diff(d: &Diff, run: &DiffRun) -> Result<String, ReportError> {
    let json = embedded_json(d, true)?;
    let mut b = String::new();
    let sm = &d.summary;
    let verdict = if d.equivalent {
        "Equivalent: every profile gets the same decision.".to_string()
    } else if d.regions.is_empty() {
        "Not equivalent: no decision moves, but a method's factor or `restricted` changed."
            .to_string()
    } else {
        format!(
            "Not equivalent: {} of profiles are decided differently, in {} region{}.",
            pct(d.share),
            d.regions.len(),
            if d.regions.len() == 1 { "" } else { "s" }
        )
    };
    let _ = write!(
        b,
        "<dl class=\"params\"><dt>old</dt><dd>{}</dd><dt>new</dt><dd>{}</dd></dl><p><strong>{}</strong></p>",
        escape(&run.old_file),
        escape(&run.new_file),
        escape(&verdict)
    );
    b.push_str("<div class=\"kpis\">");
    b.push_str(&kpi(
        &pct(d.share),
        "decided differently",
        if d.share > 0.0 { "bad" } else { "good" },
    ));
    b.push_str(&kpi(
        &format!("{} → {}", pct(sm.lockout.old), pct(sm.lockout.new)),
        "lockout old → new",
        if sm.lockout.new > sm.lockout.old {
            "bad"
        } else {
            ""
        },
    ));
    b.push_str(&kpi(
        &format!("{} → {}", pct(sm.deny.old), pct(sm.deny.new)),
        "deny old → new",
        "",
    ));
    b.push_str(&kpi(&d.regions.len().to_string(), "changed regions", ""));
    b.push_str("</div>");
    if !d.added_facts.is_empty() || !d.removed_facts.is_empty() {
        b.push_str("<h2 id=\"facts\">Facts</h2><ul>");
        if !d.added_facts.is_empty() {
            let _ = write!(
                b,
                "<li>added (free in the old version): <code>{}</code></li>",
                escape(&d.added_facts.join(", "))
            );
        }
        if !d.removed_facts.is_empty() {
            let _ = write!(
                b,
                "<li>removed (free in the new version): <code>{}</code></li>",
                escape(&d.removed_facts.join(", "))
            );
        }
        b.push_str("</ul>");
    }
    if !sm.lockout.newly_locked_out.is_empty() {
        b.push_str("<h2 id=\"newly-locked-out\">Newly locked out</h2><p>Profiles that had a way in and now have none:</p><table><thead><tr><th class=\"num\" scope=\"col\">share</th><th scope=\"col\">condition</th></tr></thead><tbody>");
        for c in sm.lockout.newly_locked_out.iter().take(MAX_ROWS) {
            let _ = write!(
                b,
                "<tr><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
                pct(c.share),
                escape(&c.condition)
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("<h2 id=\"charts\">Summary</h2><div class=\"grid\">");
    for (id, svg) in diff_charts(d) {
        let caption = match id {
            "groups" => "The share of profiles whose decision changes, grouped by how it changes.",
            _ => "Share of profiles for which each path is available, in the old and the new version; lockout last.",
        };
        let _ = write!(b, "<div id=\"chart-{id}\">{}</div>", figure(&svg, caption));
    }
    b.push_str("</div>");
    if !d.regions.is_empty() {
        b.push_str("<h2 id=\"regions\">Changed regions, largest first</h2><table><thead><tr><th class=\"num\" scope=\"col\">share</th><th scope=\"col\">old</th><th scope=\"col\">new</th><th scope=\"col\">change</th><th scope=\"col\">condition</th></tr></thead><tbody>");
        for r in d.regions.iter().take(MAX_ROWS) {
            let kinds: Vec<&str> = r.kinds.iter().map(|k| k.label()).collect();
            let _ = write!(
                b,
                "<tr><td class=\"num\">{}</td><td>{}</td><td>→ {}</td><td>{}</td><td><code>{}</code></td></tr>",
                pct(r.share),
                side(&r.old),
                side(&r.new),
                escape(&kinds.join(", ")),
                escape(&r.condition)
            );
        }
        b.push_str("</tbody></table>");
        if d.regions.len() > MAX_ROWS {
            let _ = write!(
                b,
                "<p class=\"note\">… {} more regions; all are in the embedded JSON.</p>",
                d.regions.len() - MAX_ROWS
            );
        }
        if d.truncated {
            b.push_str("<p class=\"note\">More regions than can be written out; the shares above are exact.</p>");
        }
    }
    if !d.changes.is_empty() {
        b.push_str("<h2 id=\"changes\">Policy changes</h2><table><thead><tr><th scope=\"col\">what</th><th scope=\"col\">item</th><th scope=\"col\">old</th><th scope=\"col\">new</th><th scope=\"col\">where</th></tr></thead><tbody>");
        for c in &d.changes {
            let at = c
                .new_location
                .as_deref()
                .or(c.old_location.as_deref())
                .unwrap_or("");
            let _ = write!(
                b,
                "<tr><td>{}{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                escape(&c.what),
                if c.material { " <span class=\"sev-warning\">(changes what the method is)</span>" } else { "" },
                escape(&c.item),
                escape(c.old.as_deref().unwrap_or("—")),
                escape(c.new.as_deref().unwrap_or("—")),
                escape(at)
            );
        }
        b.push_str("</tbody></table>");
    }
    Ok(page(
        "Policy diff",
        &format!("{} → {}", run.old_file, run.new_file),
        &b,
        &json,
    ))
}
