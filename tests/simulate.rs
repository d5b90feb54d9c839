//! The simulator: determinism across thread counts and shards, Monte-Carlo within the
//! intervals of `--exact`, hand-computed small cases, model validation errors.

mod common;

use common::regain;

use regain::simulate::{self, exact::exact, Model, Options};
use regain::{Engine, Policy};
use serde_json::Value;

fn load(name: &str) -> (Engine, Model) {
    let dir = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{dir}/policies/{name}.regain")).unwrap();
    let policy = Policy::parse(&src).unwrap();
    let engine = Engine::new(&policy).unwrap();
    let yaml = std::fs::read_to_string(format!("{dir}/policies/{name}.model.yaml")).unwrap();
    let model = Model::from_yaml(&policy, &yaml).unwrap();
    (engine, model)
}

#[test]
fn same_seed_same_bytes_at_any_thread_count() {
    let args = |t: &'static str| {
        vec![
            "simulate",
            "policies/alipay.regain",
            "--trials",
            "300000",
            "--seed",
            "7",
            "--threads",
            t,
            "--format",
            "json",
            "--quiet",
        ]
    };
    let (c1, one, _) = regain(&args("1"));
    let (c2, two, _) = regain(&args("2"));
    assert_eq!((c1, c2), (0, 0));
    assert_eq!(one, two);
    let v: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["trials"], 300000);
    assert_eq!(v["seed"], 7);
    assert!(v.get("threads").is_none());
}

#[test]
fn shards_merge_into_the_single_run() {
    let dir = std::env::temp_dir().join(format!("regain-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, single, _) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--trials",
        "250000",
        "--seed",
        "3",
        "--format",
        "json",
        "--quiet",
    ]);
    let mut files = Vec::new();
    for k in 1..=3 {
        let (code, out, err) = regain(&[
            "simulate",
            "policies/alipay.regain",
            "--trials",
            "250000",
            "--seed",
            "3",
            "--format",
            "json",
            "--quiet",
            "--shard",
            &format!("{k}/3"),
        ]);
        assert_eq!(code, 0, "{err}");
        let f = dir.join(format!("s{k}.json"));
        std::fs::write(&f, out).unwrap();
        files.push(f.display().to_string());
    }
    let mut args = vec!["merge", "--format", "json"];
    // Any order.
    args.extend([files[2].as_str(), files[0].as_str(), files[1].as_str()]);
    let (code, merged, err) = regain(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        merged.starts_with(r#"{"schema":"regain.merge/1","#),
        "{merged}"
    );
    assert!(
        single.starts_with(r#"{"schema":"regain.simulate/1","#),
        "{single}"
    );
    assert_eq!(
        merged.replace("regain.merge/1", "regain.simulate/1"),
        single
    );
    // A missing shard is an error.
    let (code, _, err) = regain(&["merge", files[0].as_str(), files[1].as_str()]);
    assert_eq!(code, 1);
    assert!(err.contains("shard 3/3 is missing"), "{err}");
}

fn within(mc: &Value, ex: &Value, path: &[&str]) {
    let get = |v: &Value| {
        let mut x = v;
        for p in path {
            x = &x[*p];
        }
        x.clone()
    };
    let (m, e) = (get(mc), get(ex));
    let share = e["share"].as_f64().unwrap();
    let lo = m["ci95"][0].as_f64().unwrap();
    let hi = m["ci95"][1].as_f64().unwrap();
    // 95% intervals: allow a little slack so that one unlucky figure in many does not fail.
    let slack = (hi - lo) * 0.5 + 1e-12;
    assert!(
        share >= lo - slack && share <= hi + slack,
        "{path:?}: exact {share} vs [{lo}, {hi}]"
    );
}

#[test]
fn monte_carlo_falls_inside_the_exact_figures() {
    for name in ["alipay", "consumer", "entra_sspr"] {
        let (engine, model) = load(name);
        let ex = serde_json::to_value(exact(&engine, &model).unwrap()).unwrap();
        let mc = serde_json::to_value(
            simulate::simulate(
                &engine,
                &model,
                Options {
                    trials: 400_000,
                    seed: 11,
                    threads: 0,
                    shard: None,
                },
                &|_| {},
            )
            .unwrap(),
        )
        .unwrap();
        let by_value = serde_json::to_value(
            simulate::simulate_by_value(
                &engine,
                &model,
                Options {
                    trials: 400_000,
                    seed: 11,
                    threads: 0,
                    shard: None,
                },
                &|_| {},
            )
            .unwrap(),
        )
        .unwrap();
        for k in ["recovered", "failed", "lockout", "denied"] {
            within(&mc, &ex, &["outcomes", k]);
            within(&by_value, &ex, &["outcomes", k]);
        }
        within(&by_value, &ex, &["human_review_load"]);
        for a in model.attackers.iter() {
            within(&by_value, &ex, &["attackers", &a.name, "takeover"]);
        }
        within(&mc, &ex, &["human_review_load"]);
        for a in model.attackers.iter() {
            within(&mc, &ex, &["attackers", &a.name, "takeover"]);
        }
        let (m, e) = (
            mc["time_to_recover_s"]["mean"].as_f64().unwrap(),
            ex["time_to_recover_s"]["mean"].as_f64().unwrap(),
        );
        assert!((m - e).abs() / e < 0.02, "{name}: mean time {m} vs {e}");
        for s in &model.segments {
            for k in ["recovered", "failed", "lockout", "denied"] {
                within(&mc, &ex, &["segments", &s.name, "outcomes", k]);
            }
            within(&mc, &ex, &["segments", &s.name, "human_review_load"]);
            for a in model.attackers.iter() {
                within(
                    &mc,
                    &ex,
                    &["segments", &s.name, "attackers", &a.name, "takeover"],
                );
            }
        }
    }
}

#[test]
fn hand_computed_single_path() {
    // One fact (P(a) = 0.8), one path: `any 1 of (x, y)` then `k`, wait 1h, notify x.
    let policy = Policy::parse(
        "policy t facts { a: bool } methods { x: possession requires a  y: knowledge  k: human }\n\
         path p { steps any 1 of (x, y) then k grants r wait 1h notify x }",
    )
    .unwrap();
    let engine = Engine::new(&policy).unwrap();
    let model = Model::from_yaml(
        &policy,
        "population: {facts: {a: 0.8}}\npeople: {x: {success: 0.5, time: 1m}, y: {success: 0.5, time: 2m}, k: {success: 0.9, time: 10m}}\nattackers: {eve: {methods: {y: 0.5, k: 1.0}, stopped_when_notified: 0.5}}\n",
    )
    .unwrap();
    let ex = serde_json::to_value(exact(&engine, &model).unwrap()).unwrap();
    // a: x then y: step 1 succeeds 1 - 0.25 = 0.75; path 0.75 * 0.9. not a: y only: 0.5 * 0.9.
    let rec = 0.8 * 0.75 * 0.9 + 0.2 * 0.5 * 0.9;
    let got = ex["outcomes"]["recovered"]["share"].as_f64().unwrap();
    assert!((got - rec).abs() < 1e-12, "{got} vs {rec}");
    // Everyone attempts the human step only after step 1: human load = P(step 1 succeeds).
    let human = 0.8 * 0.75 + 0.2 * 0.5;
    assert!((ex["human_review_load"]["share"].as_f64().unwrap() - human).abs() < 1e-12);
    // Time, given a: x ok (0.5): 1m + 10m; x fails, y ok (0.25): 1m + 2m + 10m; plus the 1h wait.
    // Given not a: y ok: 2m + 10m.
    let tm = 0.8 * 0.9 * (0.5 * 660.0 + 0.25 * 780.0) + 0.2 * 0.9 * 0.5 * 720.0;
    let mean = tm / rec + 3600.0;
    assert!((ex["time_to_recover_s"]["mean"].as_f64().unwrap() - mean).abs() < 1e-6);
    // The attacker completes with 0.5 (y) * 1.0 (k); when a holds, x is usable so the
    // owner is notified during the wait and stops half the attacks.
    let take = 0.8 * 0.5 * 0.5 + 0.2 * 0.5;
    assert!(
        (ex["attackers"]["eve"]["takeover"]["share"]
            .as_f64()
            .unwrap()
            - take)
            .abs()
            < 1e-12
    );
    let mc = serde_json::to_value(
        simulate::simulate(
            &engine,
            &model,
            Options {
                trials: 200_000,
                seed: 5,
                threads: 1,
                shard: None,
            },
            &|_| {},
        )
        .unwrap(),
    )
    .unwrap();
    within(&mc, &ex, &["outcomes", "recovered"]);
    within(&mc, &ex, &["attackers", "eve", "takeover"]);
}

#[test]
fn model_errors_name_their_location() {
    let policy = Policy::parse(
        "policy t facts { a: bool  n: int 0..5  r: low | high  d: bool = false } methods { x: possession requires a  k: human }\n\
         path p { steps x then k grants r notify x }",
    )
    .unwrap();
    let ok = "population: {facts: {a: 0.5, n: {uniform: [0, 5]}, r: {weights: {low: 1, high: 1}}}}\npeople: {x: {success: 0.5}, k: {success: 1}}\n";
    Model::from_yaml(&policy, ok).unwrap();
    let cases = [
        (
            ok.replace("a: 0.5", "a: 1.5"),
            "population.facts.a",
            "outside [0, 1]",
        ),
        (
            ok.replace("a: 0.5, ", ""),
            "population.facts",
            "`a` needs a distribution",
        ),
        (
            ok.replace("a: 0.5", "aa: 0.5"),
            "population.facts.aa",
            "no fact `aa`",
        ),
        (
            ok.replace("[0, 5]", "[0, 9]"),
            "population.facts.n.uniform",
            "outside",
        ),
        (
            ok.replace("low: 1", "lo: 1"),
            "population.facts.r.weights.lo",
            "not a variant",
        ),
        (
            ok.replace("high: 1", "high: 0"),
            "population.facts.r.weights.high",
            "must be positive",
        ),
        (
            ok.replace("{success: 0.5}", "{success: 0.5, time: 3x}"),
            "people.x.time",
            "not a duration",
        ),
        (ok.replace(", k: {success: 1}", ""), "people", "method `k`"),
        (
            ok.replace("a: 0.5", "a: {when: n > 1, then: 0.5, else: false}"),
            "population.facts.a.when",
            "not sampled before",
        ),
        (
            ok.replace("a: 0.5", "a: {when: a, then: 0.5}"),
            "population.facts.a",
            "needs `else`",
        ),
        (
            ok.replace("a: 0.5", "a: {when: \"nn > 1\", then: 0.5, else: false}"),
            "population.facts.a.when",
            "unknown fact",
        ),
        (
            format!("{ok}attackers: {{eve: {{methods: {{zz: 0.5}}}}}}\n"),
            "attackers.eve.methods.zz",
            "no method",
        ),
        (
            format!("{ok}attackers: {{eve: {{methods: {{x: 2}}}}}}\n"),
            "attackers.eve.methods.x",
            "outside [0, 1]",
        ),
        (
            ok.replace("population:", "populaton:"),
            "",
            "unknown key `populaton`",
        ),
        (
            "population: [1, 2]".to_string(),
            "population",
            "expected the population",
        ),
        ("{{{".to_string(), "", "invalid YAML"),
    ];
    for (yaml, loc, msg) in &cases {
        let e = Model::from_yaml(&policy, yaml).unwrap_err();
        assert_eq!(e.location, *loc, "{yaml}: {e}");
        assert!(e.message.contains(msg), "{yaml}: {e}");
    }
    // A segment may override only listed facts.
    let seg = ok.replace(
        "r: {weights: {low: 1, high: 1}}}}",
        "r: {weights: {low: 1, high: 1}}}, segments: [{name: s, weight: 1, facts: {d: true}}]}",
    );
    let e = Model::from_yaml(&policy, &seg).unwrap_err();
    assert_eq!(e.location, "population.segments[0].facts.d", "{e}");
}

#[test]
fn cli_reports_and_errors() {
    let (code, out, _) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--trials",
        "70000",
        "--seed",
        "2",
        "--quiet",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
    let (code, _, err) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--model",
        "no/such.yaml",
    ]);
    assert_eq!(code, 66); // an unreadable input file, as for every command
    assert!(err.contains("cannot read `no/such.yaml`"), "{err}");
    let (code, _, _) = regain(&["simulate", "policies/alipay.regain", "--shard", "3/2"]);
    assert_eq!(code, 64);
    let (code, out, _) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--exact",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exact"], true);
    assert_eq!(v["segments"].as_object().unwrap().len(), 3);
}

#[test]
fn widest_int_range_samples_without_overflow_and_enum_variants_named_like_yaml_words() {
    let policy = Policy::parse(
        "policy t facts { n: int -9223372036854775808..9223372036854775807  v: null | yes }\n\
         methods { m: possession requires n > 0 and v == null }\npath p { steps m grants r }",
    )
    .unwrap();
    let engine = Engine::new(&policy).unwrap();
    let model = Model::from_yaml(
        &policy,
        "population: {facts: {n: {uniform: [-9223372036854775808, 9223372036854775807]}, v: {weights: {\"null\": 1, \"yes\": 1}}}}\npeople: {m: {success: 1}}\n",
    )
    .unwrap();
    let mc = serde_json::to_value(
        simulate::simulate(
            &engine,
            &model,
            Options {
                trials: 100_000,
                seed: 1,
                threads: 1,
                shard: None,
            },
            &|_| {},
        )
        .unwrap(),
    )
    .unwrap();
    let ex = serde_json::to_value(exact(&engine, &model).unwrap()).unwrap();
    // n > 0 for half the range (minus one value), v == null for half.
    let want = 0.25 * (1.0 - 1.0 / 2f64.powi(63));
    assert!((ex["outcomes"]["recovered"]["share"].as_f64().unwrap() - want).abs() < 1e-12);
    within(&mc, &ex, &["outcomes", "recovered"]);
    // A generated suite quotes variants, so `null` stays a string.
    let suite = regain::suite::generate(&engine, "t.regain");
    assert!(suite.contains("v: \"null\""), "{suite}");
}

#[test]
fn more_than_64_attackers_is_an_error() {
    let policy =
        Policy::parse("policy t methods { m: human } path p { steps m grants r }").unwrap();
    let attackers: String = (0..65)
        .map(|i| format!("  a{i}: {{methods: {{m: 0.5}}}}\n"))
        .collect();
    let yaml = format!(
        "population: {{facts: {{}}}}\npeople: {{m: {{success: 1}}}}\nattackers:\n{attackers}"
    );
    let e = Model::from_yaml(&policy, &yaml).unwrap_err();
    assert_eq!(e.location, "attackers");
    assert!(e.message.contains("at most 64"), "{e}");
}

#[test]
fn threads_beyond_eight_per_core_is_a_usage_error() {
    let (code, _, err) = regain(&["simulate", "policies/alipay.regain", "--threads", "100000"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("at most"), "{err}");
}

fn shard_files(tag: &str, trials: &str, seed: &str, n: u64) -> (std::path::PathBuf, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("regain-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for k in 1..=n {
        let (code, out, err) = regain(&[
            "simulate",
            "policies/alipay.regain",
            "--trials",
            trials,
            "--seed",
            seed,
            "--format",
            "json",
            "--quiet",
            "--shard",
            &format!("{k}/{n}"),
        ]);
        assert_eq!(code, 0, "{err}");
        let f = dir.join(format!("s{seed}-{k}.json"));
        std::fs::write(&f, out).unwrap();
        files.push(f.display().to_string());
    }
    (dir, files)
}

#[test]
fn merge_rejects_mixed_duplicate_damaged_and_absurd_shards() {
    let (dir, a) = shard_files("merge-bad", "140000", "4", 2);
    let (_, b) = shard_files("merge-bad", "140000", "5", 2);
    // Self-describing: nothing but the files.
    let (code, out, err) = regain(&["merge", &a[0], &a[1], "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["trials"], 140000);
    let v1: Value = serde_json::from_str(&std::fs::read_to_string(&a[0]).unwrap()).unwrap();
    let sh = &v1["shard"];
    assert_eq!(sh["revision"].as_str().unwrap().len(), 64);
    assert_eq!(sh["model_hash"].as_str().unwrap().len(), 64);
    assert_eq!(sh["policy"], "alipay_password_reset");
    // Different runs.
    let (code, _, err) = regain(&["merge", &a[0], &b[1]]);
    assert_eq!(code, 1);
    assert!(err.contains(&b[1]) && err.contains("seed differs"), "{err}");
    // Twice.
    let (code, _, err) = regain(&["merge", &a[0], &a[0], &a[1]]);
    assert_eq!(code, 1);
    assert!(err.contains("given twice"), "{err}");
    // Damaged.
    let text = std::fs::read_to_string(&a[1]).unwrap();
    let cut = dir.join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let cut_s = cut.display().to_string();
    let (code, _, err) = regain(&["merge", &a[0], &cut_s]);
    assert_eq!(code, 1);
    assert!(err.contains(&cut_s) && err.contains("not a shard"), "{err}");
    // Absurd numbers: no panic, a reason.
    for (from, to) in [
        (r#""of":2"#, r#""of":18446744073709551615"#),
        (r#""index":2"#, r#""index":0"#),
        (r#""n":"#, r#""n":1"#),
    ] {
        let bad = dir.join("bad.json");
        std::fs::write(&bad, text.replacen(from, to, 1)).unwrap();
        let bad_s = bad.display().to_string();
        let (code, _, err) = regain(&["merge", &a[0], &bad_s]);
        assert_eq!(code, 1, "{from}: {err}");
        assert!(err.contains(&bad_s), "{err}");
    }
    // A report that is not a shard.
    let (_, single, _) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--exact",
        "--format",
        "json",
    ]);
    assert!(single.starts_with(r#"{"schema":"regain.simulate/1""#));
    let e = simulate::parse_shard(&single).unwrap_err();
    assert!(e.to_string().contains("not a shard"), "{e}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    #[test]
    fn parse_shard_never_panics(s in ".{0,200}", cut in 0usize..4000, byte in 0u8..128) {
        let _ = simulate::parse_shard(&s);
        let base = SHARD.get_or_init(|| {
            let (_, files) = shard_files("fuzz", "70000", "9", 1);
            std::fs::read_to_string(&files[0]).unwrap()
        });
        let mut b = base.clone().into_bytes();
        let i = cut % b.len();
        b[i] = byte;
        if let Ok(t) = String::from_utf8(b) {
            let _ = simulate::parse_shard(&t);
        }
        let _ = simulate::parse_shard(&base[..cut.min(base.len())]);
    }
}

static SHARD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[test]
fn stop_chance_by_wait_is_interpolated_in_log_time() {
    use regain::simulate::model::Stop;
    let t = Stop::Table(vec![(3600, 0.2), (86_400, 0.6), (7 * 86_400, 0.9)]);
    assert_eq!(t.at(0), 0.0, "no wait: nothing can be stopped");
    assert_eq!(t.at(1800), 0.2, "constant below the first length");
    assert_eq!(t.at(30 * 86_400), 0.9, "constant beyond the last length");
    assert!((t.at(86_400) - 0.6).abs() < 1e-12);
    let twelve = 0.2 + 0.4 * (12f64.ln() / 24f64.ln());
    assert!((t.at(12 * 3600) - twelve).abs() < 1e-12);
    // In a simulation: one path, `wait 12h`, notify a usable method.
    let policy = Policy::parse(
        "policy t facts { a: bool } methods { x: possession requires a  k: knowledge }\n\
         path p { steps k grants r wait 12h notify x }",
    )
    .unwrap();
    let engine = Engine::new(&policy).unwrap();
    let model = Model::from_yaml(
        &policy,
        "population: {facts: {a: 0.5}}\npeople: {k: {success: 1}}\nattackers: {eve: {methods: {k: 1.0}, stopped_when_notified: {1h: 0.2, 1d: 0.6, 7d: 0.9}}}\n",
    )
    .unwrap();
    let ex = serde_json::to_value(exact(&engine, &model).unwrap()).unwrap();
    // Notified only when `a` holds (x usable).
    let want = 0.5 * (1.0 - twelve) + 0.5;
    let got = ex["attackers"]["eve"]["takeover"]["share"]
        .as_f64()
        .unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    let mc = serde_json::to_value(
        simulate::simulate(
            &engine,
            &model,
            Options {
                trials: 200_000,
                seed: 3,
                threads: 1,
                shard: None,
            },
            &|_| {},
        )
        .unwrap(),
    )
    .unwrap();
    within(&mc, &ex, &["attackers", "eve", "takeover"]);
    // Bad tables name their location.
    for (bad, msg) in [
        ("{1h: 1.5}", "outside [0, 1]"),
        ("{1x: 0.5}", "not a duration"),
        ("{}", "empty table"),
        ("{0s: 0.5}", "longer than 0s"),
    ] {
        let yaml = format!(
            "population: {{facts: {{a: 0.5}}}}\npeople: {{k: {{success: 1}}}}\nattackers: {{eve: {{methods: {{k: 1.0}}, stopped_when_notified: {bad}}}}}\n"
        );
        let e = Model::from_yaml(&policy, &yaml).unwrap_err();
        assert!(
            e.location
                .starts_with("attackers.eve.stopped_when_notified"),
            "{e}"
        );
        assert!(e.message.contains(msg), "{bad}: {e}");
    }
}

#[test]
fn owners_give_up_on_waits_longer_than_they_sit_out() {
    // p1 waits 4d; p2 has no wait. `hurry` gives up after 3d (top level), `patient`
    // after 7d (its own).
    let policy = Policy::parse(
        "policy t methods { k: knowledge  m: possession }\n\
         path p1 { steps k grants r wait 4d }\npath p2 { steps m grants r }",
    )
    .unwrap();
    let engine = Engine::new(&policy).unwrap();
    let model = Model::from_yaml(
        &policy,
        "population: {facts: {}, segments: [{name: hurry, weight: 1}, {name: patient, weight: 1, owner: {gives_up_after: 7d}}]}\n\
         owner: {gives_up_after: 3d}\npeople: {k: {success: 0.5, time: 1m}, m: {success: 0.8, time: 2m}}\n",
    )
    .unwrap();
    let ex = serde_json::to_value(exact(&engine, &model).unwrap()).unwrap();
    let get = |v: &Value, p: &[&str]| {
        let mut x = v;
        for k in p {
            x = &x[*k];
        }
        x.as_f64().unwrap()
    };
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    // hurry: p1 completed or not, it is abandoned; p2 succeeds with 0.8.
    close(
        get(
            &ex,
            &["segments", "hurry", "outcomes", "recovered", "share"],
        ),
        0.8,
    );
    close(get(&ex, &["segments", "hurry", "by_path", "p1"]), 0.0);
    // patient: p1 0.5, else p2 0.5 * 0.8.
    close(
        get(
            &ex,
            &["segments", "patient", "outcomes", "recovered", "share"],
        ),
        0.9,
    );
    close(get(&ex, &["outcomes", "recovered", "share"]), 0.85);
    close(get(&ex, &["by_path", "p1"]), 0.25);
    close(get(&ex, &["by_path", "p2"]), 0.6);
    // Time: hurry via p2 = 1m + 2m; patient via p1 = 1m + 4d, via p2 = 3m.
    let mass = 0.5 * 0.8 * 180.0 + 0.5 * (0.5 * (60.0 + 345_600.0) + 0.4 * 180.0);
    close(get(&ex, &["time_to_recover_s", "mean"]), mass / 0.85);
    let mc = serde_json::to_value(
        simulate::simulate(
            &engine,
            &model,
            Options {
                trials: 200_000,
                seed: 8,
                threads: 0,
                shard: None,
            },
            &|_| {},
        )
        .unwrap(),
    )
    .unwrap();
    for seg in ["hurry", "patient"] {
        within(&mc, &ex, &["segments", seg, "outcomes", "recovered"]);
        within(&mc, &ex, &["segments", seg, "outcomes", "failed"]);
    }
    let m = get(&mc, &["time_to_recover_s", "mean"]);
    assert!((m - mass / 0.85).abs() / (mass / 0.85) < 0.02, "{m}");
    let e = Model::from_yaml(&policy, "population: {facts: {}}\nowner: {gives_up_after: soon}\npeople: {k: {success: 1}, m: {success: 1}}\n").unwrap_err();
    assert_eq!(e.location, "owner.gives_up_after", "{e}");
}

fn no_wait_variant() -> String {
    let dir = std::env::temp_dir().join(format!("regain-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = std::fs::read_to_string("policies/alipay.regain").unwrap();
    assert!(src.contains("  wait 24h\n"));
    let f = dir.join("alipay_nowait.regain");
    std::fs::write(&f, src.replace("  wait 24h\n", "")).unwrap();
    f.display().to_string()
}

fn all_shares(v: &Value, out: &mut Vec<(String, Value)>, at: String) {
    if let Some(o) = v.as_object() {
        if o.contains_key("share") {
            out.push((at, v.clone()));
            return;
        }
        for (k, x) in o {
            all_shares(x, out, format!("{at}.{k}"));
        }
    }
}

#[test]
fn comparing_a_policy_with_itself_changes_nothing() {
    for exact_flag in [false, true] {
        let mut args = vec![
            "simulate",
            "policies/alipay.regain",
            "--compare",
            "policies/alipay.regain",
            "--trials",
            "70000",
            "--format",
            "json",
            "--quiet",
        ];
        if exact_flag {
            args.push("--exact");
        }
        let (code, out, err) = regain(&args);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with(r#"{"schema":"regain.simulate/1","old":"#),
            "{out}"
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["old"], v["new"]);
        let mut shares = Vec::new();
        all_shares(&v["difference"], &mut shares, String::new());
        // outcomes 4 + human 1 + paths 5 + attackers 3, whole and per segment (3).
        assert_eq!(shares.len(), 13 * 4, "{shares:?}");
        for (at, s) in shares {
            assert_eq!(s["share"], 0.0, "{at}");
            assert_eq!(s["ci95"], serde_json::json!([0.0, 0.0]), "{at}");
        }
    }
}

#[test]
fn removing_a_wait_raises_a_notified_attackers_takeover() {
    let new = no_wait_variant();
    let (code, out, err) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--compare",
        &new,
        "--trials",
        "200000",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let d = &v["difference"]["attackers"]["sim_swapper"]["takeover"];
    assert!(d["share"].as_f64().unwrap() > 0.0, "{d}");
    assert!(d["ci95"][0].as_f64().unwrap() > 0.0, "{d}");
    // The owner's figures do not move: the same people, the same paths.
    assert_eq!(v["difference"]["outcomes"]["recovered"]["share"], 0.0);
    // Exact: the difference is exactly new − old, inside the paired interval.
    let (code, out, err) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--compare",
        &new,
        "--exact",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let e: Value = serde_json::from_str(&out).unwrap();
    let take = |r: &Value| {
        r["attackers"]["sim_swapper"]["takeover"]["share"]
            .as_f64()
            .unwrap()
    };
    let de = e["difference"]["attackers"]["sim_swapper"]["takeover"]["share"]
        .as_f64()
        .unwrap();
    assert!((de - (take(&e["new"]) - take(&e["old"]))).abs() < 1e-15);
    assert!(de > 0.0);
    let [lo, hi] = [
        d["ci95"][0].as_f64().unwrap(),
        d["ci95"][1].as_f64().unwrap(),
    ];
    assert!(
        lo - (hi - lo) * 0.5 <= de && de <= hi + (hi - lo) * 0.5,
        "{de} vs [{lo}, {hi}]"
    );
    let (code, out, _) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--compare",
        &new,
        "--exact",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out.replace(&new, "NEW"));
}

#[test]
fn sweeping_the_wait_trades_takeover_for_owner_failure() {
    let (code, out, err) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--exact",
        "--set",
        "carrier.wait=1h,24h,72h,7d",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(r#"{"schema":"regain.simulate/1","rows":"#),
        "{out}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[2]["set"]["carrier.wait"], "72h");
    let fig = |r: &Value, p: &[&str]| {
        let mut x = &r["report"];
        for k in p {
            x = &x[*k];
        }
        x.as_f64().unwrap()
    };
    let take: Vec<f64> = rows
        .iter()
        .map(|r| fig(r, &["attackers", "sim_swapper", "takeover", "share"]))
        .collect();
    let failed: Vec<f64> = rows
        .iter()
        .map(|r| fig(r, &["outcomes", "failed", "share"]))
        .collect();
    let time: Vec<f64> = rows
        .iter()
        .map(|r| fig(r, &["time_to_recover_s", "mean"]))
        .collect();
    assert!(take.windows(2).all(|w| w[1] < w[0]), "{take:?}");
    // Up to 72h everyone waits (longer, so later); beyond the owners' 5 days they give up.
    assert!(time[..3].windows(2).all(|w| w[1] > w[0]), "{time:?}");
    assert!(failed[..3].windows(2).all(|w| w[1] == w[0]), "{failed:?}");
    assert!(failed[3] > failed[2], "{failed:?}");
    for r in rows {
        assert!(r["pareto"].is_boolean());
    }
    let (code, out, _) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--exact",
        "--set",
        "carrier.wait=1h,24h,72h,7d",
        "--set",
        "support.step1.count=1,2",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn monte_carlo_sweeps_use_the_same_people_for_every_row() {
    let (code, out, err) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--trials",
        "70000",
        "--seed",
        "4",
        "--set",
        "carrier.wait=1h,7d",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let (a, b) = (&rows[0]["report"], &rows[1]["report"]);
    assert_eq!(
        (a["trials"].as_u64(), a["seed"].as_u64()),
        (Some(70000), Some(4))
    );
    // A wait changes no decision: the same people give the same lockouts.
    assert_eq!(a["outcomes"]["lockout"], b["outcomes"]["lockout"]);
    assert_ne!(a["outcomes"]["failed"], b["outcomes"]["failed"]);
    // A count changes decisions, not people: the segments hold the same trials.
    let (code, out, err) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--trials",
        "70000",
        "--set",
        "support.step1.count=1,3",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    let (a, b) = (&rows[0]["report"], &rows[1]["report"]);
    assert_ne!(a["outcomes"]["lockout"], b["outcomes"]["lockout"]);
    for seg in ["general", "elderly", "travelling"] {
        assert_eq!(
            a["segments"][seg]["trials"], b["segments"][seg]["trials"],
            "{seg}"
        );
    }
}

#[test]
fn bad_settings_are_usage_errors_that_help() {
    for (set, msg) in [
        ("carrer.wait=1h", "did you mean `carrier`"),
        ("carrier.step3.count=1", "has 2 step(s)"),
        ("carrier.step1.count=1", "not `any N of"),
        ("carrier.step2.count=0,4", "from 1 to 3"),
        ("carrier.wait=2w", "not a duration"),
        ("carrier.wiat=1h", "did you mean `wait`"),
        ("carrier", "expected `NAME.wait"),
        ("carrier.wait=1h,1h", "listed twice"),
    ] {
        let (code, _, err) = regain(&[
            "simulate",
            "policies/alipay.regain",
            "--exact",
            "--set",
            set,
        ]);
        assert_eq!(code, 64, "{set}: {err}");
        assert!(err.contains(msg), "{set}: {err}");
    }
    let (code, _, err) = regain(&[
        "simulate",
        "policies/alipay.regain",
        "--set",
        "carrier.wait=1h",
        "--set",
        "carrier.wait=2h",
    ]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("set twice"), "{err}");
}

/// Like [`within`], with `k` half-widths of slack (many figures from one seed).
fn within_k(mc: &Value, ex: &Value, path: &[&str], k: f64, what: &str) {
    let get = |v: &Value| {
        let mut x = v;
        for p in path {
            x = &x[*p];
        }
        x.clone()
    };
    let (m, e) = (get(mc), get(ex));
    let share = e["share"].as_f64().unwrap();
    let lo = m["ci95"][0].as_f64().unwrap();
    let hi = m["ci95"][1].as_f64().unwrap();
    let slack = (hi - lo) * 0.5 * k + 1e-9;
    assert!(
        share >= lo - slack && share <= hi + slack,
        "{what} {path:?}: exact {share} vs [{lo}, {hi}]"
    );
}

/// A random model for a policy: conditional facts, two segments with overrides, people
/// for every method, two attackers with stop tables, an owner who gives up.
fn random_model(ir: &regain::Ir, seed: u64, conditionals: usize) -> String {
    use regain::check::ir::FactType;
    let mut r = common::Rng::new(seed);
    let dist = |r: &mut common::Rng, ty: &FactType| -> String {
        match ty {
            FactType::Bool => format!("{:.3}", r.below(1000) as f64 / 1000.0),
            FactType::Int { lo, hi } => {
                if r.chance(0.5) {
                    let a = r.range(*lo, *hi);
                    let b = r.range(a, *hi);
                    format!("{{uniform: [{a}, {b}]}}")
                } else {
                    let ws: Vec<String> = (0..3)
                        .map(|_| r.range(*lo, *hi))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .map(|v| format!("{v}: {}", 1 + r.below(9)))
                        .collect();
                    format!("{{weights: {{{}}}}}", ws.join(", "))
                }
            }
            FactType::Enum(vs) => {
                let mut ws: Vec<String> = Vec::new();
                for v in vs {
                    if r.chance(0.7) {
                        ws.push(format!("\"{v}\": {}", 1 + r.below(9)));
                    }
                }
                if ws.is_empty() {
                    format!("\"{}\"", vs[0])
                } else {
                    format!("{{weights: {{{}}}}}", ws.join(", "))
                }
            }
        }
    };
    let mut facts = String::new();
    let mut left = conditionals;
    for (i, f) in ir.facts.iter().enumerate() {
        let d = if i > 0 && left > 0 && r.chance(0.5) {
            left -= 1;
            let j = r.below(i as u64) as usize;
            let g = &ir.facts[j];
            let when = match &g.ty {
                FactType::Bool => g.name.clone(),
                FactType::Int { lo, hi } => format!("{} >= {}", g.name, r.range(*lo, *hi)),
                FactType::Enum(vs) => {
                    format!("{} == {}", g.name, vs[r.below(vs.len() as u64) as usize])
                }
            };
            format!(
                "{{when: \"{when}\", then: {}, else: {}}}",
                dist(&mut r, &f.ty),
                dist(&mut r, &f.ty)
            )
        } else {
            dist(&mut r, &f.ty)
        };
        facts.push_str(&format!("    {}: {d}\n", f.name));
    }
    let mut segs = String::new();
    if !ir.facts.is_empty() {
        for s in 0..2 {
            let f = &ir.facts[r.below(ir.facts.len() as u64) as usize];
            segs.push_str(&format!(
                "    - {{name: s{s}, weight: {}, facts: {{{}: {}}}{}}}\n",
                1 + r.below(5),
                f.name,
                dist(&mut r, &f.ty),
                if s == 1 {
                    ", owner: {gives_up_after: 1d}"
                } else {
                    ""
                }
            ));
        }
    }
    let people: Vec<String> = ir
        .methods
        .iter()
        .map(|m| {
            format!(
                "  {}: {{success: {:.2}, time: {}m}}\n",
                m.name,
                r.below(100) as f64 / 100.0,
                r.below(60)
            )
        })
        .collect();
    let attackers: Vec<String> = (0..2)
        .map(|a| {
            let mut ms: Vec<String> = Vec::new();
            for m in &ir.methods {
                if r.chance(0.6) {
                    ms.push(format!("{}: {:.2}", m.name, r.below(100) as f64 / 100.0));
                }
            }
            format!(
                "  a{a}: {{methods: {{{}}}, stopped_when_notified: {{1h: {:.2}, 2d: {:.2}}}}}\n",
                ms.join(", "),
                r.below(50) as f64 / 100.0,
                0.5 + r.below(50) as f64 / 100.0
            )
        })
        .collect();
    let segments = if segs.is_empty() {
        String::new()
    } else {
        format!("  segments:\n{segs}")
    };
    format!(
        "population:\n  facts:\n{facts}{segments}owner: {{gives_up_after: {}h}}\npeople:\n{}attackers:\n{}",
        24 + r.below(72),
        people.concat(),
        attackers.concat()
    )
}

#[test]
fn exact_agrees_with_monte_carlo_on_generated_policies_and_models() {
    let mut checked = 0;
    for seed in 0..40u64 {
        let g = common::policy(seed, 4);
        let Ok(policy) = Policy::parse(&g.source) else {
            continue;
        };
        let engine = Engine::new(&policy).unwrap();
        let yaml = random_model(policy.ir(), seed, usize::MAX);
        let model = Model::from_yaml(&policy, &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let ex = serde_json::to_value(exact(&engine, &model).unwrap()).unwrap();
        let mc = serde_json::to_value(
            simulate::simulate(
                &engine,
                &model,
                Options {
                    trials: 100_000,
                    seed,
                    threads: 0,
                    shard: None,
                },
                &|_| {},
            )
            .unwrap(),
        )
        .unwrap();
        let by_value = serde_json::to_value(
            simulate::simulate_by_value(
                &engine,
                &model,
                Options {
                    trials: 100_000,
                    seed,
                    threads: 0,
                    shard: None,
                },
                &|_| {},
            )
            .unwrap(),
        )
        .unwrap();
        let what = format!("seed {seed}\n{}\n{yaml}", g.source);
        let mut scopes: Vec<Vec<&str>> = vec![vec![]];
        for s in &model.segments {
            scopes.push(vec!["segments", s.name.as_str()]);
        }
        for scope in &scopes {
            let at = |rest: &[&'static str]| {
                let mut p = scope.clone();
                p.extend_from_slice(rest);
                p
            };
            // The fast sampler and the value-by-value reference both agree with exact.
            for mc in [&mc, &by_value] {
                for k in ["recovered", "failed", "lockout", "denied"] {
                    within_k(mc, &ex, &at(&["outcomes", k]), 1.4, &what);
                }
                within_k(mc, &ex, &at(&["human_review_load"]), 1.4, &what);
                for a in ["a0", "a1"] {
                    let mut p = at(&["attackers"]);
                    p.extend([a, "takeover"]);
                    within_k(mc, &ex, &p, 1.4, &what);
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} generated policies checked");
}

#[test]
fn exact_hand_computed_with_a_conditional_fact_and_segments() {
    // `n` depends on `a`; segment s2 overrides `a`. y is usable iff n >= 5; x iff a.
    let policy = Policy::parse(
        "policy t facts { a: bool  n: int 0..9 }\n\
         methods { x: possession requires a  y: knowledge requires n >= 5 }\n\
         path p { steps any 1 of (x, y) grants r }",
    )
    .unwrap();
    let engine = Engine::new(&policy).unwrap();
    let model = Model::from_yaml(
        &policy,
        "population:\n  facts:\n    a: 0.5\n    n: {when: a, then: 7, else: {uniform: [0, 9]}}\n  segments:\n    - {name: s1, weight: 3}\n    - {name: s2, weight: 1, facts: {a: 0.9}}\n\
         people: {x: {success: 1}, y: {success: 1}}\nattackers: {eve: {methods: {y: 0.5}}}\n",
    )
    .unwrap();
    // P(some method usable) = P(a) + P(not a) * P(n >= 5 | not a) = pa + (1 - pa) / 2.
    let s1 = 0.5 + 0.5 * 0.5;
    let s2 = 0.9 + 0.1 * 0.5;
    let ex = serde_json::to_value(exact(&engine, &model).unwrap()).unwrap();
    let f = |p: &[&str]| {
        let mut x = &ex;
        for k in p {
            x = &x[*k];
        }
        x.as_f64().unwrap()
    };
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    close(f(&["segments", "s1", "outcomes", "recovered", "share"]), s1);
    close(f(&["segments", "s2", "outcomes", "recovered", "share"]), s2);
    close(
        f(&["outcomes", "recovered", "share"]),
        0.75 * s1 + 0.25 * s2,
    );
    close(
        f(&["outcomes", "lockout", "share"]),
        1.0 - (0.75 * s1 + 0.25 * s2),
    );
    // eve passes y when it is usable (n >= 5, i.e. a, or half of not a), half the time.
    close(
        f(&["attackers", "eve", "takeover", "share"]),
        0.5 * (0.75 * s1 + 0.25 * s2),
    );
    // The mixture: segments × cells of `a` (the only fact a condition tests).
    let mix = simulate::mixture(&model, &engine).unwrap();
    assert_eq!(mix.components.len(), 4);
    close(mix.components.iter().map(|c| c.weight).sum(), 1.0);
    let n = policy.ir().fact_id("n").unwrap().index();
    let a = policy.ir().fact_id("a").unwrap().index();
    for c in &mix.components {
        // Given a: n = 7 (class n >= 5); given not a: uniform, half each side.
        let want = if c.class_probs[a][1] == 1.0 {
            vec![0.0, 1.0]
        } else {
            vec![0.5, 0.5]
        };
        assert_eq!(c.class_probs[n], want, "{c:?}");
        let t: f64 = simulate::Mixture::terminal_probs(&engine, c).iter().sum();
        close(t, 1.0);
    }
}

#[test]
fn exact_does_not_enumerate_the_product_of_classes() {
    // 100 paths over 64 facts: far more class combinations than could be enumerated.
    let src = common::shared::generated(100, 64, 3);
    let policy = Policy::parse(&src).unwrap();
    let engine = Engine::new(&policy).unwrap();
    let ir = policy.ir();
    let combos: f64 = engine
        .graph()
        .classes()
        .iter()
        .map(|c| c.count() as f64)
        .product();
    assert!(combos > 1e15, "{combos}");
    let yaml = random_model(ir, 3, 4);
    let model = Model::from_yaml(&policy, &yaml).unwrap();
    let t = std::time::Instant::now();
    let ex = serde_json::to_value(exact(&engine, &model).unwrap()).unwrap();
    assert!(t.elapsed().as_secs() < 60, "{:?}", t.elapsed());
    let total: f64 = ["recovered", "failed", "lockout", "denied"]
        .iter()
        .map(|k| ex["outcomes"][k]["share"].as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    let mc = serde_json::to_value(
        simulate::simulate(
            &engine,
            &model,
            Options {
                trials: 100_000,
                seed: 3,
                threads: 0,
                shard: None,
            },
            &|_| {},
        )
        .unwrap(),
    )
    .unwrap();
    for k in ["recovered", "failed", "lockout", "denied"] {
        within_k(&mc, &ex, &["outcomes", k], 1.4, "bank-sized");
    }
}

#[test]
fn reports_round_trip_through_their_serde_type() {
    let (engine, model) = load("alipay");
    for r in [
        exact(&engine, &model).unwrap(),
        simulate::simulate(
            &engine,
            &model,
            Options {
                trials: 70_000,
                seed: 1,
                threads: 1,
                shard: Some((1, 2)),
            },
            &|_| {},
        )
        .unwrap(),
    ] {
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            text.starts_with(r#"{"schema":"regain.simulate/1","policy":"#),
            "{text}"
        );
        let back: simulate::Report = serde_json::from_str(&text).unwrap();
        // serde_json parses floats to within one ulp; compare the structure and names.
        assert_eq!(back.segments.len(), r.segments.len());
        assert_eq!(back.shard, r.shard);
        assert_eq!(back.figures.trials, r.figures.trials);
        let names = |x: &simulate::Report| -> Vec<String> {
            x.figures
                .by_path
                .iter()
                .map(|(n, _)| n.to_string())
                .collect()
        };
        assert_eq!(names(&back), names(&r));
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15;
        assert!(close(
            back.figures.outcomes.recovered.share,
            r.figures.outcomes.recovered.share
        ));
    }
}

#[test]
fn mixture_terminal_shares_give_the_exact_deny_and_lockout() {
    for name in ["alipay", "consumer", "entra_sspr"] {
        let (engine, model) = load(name);
        let ex = exact(&engine, &model).unwrap();
        let mix = simulate::mixture(&model, &engine).unwrap();
        let decisions = engine.graph().decisions();
        let check = |shares: Vec<f64>, fig: &simulate::report::Figures| {
            let sum = |k: regain::DecisionKind| -> f64 {
                decisions
                    .iter()
                    .zip(&shares)
                    .filter(|(d, _)| d.kind() == k)
                    .map(|(_, s)| s)
                    .sum()
            };
            assert!(
                (sum(regain::DecisionKind::Lockout) - fig.outcomes.lockout.share).abs() < 1e-12
            );
            assert!((sum(regain::DecisionKind::Deny) - fig.outcomes.denied.share).abs() < 1e-12);
            assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        };
        check(mix.terminal_shares(&engine, None), &ex.figures);
        for (i, (_, fig)) in ex.segments.iter().enumerate() {
            check(mix.terminal_shares(&engine, Some(i)), fig);
        }
    }
}
