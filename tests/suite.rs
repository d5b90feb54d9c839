//! `regain test`: locations from the YAML parser, typed coverage, suite errors, the
//! new expectations, `--coverage --top`, `--generate --output`, exit codes, JSON schema.

mod common;

use common::regain;
use proptest::prelude::*;
use regain::suite::{self, Suite};
use regain::{Engine, Policy};
use serde_json::Value;

const FIX: &str = "tests/fixtures/suites";

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn first_key(v: &Value) -> &str {
    v.as_object().unwrap().keys().next().unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("regain-suite-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

// Issue 9: a case whose first key is `profile:` (or `expect:`) is reported at its own
// line, for failures and for errors.
#[test]
fn cases_are_located_whatever_their_first_key() {
    let (code, out, _) = regain(&["test", &format!("{FIX}/expectations_failing.suite.yaml")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL  profile first, wrong first path  (tests/fixtures/suites/expectations_failing.suite.yaml:13)"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  expect first, wrong support details  (tests/fixtures/suites/expectations_failing.suite.yaml:17)"),
        "{out}"
    );
    let (code, _, err) = regain(&["test", &format!("{FIX}/errors.suite.yaml")]);
    assert_eq!(code, 2);
    // `- profile: {phone: {activ: true}}` is line 15; the key `activ` is column 23.
    assert!(
        err.contains("errors.suite.yaml:15:23: case `twice`: unknown fact `phone.activ`"),
        "{err}"
    );
}

// Issue 9: coverage counts deny rules by index, not by reason: of two rules giving
// "r", the second can never hold and is reported as never fired, with its line.
#[test]
fn coverage_counts_deny_rules_by_index() {
    let (code, out, _) = regain(&[
        "test",
        &format!("{FIX}/same_reason.suite.yaml"),
        "--coverage",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let v = json(&out);
    let c = &v["suites"][0]["coverage"];
    assert_eq!(c["denies"], serde_json::json!([1, 2]));
    assert_eq!(
        c["missed_denies"],
        serde_json::json!([{"rule": 1, "reason": "r", "line": 14}])
    );
    let (_, out, _) = regain(&[
        "test",
        &format!("{FIX}/same_reason.suite.yaml"),
        "--coverage",
    ]);
    assert!(out.contains("deny rules 1/2"), "{out}");
    assert!(
        out.contains("deny rule never fired: \"r\" (line 14)"),
        "{out}"
    );
}

#[test]
fn every_suite_error_is_reported_at_its_node() {
    let (code, out, err) = regain(&["test", &format!("{FIX}/errors.suite.yaml")]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "nothing runs: {out}");
    for want in [
        // expect: {}
        "errors.suite.yaml:12:13: case `expects nothing` expects nothing",
        // duplicate names, at the second one, naming the first
        "errors.suite.yaml:16:11: duplicate case name `twice` (first at line 13)",
        // an unknown deny reason, with did-you-mean
        "errors.suite.yaml:19:26: no deny rule has the reason \"acount is frozen\"; did you mean `account is frozen`?",
        "the policy has no path `emial`; did you mean `email`?",
        "unknown key `decison` in `expect`",
        "the policy has no method `sms`",
        "`agent_review` is in step 2",
        "in the order the path lists them",
        "path `email` has 2 step(s); `steps` lists 1",
        "`wait_s` is the wait in seconds",
    ] {
        assert!(err.contains(want), "missing `{want}` in:\n{err}");
    }
    insta::assert_snapshot!(err);
}

#[test]
fn expectations_on_first_path_and_path_details() {
    let (code, out, err) = regain(&["test", &format!("{FIX}/expectations.suite.yaml")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 passed, 0 failed"), "{out}");
    let (code, out, _) = regain(&["test", &format!("{FIX}/expectations_failing.suite.yaml")]);
    assert_eq!(code, 1);
    for want in [
        "first: expected sms, got email",
        "path `support`: wait_s expected 3600, got 172800",
        "path `support`: grants expected full_access, got reset_password",
        "path `support`: notify expected [email_link], got [sms_code, email_link]",
        "path `support` step 1: usable methods expected [id_document, bank_card], got [id_document, questions, face_match]",
        "path: `sms` is not offered (offered: [])",
        "denied_by: expected [], got [account is frozen]",
    ] {
        assert!(out.contains(want), "missing `{want}` in:\n{out}");
    }
    insta::assert_snapshot!(out);
    let (_, out, _) = regain(&[
        "test",
        &format!("{FIX}/expectations_failing.suite.yaml"),
        "--format",
        "json",
    ]);
    let v = json(&out);
    let keys: Vec<&str> = v["suites"][0]["cases"][2]["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["expectation"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["path.wait_s", "path.grants", "path.notify", "path.steps"]
    );
}

#[test]
fn filter_matching_nothing_is_an_error() {
    let s = format!("{FIX}/filter.suite.yaml");
    let (code, _, err) = regain(&["test", &s, "--filter", "no such case"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--filter `no such case` matches none of the 1 case names"),
        "{err}"
    );
    // Matching in one suite of two is fine.
    let (code, out, _) = regain(&[
        "test",
        &s,
        &format!("{FIX}/passing.suite.yaml"),
        "--filter",
        "frozen",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("filter.suite.yaml: 0 passed, 0 failed"),
        "{out}"
    );
    assert!(
        out.contains("passing.suite.yaml: 1 passed, 0 failed"),
        "{out}"
    );
    let (code, out, _) = regain(&["test", &s, "--filter", "nothing", "--format", "json"]);
    assert_eq!(code, 2);
    let v = json(&out);
    assert_eq!(first_key(&v), "schema");
    assert!(v["error"].as_str().unwrap().contains("matches none"));
}

#[test]
fn exit_codes() {
    let pass = format!("{FIX}/passing.suite.yaml");
    assert_eq!(regain(&["test", &pass]).0, 0);
    assert_eq!(regain(&["test", &format!("{FIX}/failing.suite.yaml")]).0, 1);
    assert_eq!(regain(&["test", &format!("{FIX}/broken.suite.yaml")]).0, 2);
    // A broken suite among good ones: nothing runs.
    let (code, out, _) = regain(&["test", &pass, &format!("{FIX}/broken.suite.yaml")]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    // Unreadable files: 66.
    assert_eq!(regain(&["test", "no/such.suite.yaml"]).0, 66);
    assert_eq!(
        regain(&["test", &format!("{FIX}/missing_policy.suite.yaml")]).0,
        66
    );
    let (code, _, err) = regain(&["test", "--generate", "no/such.regain"]);
    assert_eq!(code, 66);
    assert!(err.contains("cannot read `no/such.regain`"), "{err}");
    // Usage errors: 64.
    assert_eq!(regain(&["test", &pass, "--top", "3"]).0, 64);
    assert_eq!(regain(&["test", &pass, "--output", "x.yaml"]).0, 64);
    // A suite that is not UTF-8 or not YAML is broken, with a location for YAML.
    let d = tmp("bad");
    let f = d.join("bad.suite.yaml");
    std::fs::write(&f, "policy: x.regain\ncases: [\n").unwrap();
    let (code, _, err) = regain(&["test", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.suite.yaml:3:1: invalid YAML"), "{err}");
    std::fs::write(&f, b"policy: \xff\n").unwrap();
    let (code, _, err) = regain(&["test", f.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not UTF-8"), "{err}");
}

#[test]
fn json_starts_with_the_schema() {
    for args in [
        vec![
            "test",
            "tests/fixtures/suites/passing.suite.yaml",
            "--format",
            "json",
        ],
        vec![
            "test",
            "tests/fixtures/suites/failing.suite.yaml",
            "--format",
            "json",
        ],
        vec![
            "test",
            "tests/fixtures/suites/broken.suite.yaml",
            "--format",
            "json",
        ],
    ] {
        let (_, out, _) = regain(&args);
        let v = json(&out);
        assert_eq!(first_key(&v), "schema", "{out}");
        assert_eq!(v["schema"], "regain.test/1");
    }
    // An unreadable file is the same error object, exit 66, for every command.
    let (code, out, _) = regain(&["test", "no/such.suite.yaml", "--format", "json"]);
    let v = json(&out);
    assert_eq!(code, 66);
    assert_eq!(v["schema"], "regain.error/1");
    assert_eq!(v["code"], 66);
}

#[test]
fn coverage_lists_the_top_unreached_terminals_with_cases_to_paste() {
    let pass = format!("{FIX}/passing.suite.yaml");
    let (code, out, _) = regain(&[
        "test",
        &pass,
        "--coverage",
        "--top",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let c = &json(&out)["suites"][0]["coverage"];
    assert_eq!(c["unreached"], 19);
    let missed = c["missed_terminals"].as_array().unwrap();
    assert_eq!(missed.len(), 3);
    // Largest share first.
    let shares: Vec<f64> = missed
        .iter()
        .map(|m| m["share"].as_f64().unwrap())
        .collect();
    assert!(shares.windows(2).all(|w| w[0] >= w[1]), "{shares:?}");
    // The default is 20: all 19 here.
    let (_, out, _) = regain(&["test", &pass, "--coverage", "--format", "json"]);
    let c = &json(&out)["suites"][0]["coverage"];
    let missed = c["missed_terminals"].as_array().unwrap().clone();
    assert_eq!(missed.len(), 19);
    // Terminals that differ only in usable methods say so.
    assert!(
        missed.iter().any(|m| m["differs_only_from"]["message"]
            .as_str()
            .is_some_and(|s| s.contains("only in usable methods: support step 1 has"))),
        "{out}"
    );
    // Pasting every case into the suite reaches every terminal, and they all pass.
    let mut text = std::fs::read_to_string(&pass).unwrap();
    for m in &missed {
        text.push_str(m["case"].as_str().unwrap());
    }
    let d = tmp("paste");
    std::fs::copy(format!("{FIX}/design.regain"), d.join("design.regain")).unwrap();
    let f = d.join("pasted.suite.yaml");
    std::fs::write(&f, text).unwrap();
    let (code, out, err) = regain(&["test", f.to_str().unwrap(), "--coverage-threshold", "100"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("21 passed, 0 failed"), "{out}");
    // Human output.
    let (_, out, _) = regain(&["test", &pass, "--coverage", "--top", "2"]);
    insta::assert_snapshot!(out);
}

#[test]
fn generate_names_cases_by_decision_and_writes_a_relative_policy_path() {
    let (code, out, _) = regain(&["test", "--generate", &format!("{FIX}/design.regain")]);
    assert_eq!(code, 0);
    // On stdout the path is relative to the current directory.
    assert!(
        out.contains("\npolicy: tests/fixtures/suites/design.regain\n"),
        "{out}"
    );
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  - name: "))
        .collect();
    assert_eq!(names.len(), 21);
    let unique: std::collections::HashSet<&&str> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    insta::assert_snapshot!(out);
    for want in [
        "\"lockout\"",
        "\"allow sms\"",
        "\"allow sms, email\"",
        "\"deny: account is frozen\"",
        "\"allow support (support step 1: bank_card, questions)\"",
    ] {
        assert!(names.contains(&want), "no {want} in {names:?}");
    }
    // From another directory, on stdout: relative to that directory.
    let mut cmd = assert_cmd::Command::cargo_bin("regain").unwrap();
    let out = cmd
        .current_dir(format!("{}/{FIX}", env!("CARGO_MANIFEST_DIR")))
        .args(["test", "--generate", "../suites/design.regain"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\npolicy: design.regain\n"), "{text}");
    // With --output: relative to the output's directory.
    let d = tmp("gen").join("sub");
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("x.suite.yaml");
    let (code, _, err) = regain(&[
        "test",
        "--generate",
        &format!("{FIX}/design.regain"),
        "--output",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&f).unwrap();
    let policy = text
        .lines()
        .find_map(|l| l.strip_prefix("policy: "))
        .unwrap();
    assert!(
        policy.starts_with("../") && policy.ends_with("tests/fixtures/suites/design.regain"),
        "{policy}"
    );
    let (code, out, err) = regain(&["test", f.to_str().unwrap(), "--coverage-threshold", "100"]);
    assert_eq!(code, 0, "{out}{err}");
    // --output into a directory that does not exist is an error.
    let (code, _, err) = regain(&[
        "test",
        "--generate",
        &format!("{FIX}/design.regain"),
        "--output",
        d.join("nope/x.suite.yaml").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot write into"), "{err}");
}

/// A suite for `source` (in a temp dir) from a YAML body after `policy:`.
fn suite_for(dir: &std::path::Path, source: &str, body: &str) -> Suite {
    std::fs::write(dir.join("p.regain"), source).unwrap();
    let f = dir.join("p.suite.yaml");
    std::fs::write(&f, format!("policy: p.regain\n{body}")).unwrap();
    Suite::load(&f).unwrap_or_else(|e| panic!("{e}\n{body}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    // Against the engine itself: a generated suite passes and reaches every terminal,
    // with unique names; and the cases that `--coverage` offers for an empty suite,
    // pasted in, do too.
    #[test]
    fn generated_and_pasted_cases_reach_every_terminal(seed in any::<u64>(), size in 0u32..4) {
        let g = common::policy(seed, size);
        let policy = Policy::parse(&g.source).unwrap();
        let engine = Engine::new(&policy).unwrap();
        let terminals = engine.graph().decisions().len();
        let dir = tmp(&format!("prop-{seed}"));
        let generated = suite::generate(&engine, "p.regain");
        let body = generated.split_once("\npolicy: p.regain\n").unwrap().1;
        let s = suite_for(&dir, &g.source, body);
        let results = s.run(None);
        prop_assert!(results.iter().all(|r| r.passed()));
        prop_assert_eq!(results.len(), terminals);
        let c = suite::coverage(&s, &results, usize::MAX);
        prop_assert_eq!(c.terminals, (terminals, terminals));
        let names: std::collections::HashSet<&str> = s.cases.iter().map(|c| c.name.as_str()).collect();
        prop_assert_eq!(names.len(), terminals);

        let empty = suite_for(&dir, &g.source, "cases: []\n");
        let c = suite::coverage(&empty, &[], usize::MAX);
        prop_assert_eq!(c.unreached, terminals);
        let mut body = String::from("cases:\n");
        for m in &c.missed {
            body.push_str(m.case.as_deref().unwrap());
        }
        let s = suite_for(&dir, &g.source, &body);
        let results = s.run(None);
        prop_assert!(results.iter().all(|r| r.passed()));
        let c = suite::coverage(&s, &results, 0);
        prop_assert_eq!(c.terminals, (terminals, terminals));
        // Deny rules by index: a rule is covered exactly when some case makes it hold.
        for (i, d) in policy.ir().denies.iter().enumerate() {
            let held = s.cases.iter().any(|c| d.when.eval(&c.values));
            let missed = c.missed_denies.iter().any(|x| x.index() == i);
            prop_assert_eq!(held, !missed);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}

// Terminals whose decisions read the same (one reason from two rules) are told apart
// by the rules' lines, in generated names and in coverage.
#[test]
fn deny_rules_with_one_reason_are_told_apart() {
    let s = format!("{FIX}/two_denies.suite.yaml");
    let (code, out, _) = regain(&["test", &s, "--coverage"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("deny rules 1/2"), "{out}");
    assert!(
        out.contains("deny rule never fired: \"r\" (line 14)"),
        "{out}"
    );
    assert!(
        out.contains("differs from terminal 2 (reached by `denied by the first rule`) only in which deny rules hold: line 14 here, line 13 there"),
        "{out}"
    );
    assert!(
        out.contains("- name: \"deny: r (rule at line 14)\""),
        "{out}"
    );
    let (code, out, _) = regain(&["test", "--generate", &format!("{FIX}/two_denies.regain")]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    // No text makes the suite loader panic: YAML-ish fragments in random order.
    #[test]
    fn any_text_loads_or_errors(parts in proptest::collection::vec(prop_oneof![
        Just("policy: design.regain\n"), Just("cases:\n"), Just("  - "), Just("name: x\n"),
        Just("    profile: "), Just("{phone: {active: true}}"), Just("expect: "), Just("{}"),
        Just("[["), Just("]]"), Just("{"), Just("}"), Just("&a "), Just("*a "), Just("? "),
        Just(": "), Just("- "), Just("\n"), Just("    "), Just("!!str "), Just("!x "),
        Just("\"q\""), Just("'s'"), Just("---\n"), Just("|\n  t\n"), Just("path: {name: support, steps: {1: [id_document]}}"),
        Just("decision: allow"), Just("denied_by: [\"account is frozen\"]"), Just("9999999999999999999999"),
        Just("base: "), Just("questions.set: 3"), Just(", "), Just("#c\n"), Just("\t"), Just("é"),
    ], 0..40)) {
        let text: String = parts.concat();
        let policy = std::fs::read(format!("{FIX}/design.regain")).unwrap();
        let read = move |_: &std::path::Path| Ok(policy.clone());
        let _ = Suite::from_text(std::path::Path::new("t.suite.yaml"), &text, &read);
    }
}
