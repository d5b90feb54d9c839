//! The decision graph: long `and`/`or` chains stay linear whatever their order in the
//! source, huge conjunctions compile without overflowing the stack, and the drawings
//! (`regain graph`: DOT, JSON, SVG; the paths and MDD views) are well-formed.

mod common;

use std::time::{Duration, Instant};

use regain::{DecisionKind, Engine, Policy};

/// A policy whose one method requires `a{order[0]} <op> a{order[1]} <op> …` over `n`
/// bool facts declared `a0 … a{n-1}`.
fn chain_policy(n: usize, order: &[usize], op: &str, negate: bool) -> String {
    let mut src = String::from("policy chain\nfacts {\n");
    for i in 0..n {
        src.push_str(&format!("  a{i}: bool\n"));
    }
    let chain: Vec<String> = order.iter().map(|i| format!("a{i}")).collect();
    let chain = chain.join(&format!(" {op} "));
    let cond = if negate {
        format!("not ({chain})")
    } else {
        chain
    };
    src.push_str(&format!(
        "}}\nmethods {{\n  m: possession requires {cond}\n}}\npath p {{ steps m grants reset_password }}\n"
    ));
    src
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut r = common::Rng::new(seed);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        v.swap(i, r.below(i as u64 + 1) as usize);
    }
    v
}

fn compile_quickly(src: &str) -> (Engine, Duration) {
    let policy = Policy::parse(src).unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let engine = Engine::new(&policy).unwrap_or_else(|e| panic!("{e}"));
    (engine, t.elapsed())
}

#[test]
fn chains_compile_to_linear_graphs_in_any_source_order() {
    let n = 2100;
    let orders = [
        ("declaration", (0..n).collect::<Vec<_>>()),
        ("reverse", (0..n).rev().collect()),
        ("shuffled", shuffled(n, 7)),
    ];
    for (name, order) in &orders {
        for (op, negate) in [("and", false), ("or", false), ("and", true), ("or", true)] {
            let (engine, took) = compile_quickly(&chain_policy(n, order, op, negate));
            let s = engine.graph().stats();
            // One test per fact, two terminals (allow / lockout).
            assert_eq!(
                (s.nodes, s.terminals, s.depth),
                (n, 2, n),
                "{name} {op} (not: {negate})"
            );
            assert!(
                took < Duration::from_secs(5),
                "{name} {op} (not: {negate}): {took:?}"
            );
        }
    }
}

#[test]
fn chains_decide_like_the_interpreter() {
    let n = 300;
    let order = shuffled(n, 11);
    for (op, negate) in [("and", false), ("or", false), ("and", true), ("or", true)] {
        let src = chain_policy(n, &order, op, negate);
        let policy = Policy::parse(&src).unwrap();
        let engine = Engine::new(&policy).unwrap();
        // All true, all false, and each single fact flipped.
        for flip in [None, Some(0), Some(17), Some(n - 1)] {
            for base in [true, false] {
                let json = format!(
                    "{{{}}}",
                    (0..n)
                        .map(|i| format!("\"a{i}\": {}", base != (flip == Some(i))))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let p = engine.profile_from_json(&json).unwrap();
                assert_eq!(engine.evaluate(&p), &policy.decide(&p), "{op} {negate}");
            }
        }
    }
}

#[test]
fn when_and_step_chains_stay_linear() {
    // The `when` holds half the chain (written backwards), two methods the rest.
    let n = 1500;
    let mut src = String::from("policy split\nfacts {\n");
    for i in 0..n {
        src.push_str(&format!("  a{i}: bool\n"));
    }
    let names = |r: std::ops::Range<usize>, rev: bool| {
        let mut v: Vec<String> = r.map(|i| format!("a{i}")).collect();
        if rev {
            v.reverse();
        }
        v.join(" and ")
    };
    src.push_str(&format!(
        "}}\nmethods {{\n  m1: possession requires {}\n  m2: knowledge requires {}\n}}\n\
         path p {{ when {} steps m1 then m2 grants reset_password }}\n",
        names(n / 2..3 * n / 4, false),
        names(3 * n / 4..n, true),
        names(0..n / 2, true),
    ));
    let (engine, took) = compile_quickly(&src);
    let s = engine.graph().stats();
    assert_eq!((s.nodes, s.terminals), (n, 2));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_20000_fact_conjunction_compiles_without_overflowing_the_stack() {
    let n = 20_000;
    let src = chain_policy(n, &(0..n).collect::<Vec<_>>(), "and", false);
    // From a thread with a small stack: compilation must not depend on the caller's.
    let nodes = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let policy = Policy::parse(&src).unwrap_or_else(|e| panic!("{e}"));
            let engine = Engine::new(&policy).unwrap_or_else(|e| panic!("{e}"));
            let all = format!(
                "{{{}}}",
                (0..n)
                    .map(|i| format!("\"a{i}\": true"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let p = engine.profile_from_json(&all).unwrap();
            assert_eq!(engine.evaluate(&p).kind(), DecisionKind::Allow);
            engine.graph().stats().nodes
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(nodes, n);
}

// ---------------------------------------------------------------------------------------
// Drawings.

fn graphviz_present() -> bool {
    std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Lay `dot` text out with Graphviz (skipped when `dot` is absent): it must be accepted
/// without errors or warnings.
fn graphviz_accepts(dot: &str, what: &str) {
    if !graphviz_present() {
        eprintln!("graphviz absent: skipping the layout of {what}");
        return;
    }
    use std::io::Write as _;
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what}: {stderr}");
    assert!(stderr.trim().is_empty(), "{what}: {stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
}

/// A minimal XML well-formedness check: tags nest and close, attributes are quoted,
/// text has no bare `<` or `&`. Returns the element names in document order.
fn xml_elements(doc: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut rest = doc.trim_start();
    assert!(rest.starts_with('<'), "document starts with a tag");
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        for (i, _) in text.match_indices('&') {
            let ent = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&ent),
                "bad entity {ent:?}"
            );
        }
        rest = &rest[lt..];
        if let Some(body) = rest.strip_prefix("<!--") {
            let end = body.find("-->").expect("comment closes");
            assert!(!body[..end].contains("--"), "-- inside a comment");
            rest = &body[end + 3..];
            continue;
        }
        let gt = rest.find('>').expect("tag closes");
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        assert!(!tag.contains('<'), "`<` inside tag {tag:?}");
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in {tag:?}"
        );
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "closing {name}");
        } else {
            let name = tag
                .trim_end_matches('/')
                .split_whitespace()
                .next()
                .unwrap()
                .to_string();
            names.push(name.clone());
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    assert!(rest.trim().is_empty(), "text after the root");
    names
}

/// Every `<text>` as (x, y, width, height), with the drawing's monospace metrics.
fn text_boxes(svg: &str) -> Vec<(f64, f64, f64, f64, String)> {
    let attr = |tag: &str, a: &str| -> f64 {
        let i = tag.find(&format!(" {a}=\"")).unwrap() + a.len() + 3;
        tag[i..i + tag[i..].find('"').unwrap()].parse().unwrap()
    };
    let mut out = Vec::new();
    for part in svg.split("<text ").skip(1) {
        let gt = part.find('>').unwrap();
        let tag = &part[..gt];
        let content = &part[gt + 1..part.find("</text>").unwrap()];
        let chars = content
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .chars()
            .count();
        let (w, h) = (
            chars as f64 * regain::graph::svg::CHAR_W,
            regain::graph::svg::FONT,
        );
        // `y` is the baseline: the glyphs sit above it.
        out.push((
            attr(tag, "x"),
            attr(tag, "y") - h,
            w,
            h,
            content.to_string(),
        ));
    }
    out
}

fn assert_no_text_overlaps(svg: &str, what: &str) {
    let mut boxes = text_boxes(svg);
    boxes.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (i, a) in boxes.iter().enumerate() {
        for b in boxes[i + 1..].iter().take_while(|b| b.1 < a.1 + a.3) {
            let apart = a.0 + a.2 <= b.0 + 0.01 || b.0 + b.2 <= a.0 + 0.01;
            assert!(apart, "{what}: text {:?} overlaps {:?}", a.4, b.4);
        }
    }
}

fn shipped() -> Vec<&'static str> {
    vec![
        "policies/alipay.regain",
        "policies/consumer.regain",
        "policies/entra_sspr.regain",
    ]
}

#[test]
fn paths_view_dot_of_alipay() {
    let (code, out, err) = common::regain(&[
        "graph",
        "policies/alipay.regain",
        "--format",
        "dot",
        "--view",
        "paths",
    ]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(out);
}

#[test]
fn paths_and_mdd_views_are_accepted_by_graphviz() {
    for p in shipped() {
        for view in ["paths", "mdd"] {
            let (code, out, err) = common::regain(&["graph", p, "--format", "dot", "--view", view]);
            assert_eq!(code, 0, "{p} {view}: {err}");
            graphviz_accepts(&out, &format!("{p} --view {view}"));
        }
    }
}

#[test]
fn svg_is_well_formed_with_the_expected_boxes_and_no_overlapping_text() {
    for p in shipped() {
        let policy = Policy::parse(&std::fs::read_to_string(p).unwrap()).unwrap();
        let ir = policy.ir();
        let (code, svg, err) = common::regain(&["graph", p, "--format", "svg", "--view", "paths"]);
        assert_eq!(code, 0, "{p}: {err}");
        let elements = xml_elements(&svg);
        assert_eq!(elements.first().map(String::as_str), Some("svg"));
        // One box per deny rule, per path, and per method of each step.
        let count = |needle: &str| svg.matches(needle).count();
        assert_eq!(count("<!-- deny "), ir.denies.len(), "{p}");
        assert_eq!(count("<!-- path "), ir.paths.len(), "{p}");
        let methods: usize = ir
            .paths
            .iter()
            .flat_map(|x| &x.steps)
            .map(|s| s.methods().len())
            .sum();
        assert_eq!(count("<!-- method "), methods, "{p}");
        let groups = ir
            .paths
            .iter()
            .flat_map(|x| &x.steps)
            .filter(|s| matches!(s, regain::check::ir::Step::Any { .. }))
            .count();
        assert_eq!(count("<!-- any "), groups, "{p}");
        for path in &ir.paths {
            assert!(svg.contains(&format!(">path {}</text>", path.name)), "{p}");
        }
        assert!(svg.contains("available "), "{p}: shares shown");
        assert_no_text_overlaps(&svg, p);

        let (code, svg, err) = common::regain(&["graph", p, "--format", "svg", "--view", "mdd"]);
        assert_eq!(code, 0, "{p}: {err}");
        xml_elements(&svg);
        let engine = Engine::new(&policy).unwrap();
        let s = engine.graph().stats();
        assert_eq!(count_nodes(&svg), s.nodes + s.terminals, "{p}");
        assert_no_text_overlaps(&svg, p);
    }
}

fn count_nodes(svg: &str) -> usize {
    svg.matches("<!-- node ").count()
}

#[test]
fn large_graphs_draw_the_paths_view_by_default() {
    let dir = std::env::temp_dir().join(format!("regain-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.regain");
    std::fs::write(&big, common::shared::generated(100, 16, 7)).unwrap();
    let big = big.to_str().unwrap();
    let (code, out, err) = common::regain(&["graph", big, "--format", "dot"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("path0 [") && !out.contains("shape=ellipse"),
        "paths view"
    );
    graphviz_accepts(&out, "generated 100 paths");
    let (code, out, _) = common::regain(&["graph", big, "--format", "svg"]);
    assert_eq!(code, 0);
    assert_eq!(out.matches("<!-- path ").count(), 100);
    xml_elements(&out);
    assert_no_text_overlaps(&out, "generated 100 paths");
    // Small graphs: the decision diagram, unless asked otherwise.
    let (_, out, _) = common::regain(&["graph", "policies/alipay.regain", "--format", "dot"]);
    assert!(out.contains("shape=ellipse"), "mdd view");
    let (_, out, _) = common::regain(&["graph", big, "--format", "dot", "--view", "mdd"]);
    assert!(out.contains("shape=ellipse"), "mdd view on request");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_output_names_its_schema_first_and_view_is_only_for_drawings() {
    let (code, out, _) = common::regain(&["graph", "policies/alipay.regain", "--format", "json"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("{\"schema\":\"regain.graph/1\","),
        "{}",
        &out[..60]
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["stats"]["nodes"], 225);
    let (code, _, err) = common::regain(&[
        "graph",
        "policies/alipay.regain",
        "--format",
        "json",
        "--view",
        "paths",
    ]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("--view"), "{err}");
}

/// Many tests of the same int facts under one `and`/`or` (combined class by class in the
/// compiler, and cut in linear time): the graph decides like the interpreter.
#[test]
fn many_tests_of_one_int_fact_decide_like_the_interpreter() {
    let mut r = common::Rng::new(99);
    for round in 0..40 {
        let op = if round % 2 == 0 { "or" } else { "and" };
        let terms: Vec<String> = (0..2 + r.below(30))
            .map(|_| {
                let f = *r.pick(&["x", "y"]);
                let k = r.range(-2, 40);
                match r.below(7) {
                    0 => format!("{f} < {k}"),
                    1 => format!("{f} <= {k}"),
                    2 => format!("{f} > {k}"),
                    3 => format!("{f} >= {k}"),
                    4 => format!("{f} == {k}"),
                    5 => format!("{f} != {k}"),
                    _ => format!("{f} in [{k}, {}, {}]", k + 2, k + 5),
                }
            })
            .collect();
        let src = format!(
            "policy ints\nfacts {{\n  x: int 0..40\n  y: int -5..50\n  b: bool\n}}\n\
             methods {{\n  m: possession requires b {op} ({})\n}}\n\
             path p {{ steps m grants reset_password }}\n",
            terms.join(&format!(" {op} "))
        );
        let policy = Policy::parse(&src).unwrap_or_else(|e| panic!("{e}\n{src}"));
        let engine = Engine::new(&policy).unwrap();
        for x in 0..=40 {
            for y in [-5, -1, 0, 1, 2, 3, 5, 7, 10, 20, 38, 39, 40, 41, 42, 45, 50] {
                for b in [false, true] {
                    let json = format!("{{\"x\": {x}, \"y\": {y}, \"b\": {b}}}");
                    let p = engine.profile_from_json(&json).unwrap();
                    assert_eq!(engine.evaluate(&p), &policy.decide(&p), "{json}\n{src}");
                }
            }
        }
    }
}

#[test]
fn twenty_thousand_tests_of_one_int_fact_compile_quickly_in_bounded_memory() {
    let n = 20_000;
    let terms: Vec<String> = (0..n).map(|i| format!("x == {}", i * 7)).collect();
    let src = format!(
        "policy ints\nfacts {{\n  x: int 0..1000000\n}}\nmethods {{\n  m: possession requires {}\n}}\n\
         path p {{ steps m grants reset_password }}\n",
        terms.join(" or ")
    );
    let (engine, took) = compile_quickly(&src);
    let s = engine.graph().stats();
    assert_eq!((s.nodes, s.edges, s.terminals), (1, 2 * n, 2));
    assert!(took < Duration::from_secs(5), "{took:?}");
}
