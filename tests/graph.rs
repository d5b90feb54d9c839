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
