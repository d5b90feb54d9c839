//! Evaluation and compilation benchmarks (no peers; see `peers.rs` for cedar/regorus).
//!
//! `cargo bench --bench eval`

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use regain::{Engine, Policy};
use serde::de::DeserializeSeed;
use std::hint::black_box;

fn alipay() -> (Policy, Engine) {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/alipay.regain"
    ))
    .unwrap();
    let policy = Policy::parse(&src).unwrap();
    let engine = Engine::new(&policy).unwrap();
    (policy, engine)
}

fn evaluate(c: &mut Criterion) {
    let (policy, engine) = alipay();
    let profiles: Vec<_> = common::alipay_profiles()
        .iter()
        .map(|j| engine.profile_from_json(j).unwrap())
        .collect();
    let mut g = c.benchmark_group("alipay_decision");
    g.throughput(Throughput::Elements(profiles.len() as u64));
    g.bench_function("graph", |b| {
        b.iter(|| {
            for p in &profiles {
                black_box(engine.evaluate(black_box(p)));
            }
        })
    });
    g.bench_function("interpreter", |b| {
        b.iter(|| {
            for p in &profiles {
                black_box(policy.decide(black_box(p)));
            }
        })
    });
    g.bench_function("profile_from_json", |b| {
        let jsons = common::alipay_profiles();
        b.iter(|| {
            for j in &jsons {
                black_box(engine.profile_from_json(black_box(j)).unwrap());
            }
        })
    });
    // The same bytes into a serde_json::Value: the bar for profile_from_json (within
    // 1.5x; it validates against the policy while it deserializes).
    g.bench_function("serde_json_value", |b| {
        let jsons = common::alipay_profiles();
        b.iter(|| {
            for j in &jsons {
                black_box(serde_json::from_str::<serde_json::Value>(black_box(j)).unwrap());
            }
        })
    });
    // The 64 profiles as one JSON list, read in one pass (the server's batches).
    g.bench_function("dense_list", |b| {
        let list = format!("[{}]", common::alipay_profiles().join(","));
        b.iter(|| {
            let mut de = serde_json::Deserializer::from_str(black_box(&list));
            black_box(engine.dense_list_seed(10_000).deserialize(&mut de).unwrap());
        })
    });
    // The same list through the byte scanner (what `regain serve` tries first).
    g.bench_function("dense_list_scan", |b| {
        let list = format!("[{}]", common::alipay_profiles().join(","));
        b.iter(|| {
            black_box(
                engine
                    .dense_list_from_json(black_box(list.as_bytes()), 10_000)
                    .unwrap(),
            );
        })
    });
    g.finish();
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    for facts in [16usize, 64] {
        for paths in [10usize, 100, 1000] {
            let src = common::generated(paths, facts, 7);
            let policy = Policy::parse(&src).unwrap();
            g.bench_with_input(
                BenchmarkId::new(format!("{facts}_facts"), paths),
                &policy,
                |b, p| b.iter_batched(|| (), |_| Engine::new(p).unwrap(), BatchSize::PerIteration),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, evaluate, compile);
criterion_main!(benches);
