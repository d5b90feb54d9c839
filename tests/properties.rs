//! Properties: the compiled graph agrees with the reference interpreter (random policies
//! and profiles; every value-class combination of the shipped policies), graph
//! invariants hold, and no input makes the parser, checker or profile loader panic.
//!
//! `REGAIN_PROPTEST_CASES` raises the number of random cases (default 256).

mod common;

use proptest::prelude::*;
use regain::graph::classes::Classes;
use regain::{Engine, Policy};

fn cases() -> u32 {
    std::env::var("REGAIN_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn graph_equals_interpreter_on_random_policies(seed in any::<u64>(), size in 0u32..6) {
        let g = common::policy(seed, size);
        let policy = Policy::parse(&g.source).unwrap_or_else(|e| panic!("{e}\n{}", g.source));
        let engine = Engine::new(&policy).unwrap();
        let mut r = common::Rng::new(seed ^ 0xABCD);
        for _ in 0..64 {
            let json = common::profile_json(&mut r, &g.facts);
            let p = engine.profile_from_json(&json).unwrap_or_else(|e| panic!("{e}\n{json}"));
            prop_assert_eq!(engine.evaluate(&p), &policy.decide(&p), "profile {}\n{}", json, g.source);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = Policy::parse(&s);
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(prop::sample::select(tokens()), 0..60)) {
        let s = tokens.join(" ");
        if let Ok(p) = Policy::parse(&s) {
            let _ = Engine::new(&p);
        }
        let s2 = format!("policy p {}", tokens.join(" "));
        if let Ok(p) = Policy::parse(&s2) {
            let e = Engine::new(&p).unwrap();
            let _ = e.profile_from_json("{}");
        }
    }

    #[test]
    fn random_profiles_never_panic(json in "[{}\\[\\]\":,a-z.0-9 -]{0,80}") {
        let policy = Policy::parse(common::policy(7, 3).source.as_str()).unwrap();
        let engine = Engine::new(&policy).unwrap();
        let _ = engine.profile_from_json(&json);
        let _ = engine.profile_from_yaml(&json);
    }
}

/// Punctuation and sample names; the keywords come from the library's own list.
const EXTRA_TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "..",
    "|",
    "a",
    "b.c",
    "m",
    "x",
    "0",
    "5",
    "-3",
    "48h",
    "\"r\"",
    "\"",
    "#",
    "\n",
    "a: bool",
    "m: human",
    "steps m grants r",
];

fn tokens() -> Vec<&'static str> {
    regain::syntax::KEYWORDS
        .iter()
        .chain(EXTRA_TOKENS)
        .copied()
        .collect()
}

/// Every combination of value classes (plus random values inside each class) gives the
/// interpreter's decision, for every shipped policy; a policy with more than 2^22
/// combinations (the bank) is checked on 2^19 random combinations instead.
#[test]
fn shipped_policies_exhaustively_equal_interpreter() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "regain") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let policy = Policy::parse(&src).unwrap();
        let engine = Engine::new(&policy).unwrap();
        let classes = engine.graph().classes().to_vec();
        let total: u64 = classes.iter().map(|c| c.count() as u64).product();
        let exhaustive = total <= 1 << 22;
        let mut r = common::Rng::new(total);
        let n = if exhaustive { total } else { 1 << 19 };
        for k in 0..n {
            let mut k = if exhaustive { k } else { r.next() % total };
            let values: Vec<i64> = classes
                .iter()
                .map(|c| {
                    let n = c.count() as u64;
                    let class = (k % n) as usize;
                    k /= n;
                    pick_in_class(c, class, &mut r)
                })
                .collect();
            let json = values_json(&policy, &values);
            let p = engine.profile_from_json(&json).unwrap();
            assert_eq!(
                engine.evaluate(&p),
                &policy.decide(&p),
                "{}: {json}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 1000);
}

fn pick_in_class(c: &Classes, class: usize, r: &mut common::Rng) -> i64 {
    match c {
        Classes::Int { .. } => {
            let (a, b) = c.interval(class).unwrap();
            r.range(a, b)
        }
        Classes::Enum { members, .. } => *r.pick(&members[class]) as i64,
        Classes::Bool => class as i64,
    }
}

fn values_json(policy: &Policy, values: &[i64]) -> String {
    let parts: Vec<String> = policy
        .ir()
        .facts
        .iter()
        .zip(values)
        .map(|(f, v)| {
            let shown = f.show(*v);
            let lit = match f.ty {
                regain::check::ir::FactType::Enum(_) => format!("\"{shown}\""),
                _ => shown,
            };
            format!("\"{}\": {lit}", f.name)
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Reduced (no test whose edges all lead to one child), no two equal nodes, and each
/// fact tested at most once on any root-to-terminal path.
#[test]
fn graph_invariants_hold() {
    use petgraph::visit::EdgeRef;
    use regain::graph::GraphNode;
    for seed in 0..200u64 {
        let g = common::policy(seed, 4);
        let policy = Policy::parse(&g.source).unwrap();
        let engine = Engine::new(&policy).unwrap();
        let pg = engine.graph().to_petgraph();
        let mut seen = std::collections::HashSet::new();
        for n in pg.node_indices() {
            let kids: Vec<_> = pg
                .edges(n)
                .map(|e| (e.weight().class, e.target()))
                .collect();
            if let GraphNode::Test { fact } = pg[n] {
                let mut targets: Vec<_> = kids.iter().map(|k| k.1).collect();
                targets.sort();
                targets.dedup();
                assert!(targets.len() > 1, "redundant node in seed {seed}");
                let mut sorted = kids.clone();
                sorted.sort();
                assert!(seen.insert((fact, sorted)), "duplicate node in seed {seed}");
            }
        }
        // No fact twice on a path: walk every path from the root.
        fn walk(
            pg: &petgraph::graph::DiGraph<GraphNode, regain::graph::GraphEdge>,
            n: petgraph::graph::NodeIndex,
            on_path: &mut Vec<usize>,
        ) {
            if let GraphNode::Test { fact } = pg[n] {
                assert!(!on_path.contains(&fact), "fact {fact} tested twice");
                on_path.push(fact);
                let mut targets: Vec<_> = pg.edges(n).map(|e| e.target()).collect();
                targets.sort();
                targets.dedup();
                for t in targets {
                    walk(pg, t, on_path);
                }
                on_path.pop();
            }
        }
        if pg.node_count() > 0 {
            walk(&pg, petgraph::graph::NodeIndex::new(0), &mut Vec::new());
        }
    }
}
