//! The command line as a user runs it: exit codes, JSON shapes, batch mode, errors.

use assert_cmd::Command;
use predicates::prelude::*;

fn regain() -> Command {
    let mut c = Command::cargo_bin("regain").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

const DESIGN: &str = "tests/fixtures/valid/design_example.regain";
const SEED_PROFILE: &str = r#"{"phone":{"bound":true,"active":false},"email":{"bound":true,"verified":true,"changed_days":30},"questions":{"set":3},"identity":{"verified":true},"bank_card":{"bound":false},"account":{"risk":"low"}}"#;

#[test]
fn check_shipped_policies_clean() {
    regain()
        .args(["check", "--deny-warnings"])
        .args(glob("policies", "regain"))
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));
}

fn glob(dir: &str, ext: &str) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .map(|p| p.display().to_string())
            .collect();
    v.sort();
    v
}

#[test]
fn design_example_seed_profile_allows_email_then_support() {
    let out = regain()
        .args(["eval", DESIGN, "--profile", "-", "--format", "json"])
        .write_stdin(SEED_PROFILE)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["decision"], "allow");
    let names: Vec<&str> = v["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["email", "support"]);
    assert_eq!(
        v["paths"][1]["steps"][0],
        serde_json::json!(["id_document", "questions", "face_match"])
    );
    assert_eq!(
        v["paths"][0]["steps"],
        serde_json::json!([["email_link"], ["questions"]])
    );
    assert_eq!(v["paths"][0]["wait_s"], 0);
    assert_eq!(v["paths"][1]["wait_s"], 48 * 3600);
    assert_eq!(
        v["paths"][0]["notify"],
        serde_json::json!(["sms_code", "email_link"])
    );
    assert_eq!(v["denied_by"], serde_json::json!([]));
}

#[test]
fn exit_code_flag_reports_deny_and_lockout() {
    let frozen = SEED_PROFILE.replace("\"account\":{", "\"account\":{\"frozen\":true,");
    regain()
        .args(["eval", DESIGN, "--profile", "-", "--exit-code"])
        .write_stdin(frozen.clone())
        .assert()
        .code(2)
        .stdout(predicate::str::contains("deny: account is frozen"));
    // Without --exit-code, any decision exits 0.
    regain()
        .args(["eval", DESIGN, "--profile", "-"])
        .write_stdin(frozen)
        .assert()
        .code(0);
}

#[test]
fn batch_mode_answers_every_line_and_flags_bad_ones() {
    let bad = r#"{"phone":{"bound":"yes"}}"#;
    let input = format!("{SEED_PROFILE}\n{bad}\n\nnot json\n{SEED_PROFILE}\n");
    let out = regain()
        .args(["eval", DESIGN, "--profiles", "-", "--format", "json"])
        .write_stdin(input)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["decision"], "allow");
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("phone.bound"));
    assert_eq!(lines[2]["line"], 4);
    assert_eq!(lines[3]["decision"], "allow");
}

#[test]
fn explain_names_the_failing_requirement_and_line() {
    regain()
        .args(["eval", DESIGN, "--profile", "-", "--explain"])
        .write_stdin(SEED_PROFILE)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "path sms (line 30): unavailable — step 1 (line 31):",
        ))
        .stdout(predicate::str::contains(
            "`sms_code` requires `phone.active` (line 18)",
        ));
}

#[test]
fn yaml_profiles_by_extension() {
    let dir = tempdir();
    let p = dir.join("p.yaml");
    std::fs::write(
        &p,
        "phone: {bound: true, active: true}\nemail: {bound: false, verified: false, changed_days: 0}\nquestions.set: 0\nidentity: {verified: false}\nbank_card: {bound: false}\naccount: {risk: high}\n",
    )
    .unwrap();
    regain()
        .args(["eval", DESIGN, "--profile"])
        .arg(&p)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("allow: sms"));
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "regain-cli-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn bad_inputs_exit_1_with_location_never_panic() {
    let dir = tempdir();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.regain", b"".to_vec(), ":1:1"),
        (
            "garbage.regain",
            vec![0xff, 0xfe, 0x00, 0x12, 0x80],
            "not UTF-8",
        ),
        ("nul.regain", b"policy p \x00".to_vec(), ":1:10"),
        (
            "deep.regain",
            format!(
                "policy p\ndeny \"x\" when {}a{}",
                "(".repeat(10_000),
                ")".repeat(10_000)
            )
            .into_bytes(),
            ":2:",
        ),
        (
            "nots.regain",
            format!("policy p\ndeny \"x\" when {}a", "not ".repeat(10_000)).into_bytes(),
            ":2:",
        ),
        (
            "huge.regain",
            format!("policy p\n{}", "# pad\n".repeat(400_000)).into_bytes(),
            "E0017",
        ),
        (
            "unterminated.regain",
            b"policy p\ndeny \"oops when a\n".to_vec(),
            ":2:",
        ),
    ];
    for (name, bytes, want) in cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = regain()
            .arg("check")
            .arg(&p)
            .timeout(std::time::Duration::from_secs(10))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains(want),
            "{name}: expected {want:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn bad_profiles_name_the_fact() {
    let cases = [
        (r#"{"phone": {"bound": true}}"#, "phone.active"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "must be an object"),
        (
            &SEED_PROFILE.replace("\"set\":3", "\"set\":9"),
            "questions.set",
        ),
        (
            &SEED_PROFILE.replace("\"set\":3", "\"set\":3.0"),
            "questions.set",
        ),
        (
            &SEED_PROFILE.replace("\"low\"", "\"lwo\""),
            "did you mean `low`",
        ),
        (
            &SEED_PROFILE.replace("\"questions\"", "\"qestions\""),
            "qestions",
        ),
    ];
    for (profile, want) in cases {
        regain()
            .args(["eval", DESIGN, "--profile", "-"])
            .write_stdin(profile.to_string())
            .assert()
            .code(1)
            .stderr(predicate::str::contains(want));
    }
}

#[test]
fn missing_files_and_usage_errors() {
    regain()
        .args(["check", "no/such.regain"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read `no/such.regain`"));
    regain().args(["eval", DESIGN]).assert().code(64);
    regain().args(["frobnicate"]).assert().code(64);
    regain().arg("--help").assert().code(0);
}

#[test]
fn check_json_lists_diagnostics() {
    let out = regain()
        .args([
            "check",
            "--format",
            "json",
            "tests/fixtures/invalid/E0003_unknown_fact.regain",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let diags = v[0]["diagnostics"].as_array().unwrap();
    let e = diags.iter().find(|d| d["code"] == "E0003").unwrap();
    assert_eq!(e["line"], 3);
    assert_eq!(e["col"], 36);
    assert_eq!(e["help"], "did you mean `phone.active`?");
}

#[test]
fn graph_dot_and_json() {
    regain()
        .args(["graph", "policies/alipay.regain"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("digraph"))
        .stdout(predicate::str::contains("label=\"phone.active\""))
        .stderr(predicate::str::contains("terminals"));
    let out = regain()
        .args(["graph", "policies/alipay.regain", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["stats"]["nodes"].as_u64().unwrap() > 10);
    assert!(v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["label"] == "true"));
}
