//! Prints the compile time and graph size of generated policies (10/100/1,000 paths
//! over 16/64 facts), the figures recorded in BENCHMARKS.md.
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
}
