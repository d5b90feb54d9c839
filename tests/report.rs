//! `--report FILE.html` of simulate, analyze and diff: each report is written, embeds
//! exactly the JSON that `--format json` prints for the same run, loads nothing from the
//! network, and has non-empty SVG charts. (Browser checks: tests/e2e, run by .ci/report.sh.)

mod common;

use std::path::{Path, PathBuf};

use common::regain;
use serde_json::Value;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("regain-report-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The JSON in `<script type="application/json" id="regain-data">`.
fn embedded(html: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"regain-data\">";
    assert_eq!(html.matches(open).count(), 1, "one embedded JSON block");
    let start = html.find(open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("embedded JSON parses")
}

/// Every `src=`/`href=` value; none may be an http(s) URL. No external script or style.
fn assert_offline(html: &str) {
    for attr in ["src=", "href=", "src =", "href ="] {
        for (i, _) in html.match_indices(attr) {
            let v = html[i + attr.len()..].trim_start_matches(['"', '\'']);
            assert!(
                !v.starts_with("http:") && !v.starts_with("https:") && !v.starts_with("//"),
                "network URL in {attr}: {}",
                &v[..v.len().min(80)]
            );
        }
    }
    assert!(!html.contains("<link"), "no linked resources");
    assert!(!html.contains("@import"), "no imported styles");
    assert!(!html.contains("url(http"), "no remote CSS URLs");
    // The only script is the JSON data block.
    assert_eq!(html.matches("<script").count(), 1);
}

/// The `<svg class="chart" …>…</svg>` charts: each has a title and drawn marks.
fn charts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<svg") {
        let end = i + rest[i..].find("</svg>").unwrap() + "</svg>".len();
        let svg = &rest[i..end];
        if svg[..svg.find('>').unwrap()].contains("class=\"chart\"") {
            out.push(svg);
        }
        rest = &rest[end..];
    }
    for svg in &out {
        assert!(svg.contains("<title>"), "chart has a title");
        assert!(
            svg.matches("<rect").count() >= 2 || svg.contains("<polyline"),
            "chart draws marks: {}",
            &svg[..svg.len().min(300)]
        );
        assert!(svg.contains("<text"), "chart has labels");
        assert!(!svg.contains("not drawn"), "chart was drawn");
    }
    out
}

fn run_ok(args: &[&str]) -> String {
    let (code, out, err) = regain(args);
    assert!(
        code == 0 || (args[0] == "diff" && code == 1),
        "{args:?}: {code} {err}"
    );
    out
}

#[test]
fn simulation_report_embeds_the_cli_json_and_draws_every_chart() {
    let out = tmp("sim.html");
    let o = out.to_str().unwrap();
    let args = [
        "simulate",
        "policies/alipay.regain",
        "--trials",
        "20000",
        "--seed",
        "7",
        "--quiet",
    ];
    let printed = run_ok(&[&args[..], &["--format", "json", "--report", o]].concat());
    let alone = run_ok(&[&args[..], &["--format", "json"]].concat());
    let html = std::fs::read_to_string(&out).unwrap();
    let data = embedded(&html);
    assert_eq!(data, serde_json::from_str::<Value>(&printed).unwrap());
    assert_eq!(data, serde_json::from_str::<Value>(&alone).unwrap());
    assert_offline(&html);
    let c = charts(&html);
    // outcomes, segments, by path, time, takeover, review
    assert_eq!(c.len(), 6, "six charts");
    for want in [
        "Outcomes for the account owner",
        "Outcomes per segment",
        "Recovered, by path",
        "Time to recover",
        "Takeover, per attacker and segment",
        "Human review load",
        "p50",
        "p95",
    ] {
        assert!(html.contains(want), "{want}");
    }
    // The figures shown are the JSON's: the recovered share as the CLI formats it.
    let rec = data["outcomes"]["recovered"]["share"].as_f64().unwrap();
    assert!(html.contains(&format!("{:.2}%", rec * 100.0)));
    // The time distribution ends at 1 and holds p50.
    let cdf = data["time_to_recover_s"]["cdf"].as_array().unwrap();
    assert_eq!(cdf.last().unwrap()[1].as_f64(), Some(1.0));
    let p50 = data["time_to_recover_s"]["p50"].as_u64().unwrap();
    assert!(cdf.iter().any(|p| p[0].as_u64() == Some(p50)));
    // Human output still goes to stdout with --report.
    let (code, human, _) = regain(&[&args[..], &["--report", o]].concat());
    assert_eq!(code, 0);
    assert!(human.contains("outcomes for the account owner"));
}

#[test]
fn exact_simulation_report_has_no_distribution_but_says_why() {
    let out = tmp("exact.html");
    let printed = run_ok(&[
        "simulate",
        "policies/alipay.regain",
        "--exact",
        "--format",
        "json",
        "--report",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        embedded(&html),
        serde_json::from_str::<Value>(&printed).unwrap()
    );
    assert_offline(&html);
    assert_eq!(charts(&html).len(), 5);
    assert!(html.contains("an exact run computes the mean"));
}

#[test]
fn analysis_report_embeds_the_cli_json_with_lockout_first_and_the_paths_view() {
    let out = tmp("analyze.html");
    let printed = run_ok(&[
        "analyze",
        "policies/alipay.regain",
        "--format",
        "json",
        "--report",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    let data = embedded(&html);
    assert_eq!(data, serde_json::from_str::<Value>(&printed).unwrap());
    assert_offline(&html);
    assert!(charts(&html).len() >= 2);
    // Lockout before deny before allow; findings with citations; the paths view.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s}"));
    assert!(at("id=\"lockout\"") < at("id=\"deny\""));
    assert!(at("id=\"deny\"") < at("id=\"allow\""));
    for c in data["lockout"]["conditions"].as_array().unwrap() {
        let cond = c["condition"]
            .as_str()
            .unwrap()
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(html.contains(&cond), "lockout condition {cond}");
    }
    for f in data["findings"].as_array().unwrap() {
        assert!(html.contains(f["code"].as_str().unwrap()));
        if let Some(c) = f["cites"].as_str() {
            assert!(html.contains(c), "citation {c}");
        }
    }
    let paths_view = &html[at("id=\"paths-view\"")..];
    assert!(paths_view.contains("<svg"));
    for name in data["paths"].as_object().unwrap().keys() {
        assert!(paths_view.contains(name.as_str()), "path {name} drawn");
    }
}

#[test]
fn model_weighted_analysis_report_has_segment_chart() {
    let out = tmp("analyze-model.html");
    let printed = run_ok(&[
        "analyze",
        "policies/alipay.regain",
        "--model",
        "policies/alipay.model.yaml",
        "--format",
        "json",
        "--report",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        embedded(&html),
        serde_json::from_str::<Value>(&printed).unwrap()
    );
    assert!(html.contains("Decisions per segment"));
    assert!(charts(&html).len() >= 3);
}

#[test]
fn diff_report_embeds_the_cli_json_and_lists_regions_old_to_new() {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/alipay.regain"),
    )
    .unwrap();
    assert!(src.contains("questions.set >= 2"));
    let new = tmp("alipay-q3.regain");
    std::fs::write(
        &new,
        src.replace("questions.set >= 2", "questions.set >= 3"),
    )
    .unwrap();
    let out = tmp("diff.html");
    let printed = run_ok(&[
        "diff",
        "policies/alipay.regain",
        new.to_str().unwrap(),
        "--format",
        "json",
        "--report",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&out).unwrap();
    let data = embedded(&html);
    assert_eq!(data, serde_json::from_str::<Value>(&printed).unwrap());
    assert_offline(&html);
    assert!(!charts(&html).is_empty());
    assert_eq!(data["equivalent"], Value::Bool(false));
    let share = data["share"].as_f64().unwrap();
    assert!(html.contains(&format!("{:.2}%", share * 100.0)));
    let regions = data["regions"].as_array().unwrap();
    assert!(!regions.is_empty());
    let table = &html[html.find("id=\"regions\"").unwrap()..];
    assert_eq!(
        table.matches("<tr><td class=\"num\">").count(),
        regions.len().min(200),
        "one row per region"
    );
    // Equivalent versions: still a report, no regions table.
    let out2 = tmp("same.html");
    let (code, _, err) = regain(&[
        "diff",
        "policies/alipay.regain",
        "policies/alipay.regain",
        "--report",
        out2.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&out2).unwrap();
    assert!(html.contains("Equivalent"));
    assert!(!html.contains("id=\"regions\""));
}

#[test]
fn report_to_an_unwritable_place_is_an_error() {
    let (code, _, err) = regain(&[
        "analyze",
        "policies/alipay.regain",
        "--report",
        "/nonexistent-dir/x.html",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot write"), "{err}");
}

#[test]
fn report_does_not_combine_with_compare_or_set() {
    let (code, _, _) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--compare",
        "policies/alipay.regain",
        "--report",
        "/tmp/x.html",
    ]);
    assert_eq!(code, 64);
}
