//! Prints a generated policy of the benchmarks' shape, to try the CLI on large inputs:
//! `cargo run --release --example gen_policy -- 1000 64 > /tmp/big.regain`
//! (paths, facts, optional seed).

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (paths, facts) = match args.as_slice() {
        [p, f, ..] => (*p as usize, *f as usize),
        _ => {
            eprintln!("usage: gen_policy PATHS FACTS [SEED]");
            std::process::exit(64);
        }
    };
    let seed = args.get(2).copied().unwrap_or(7);
    print!("{}", common::generated(paths, facts.max(2), seed));
}
