//! `regain test` suites and `regain fmt`.

mod common;

use common::regain;

use proptest::prelude::*;
use regain::{Engine, Policy};

#[test]
fn passing_suite_exits_0_with_exact_coverage() {
    let (code, out, _) = regain(&[
        "test",
        "tests/fixtures/suites/passing.suite.yaml",
        "--coverage",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_object().unwrap().keys().next().unwrap(), "schema");
    assert_eq!(v["schema"], "regain.test/1");
    let s = &v["suites"][0];
    assert_eq!(s["passed"], 2);
    assert_eq!(s["failed"], 0);
    // Two cases reach two distinct terminals of a 21-terminal graph; sms is never offered.
    assert_eq!(s["coverage"]["terminals"], serde_json::json!([2, 21]));
    assert_eq!(s["coverage"]["paths"], serde_json::json!([2, 3]));
    assert_eq!(s["coverage"]["denies"], serde_json::json!([1, 1]));
    assert_eq!(s["coverage"]["missed_paths"], serde_json::json!(["sms"]));
    let (code, _, err) = regain(&[
        "test",
        "tests/fixtures/suites/passing.suite.yaml",
        "--coverage-threshold",
        "50",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("below the threshold"));
    let (code, _, _) = regain(&[
        "test",
        "tests/fixtures/suites/passing.suite.yaml",
        "--coverage-threshold",
        "9",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn failing_suite_exits_1_with_a_readable_diff_and_junit() {
    let junit = std::env::temp_dir().join(format!("regain-junit-{}.xml", std::process::id()));
    let (code, out, _) = regain(&[
        "test",
        "tests/fixtures/suites/failing.suite.yaml",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL  wrong order expected  (tests/fixtures/suites/failing.suite.yaml:13)"),
        "{out}"
    );
    assert!(
        out.contains("paths: expected [support, email], got [email, support]"),
        "{out}"
    );
    assert!(out.contains("path sms (line 30): unavailable"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(
        "<testsuite name=\"tests/fixtures/suites/failing.suite.yaml\" tests=\"2\" failures=\"1\">"
    ));
    assert!(xml
        .contains("<failure message=\"paths: expected [support, email], got [email, support]\">"));
    assert!(!xml.contains("> 7"), "unescaped text in XML");
    // --filter runs only matching cases.
    let (code, out, _) = regain(&[
        "test",
        "tests/fixtures/suites/failing.suite.yaml",
        "--filter",
        "right",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 passed, 0 failed"));
}

#[test]
fn broken_suites_exit_2_with_location() {
    let (code, _, err) = regain(&["test", "tests/fixtures/suites/broken.suite.yaml"]);
    assert_eq!(code, 2);
    // The key itself (line 4, column 23), not the case's `- name:` line.
    assert!(
        err.contains("broken.suite.yaml:4:23: case `unknown fact`: unknown fact `phone.activ`"),
        "{err}"
    );
    assert!(err.contains("did you mean `phone.active`"), "{err}");
    // A file that cannot be read is exit 66 (the suite, or the policy it names).
    let (code, _, err) = regain(&["test", "no/such.suite.yaml"]);
    assert_eq!(code, 66); // an unreadable input file, as for every command
    assert!(err.contains("cannot read"), "{err}");
    let (code, _, err) = regain(&["test", "tests/fixtures/suites/missing_policy.suite.yaml"]);
    assert_eq!(code, 66);
    assert!(
        err.contains("missing_policy.suite.yaml:1:9: cannot read policy"),
        "{err}"
    );
}

#[test]
fn shipped_suites_pass_and_reach_every_terminal() {
    for p in ["alipay", "consumer", "entra_sspr"] {
        let suite = format!("policies/{p}.suite.yaml");
        let (code, out, err) =
            regain(&["test", &suite, "--coverage-threshold", "100", "--coverage"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("(100.0%)"), "{out}");
    }
}

#[test]
fn generated_suite_reaches_every_terminal() {
    // Written with --output into another directory: the policy path in the suite is
    // relative to that directory, so the suite runs from there without a copy.
    let dir = std::env::temp_dir().join(format!("regain-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let suite = dir.join("design.suite.yaml");
    let (code, out, err) = regain(&[
        "test",
        "--generate",
        "tests/fixtures/suites/design.regain",
        "--output",
        suite.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    let (code, out, err) = regain(&[
        "test",
        suite.to_str().unwrap(),
        "--coverage-threshold",
        "100",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("21 passed, 0 failed"), "{out}");
}

#[test]
fn fmt_check_and_write() {
    let dir = std::env::temp_dir().join(format!("regain-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("p.regain");
    std::fs::write(
        &f,
        "policy p # the name\nmethods{m:human}\npath x{grants r steps m wait 1h notify m}\n",
    )
    .unwrap();
    let (code, out, _) = regain(&["fmt", "--check", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("is not formatted"));
    assert!(out.contains("+  steps m"), "{out}");
    let (code, _, _) = regain(&["fmt", "--write", f.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, _, _) = regain(&["fmt", "--check", f.to_str().unwrap()]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&f).unwrap();
    insta::assert_snapshot!(text);
    // Shipped policies are in canonical form.
    let (code, out, _) = regain(&[
        "fmt",
        "--check",
        "policies/alipay.regain",
        "policies/consumer.regain",
        "policies/entra_sspr.regain",
    ]);
    assert_eq!(code, 0, "{out}");
    // A file that does not parse is an error with its location.
    std::fs::write(&f, "policy p path {").unwrap();
    let (code, _, err) = regain(&["fmt", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("p.regain:1:15"), "{err}");
}

/// Comments in random places of a generated policy.
fn sprinkle_comments(src: &str, seed: u64) -> String {
    let mut r = common::Rng::new(seed);
    let mut out = String::new();
    for (i, line) in src.lines().enumerate() {
        if r.chance(0.2) {
            out.push_str(&format!("# above {i}\n"));
        }
        out.push_str(line);
        if r.chance(0.2) && !line.trim().is_empty() {
            out.push_str(&format!(" # after {i}"));
        }
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn fmt_is_idempotent_keeps_comments_and_decisions(seed in any::<u64>(), size in 0u32..5) {
        let g = common::policy(seed, size);
        let src = sprinkle_comments(&g.source, seed);
        let once = regain::fmt::format(&src).unwrap();
        let twice = regain::fmt::format(&once).unwrap();
        prop_assert_eq!(&once, &twice);
        // Every comment survives, in order.
        let comments = |s: &str| -> Vec<String> {
            s.lines().filter_map(|l| l.find('#').map(|i| l[i..].trim().to_string())).collect()
        };
        let mut a = comments(&src);
        let mut b = comments(&once);
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
        // Same decisions.
        let p1 = Policy::parse(&src).unwrap();
        let p2 = Policy::parse(&once).unwrap();
        let e2 = Engine::new(&p2).unwrap();
        let mut r = common::Rng::new(seed);
        for _ in 0..32 {
            let json = common::profile_json(&mut r, &g.facts);
            let x = p1.profile_from_json(&json).unwrap();
            let y = e2.profile_from_json(&json).unwrap();
            prop_assert_eq!(&p1.decide(&x), e2.evaluate(&y));
        }
    }
}
