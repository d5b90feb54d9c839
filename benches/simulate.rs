//! Simulation throughput: owner + attacker trials per second for the alipay model, at
//! 1 and 2 threads, with the fast sampler (a person's mixture component and decision in
//! one draw) and the value-by-value reference; and `--exact`. `cargo bench --bench simulate`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use regain::simulate::{exact, simulate, simulate_by_value, Model, Options};
use regain::{Engine, Policy};

fn trials(c: &mut Criterion) {
    let dir = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{dir}/policies/alipay.regain")).unwrap();
    let policy = Policy::parse(&src).unwrap();
    let engine = Engine::new(&policy).unwrap();
    let yaml = std::fs::read_to_string(format!("{dir}/policies/alipay.model.yaml")).unwrap();
    let model = Model::from_yaml(&policy, &yaml).unwrap();
    let n: u64 = 1 << 21;
    let mut g = c.benchmark_group("simulate_alipay");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n));
    for threads in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, t| {
            b.iter(|| {
                simulate(
                    &engine,
                    &model,
                    Options {
                        trials: n,
                        seed: 1,
                        threads: *t,
                        shard: None,
                    },
                    &|_| {},
                )
                .unwrap()
            })
        });
    }
    g.bench_function("by_value_threads_2", |b| {
        b.iter(|| {
            simulate_by_value(
                &engine,
                &model,
                Options {
                    trials: n,
                    seed: 1,
                    threads: 2,
                    shard: None,
                },
                &|_| {},
            )
            .unwrap()
        })
    });
    g.finish();
    c.bench_function("exact_alipay", |b| {
        b.iter(|| exact(&engine, &model).unwrap())
    });
}

criterion_group!(benches, trials);
criterion_main!(benches);
