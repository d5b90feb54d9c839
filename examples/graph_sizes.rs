//! Prints the compile time and graph size of generated policies (10/100/1,000 paths
//! over 16/64 facts), the figures recorded in BENCHMARKS.md, then of long `and`/`or`
//! chains (2,100 bool facts) written in declaration, reverse and shuffled order.
//!
//! `cargo run --release --example graph_sizes`

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    println!("| shape | facts | paths | compile ms | nodes | edges | depth | terminals |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut cases = Vec::new();
    for facts in [16usize, 64] {
        for paths in [10usize, 100, 1000] {
            cases.push((
                "segmented",
                facts,
                paths,
                common::generated(paths, facts, 7),
            ));
        }
    }
    for paths in [10usize, 20, 40, 100] {
        cases.push(("unsegmented", 16, paths, common::unsegmented(paths, 16, 7)));
    }
    {
        for (shape, facts, paths, src) in cases {
            let policy = match regain::Policy::parse(&src) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            };
            let t = std::time::Instant::now();
            match regain::Engine::new(&policy) {
                Ok(engine) => {
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    let s = engine.graph().stats();
                    println!(
                        "| {shape} | {facts} | {paths} | {ms:.1} | {} | {} | {} | {} |",
                        s.nodes, s.edges, s.depth, s.terminals
                    );
                }
                Err(e) => println!(
                    "| {shape} | {facts} | {paths} | {:.1} | {e} | | | |",
                    t.elapsed().as_secs_f64() * 1e3
                ),
            }
        }
    }
    chains();
}

/// `a0 and a1 and … and a{n-1}` (or `or`) in the given order, as one method's `requires`.
fn chain(n: usize, order: &[usize], op: &str) -> String {
    let mut src = String::from("policy chain\nfacts {\n");
    for i in 0..n {
        src.push_str(&format!("  a{i}: bool\n"));
    }
    let terms: Vec<String> = order.iter().map(|i| format!("a{i}")).collect();
    src.push_str(&format!(
        "}}\nmethods {{\n  m: possession requires {}\n}}\npath p {{ steps m grants reset_password }}\n",
        terms.join(&format!(" {op} "))
    ));
    src
}

fn chains() {
    let n = 2100;
    let mut shuffled: Vec<usize> = (0..n).collect();
    let mut r = common::Rng::new(7);
    for i in (1..n).rev() {
        shuffled.swap(i, r.below(i as u64 + 1) as usize);
    }
    let orders = [
        ("declaration", (0..n).collect::<Vec<_>>()),
        ("reverse", (0..n).rev().collect()),
        ("shuffled", shuffled),
    ];
    println!();
    println!("| chain of {n} facts | order | compile ms | nodes | depth |");
    println!("|---|---|---:|---:|---:|");
    for op in ["and", "or"] {
        for (name, order) in &orders {
            let policy = match regain::Policy::parse(&chain(n, order, op)) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            };
            let t = std::time::Instant::now();
            match regain::Engine::new(&policy) {
                Ok(engine) => {
                    let s = engine.graph().stats();
                    println!(
                        "| {op} | {name} | {:.1} | {} | {} |",
                        t.elapsed().as_secs_f64() * 1e3,
                        s.nodes,
                        s.depth
                    );
                }
                Err(e) => println!(
                    "| {op} | {name} | {:.1} | {e} | |",
                    t.elapsed().as_secs_f64() * 1e3
                ),
            }
        }
    }
}
