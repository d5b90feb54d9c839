//! DESIGN.md "Meaning", rule by rule, through both the interpreter and the graph.

use regain::{DecisionKind, Engine, Policy};

/// `decides!(name, policy, profile, kind [paths] [denied_by])`: the decision of both the
/// reference interpreter and the compiled graph.
macro_rules! decides {
    ($name:ident, $policy:expr, $profile:expr, $kind:ident [$($path:expr),*] [$($reason:expr),*]) => {
        #[test]
        fn $name() {
            let policy = Policy::parse($policy).unwrap_or_else(|e| panic!("{e}"));
            let engine = Engine::new(&policy).unwrap();
            let profile = engine.profile_from_json($profile).unwrap_or_else(|e| panic!("{e}"));
            let by_graph = engine.evaluate(&profile);
            let by_interp = policy.decide(&profile);
            assert_eq!(by_graph, &by_interp);
            assert_eq!(by_graph.kind(), DecisionKind::$kind);
            let want_paths: Vec<&str> = vec![$($path),*];
            assert_eq!(by_graph.path_names(), want_paths);
            let want_reasons: Vec<&str> = vec![$($reason),*];
            assert_eq!(by_graph.denied_by(), want_reasons.as_slice());
        }
    };
}

const P: &str = r#"
policy p
facts {
  a: bool
  b: bool
  n: int 0..10
  risk: low | medium | high
  frozen: bool = false
}
methods {
  ma: possession requires a
  mb: possession requires b
  mn: knowledge requires n >= 3
  free: human
}
deny "frozen" when frozen
deny "high risk and no a" when risk == high and not a
deny "frozen again" when frozen and n > 5
path first { when risk != high steps ma grants reset }
path second { steps any 2 of (ma, mb, mn) then free grants reset wait 1d notify ma }
path third { when n in [1, 2, 3] steps mb grants reset }
"#;

// 1. Deny: all matching reasons, in declaration order, no paths.
decides!(deny_lists_every_matching_reason, P,
    r#"{"a": false, "b": true, "n": 7, "risk": "high", "frozen": true}"#,
    Deny [] ["frozen", "high risk and no a", "frozen again"]);
decides!(deny_one_reason, P,
    r#"{"a": false, "b": true, "n": 7, "risk": "high"}"#,
    Deny [] ["high risk and no a"]);
// 2. Availability: when + every step; any N of needs N usable methods.
decides!(allow_in_declaration_order, P,
    r#"{"a": true, "b": true, "n": 3, "risk": "low"}"#,
    Allow ["first", "second", "third"] []);
decides!(when_false_removes_path, P,
    r#"{"a": true, "b": false, "n": 0, "risk": "high"}"#,
    Lockout [] []);
decides!(any_n_counts_usable_methods, P,
    r#"{"a": false, "b": true, "n": 4, "risk": "medium"}"#,
    Allow ["second"] []);
// 3. No path: lockout.
decides!(lockout_when_nothing_available, P,
    r#"{"a": false, "b": false, "n": 0, "risk": "low"}"#,
    Lockout [] []);

#[test]
fn usable_methods_listed_in_listed_order_not_just_n() {
    let policy = Policy::parse(P).unwrap();
    let engine = Engine::new(&policy).unwrap();
    let p = engine
        .builder()
        .bool("a", true)
        .bool("b", true)
        .int("n", 5)
        .variant("risk", "medium")
        .build()
        .unwrap();
    let d = engine.evaluate(&p);
    let second = &d.paths()[1];
    assert_eq!(second.name(), "second");
    assert_eq!(second.steps(), [vec!["ma", "mb", "mn"], vec!["free"]]);
    assert_eq!(second.wait_s(), 86_400);
    assert_eq!(second.notify(), ["ma"]);
    assert_eq!(second.grants(), "reset");
    assert_eq!(d.paths()[0].wait_s(), 0);
    assert!(d.paths()[0].notify().is_empty());
}

#[test]
fn defaults_apply_only_when_omitted() {
    let policy = Policy::parse(P).unwrap();
    let engine = Engine::new(&policy).unwrap();
    let with = engine
        .profile_from_json(r#"{"a": true, "b": true, "n": 1, "risk": "low", "frozen": true}"#)
        .unwrap();
    assert_eq!(engine.evaluate(&with).kind(), DecisionKind::Deny);
    let err = engine
        .profile_from_json(r#"{"a": true, "b": true, "n": 1, "risk": "low", "frozen": null}"#)
        .unwrap_err();
    assert_eq!(err.fact.as_deref(), Some("frozen"));
}

#[test]
fn profile_from_another_engine_is_classified_and_foreign_shapes_fail_closed() {
    let policy = Policy::parse(P).unwrap();
    let e1 = Engine::new(&policy).unwrap();
    let e2 = Engine::new(&policy).unwrap();
    let p = e1
        .profile_from_json(r#"{"a": true, "b": true, "n": 3, "risk": "low"}"#)
        .unwrap();
    assert_eq!(e2.evaluate(&p), e1.evaluate(&p));
    let other = Policy::parse(
        "policy o facts { x: bool } methods { m: human } path q { steps m grants r when x }",
    )
    .unwrap();
    let eo = Engine::new(&other).unwrap();
    let po = eo.profile_from_json(r#"{"x": true}"#).unwrap();
    let d = e1.evaluate(&po);
    assert_eq!(d.kind(), DecisionKind::Deny);
    assert!(d.denied_by()[0].contains("failing closed"));
}

#[test]
fn engine_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<Policy>();
}

#[test]
fn explain_cites_the_path_line_then_the_deciding_line() {
    let src = "policy p\n\
               facts { a: bool  b: bool }\n\
               methods { m: human requires b }\n\
               # a comment\n\
               path x\n\
               \x20 \"a title on its own line\"\n\
               {\n\
               \x20 when a\n\
               \x20 steps m\n\
               \x20 grants r\n\
               }\n\
               path y \"t\" {\n\
               \x20 steps m\n\
               \x20 grants r\n\
               }\n";
    let policy = Policy::parse(src).unwrap_or_else(|e| panic!("{e}"));
    let explain = |json: &str| {
        let p = policy.profile_from_json(json).unwrap();
        regain::explain::explain(&policy, p.values())
    };
    let e = explain(r#"{"a": false, "b": false}"#);
    let lines: Vec<(usize, usize)> = e.paths.iter().map(|p| (p.line, p.detail_line)).collect();
    assert_eq!(lines, [(5, 8), (12, 13)]);
    let shown = e.to_string();
    assert!(
        shown.contains("path x (line 5): unavailable — `when` (line 8) fails: `a` is false"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "path y (line 12): unavailable — step 1 (line 13): `m` requires `b` (line 3)"
        ),
        "{shown}"
    );
    let e = explain(r#"{"a": true, "b": true}"#);
    let lines: Vec<(usize, usize)> = e.paths.iter().map(|p| (p.line, p.detail_line)).collect();
    assert_eq!(lines, [(5, 5), (12, 12)]);
}

/// A `requires` and a `when` that are conjunctions of 20,000 bool facts go through parse,
/// check, `fmt` and `explain` on a thread with a small stack (256 KiB): conjunctions are
/// flat lists, and every recursive walk is bounded by the nesting limit, not by the size
/// of the policy.
#[test]
fn a_conjunction_of_20000_facts_needs_no_deep_stack() {
    const N: usize = 20_000;
    let names: Vec<String> = (0..N).map(|i| format!("f{i}")).collect();
    let conj = names.join(" and ");
    let mut src = String::from("policy big\nfacts {\n");
    for n in &names {
        src.push_str(&format!("  {n}: bool\n"));
    }
    src.push_str(&format!("}}\nmethods {{\n  m: human requires {conj}\n}}\n"));
    src.push_str("deny \"d\" when not f19999\n");
    // And the deepest nesting allowed: 64 levels of `not (`.
    let deep = format!("{}f0{}", "not (".repeat(32), ")".repeat(32));
    src.push_str(&format!("deny \"deep\" when {deep}\n"));
    src.push_str(&format!(
        "path x {{\n  when {conj}\n  steps m\n  grants r\n}}\n"
    ));
    let run = move || {
        let policy = Policy::parse(&src).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(policy.ir().facts.len(), N);
        // fmt keeps the conjunction on one line (idempotence is tested with the formatter).
        let formatted = regain::fmt::format(&src).unwrap();
        assert!(formatted.contains(&format!("  when {conj}\n")));
        // Explain: all true → available; f19999 false → the culprit is the last fact.
        let mut profile = String::from("{");
        for (i, n) in names.iter().enumerate() {
            let v = i + 1 < N;
            profile.push_str(&format!("{}\"{n}\": {v}", if i > 0 { ", " } else { "" }));
        }
        profile.push('}');
        let p = policy.profile_from_json(&profile).unwrap();
        let e = regain::explain::explain(&policy, p.values());
        assert!(e.denies[0].fires);
        assert!(
            e.denies[1].fires,
            "an even number of `not`s over a true fact"
        );
        assert!(!e.paths[0].available);
        assert!(
            e.paths[0].because.contains("`f19999` is false"),
            "{}",
            e.paths[0].because
        );
        assert_eq!(
            policy.decide(&p).kind(),
            DecisionKind::Deny,
            "the interpreter agrees"
        );
    };
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}
