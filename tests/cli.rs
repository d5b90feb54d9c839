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
    assert_eq!(first_key(&v), "schema");
    assert_eq!(v["schema"], "regain.eval/1");
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
    for l in &lines {
        assert_eq!(first_key(l), "schema");
        assert_eq!(l["schema"], "regain.eval/1");
    }
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
fn not_utf8_is_an_unreadable_input() {
    let dir = tempdir();
    let p = dir.join("garbage.regain");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0x12, 0x80]).unwrap();
    regain()
        .arg("check")
        .arg(&p)
        .assert()
        .code(66)
        .stderr(predicate::str::contains("not UTF-8"));
    regain()
        .arg("analyze")
        .arg(&p)
        .assert()
        .code(66)
        .stderr(predicate::str::contains("not UTF-8"));
}

#[test]
fn missing_files_and_usage_errors() {
    regain()
        .args(["check", "no/such.regain"])
        .assert()
        .code(66)
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
    assert_eq!(first_key(&v), "schema");
    assert_eq!(v["schema"], "regain.check/1");
    assert_eq!(v["ok"], false);
    let diags = v["files"][0]["diagnostics"].as_array().unwrap();
    let e = diags.iter().find(|d| d["code"] == "E0003").unwrap();
    assert_eq!(e["severity"], "error");
    assert_eq!(
        e["file"],
        "tests/fixtures/invalid/E0003_unknown_fact.regain"
    );
    assert_eq!(e["line"], 3);
    assert_eq!(e["col"], 36);
    assert_eq!(e["end_line"], 3);
    assert_eq!(e["end_col"], 36 + "phone.activ".len());
    assert_eq!(e["help"], "did you mean `phone.active`?");
    assert_eq!(e["labels"][0]["primary"], true);
    assert_eq!(e["labels"][0]["line"], 3);
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

/// The first key of a JSON object (the output keeps insertion order).
fn first_key(v: &serde_json::Value) -> &str {
    v.as_object()
        .and_then(|o| o.keys().next())
        .map(String::as_str)
        .unwrap_or("")
}

const MISSING: &str = "no/such/file";
const ALIPAY: &str = "policies/alipay.regain";

/// Every command, with a missing file in each position that names an input, gives 66
/// and names the file; with `--format json` the error is also JSON on stdout.
#[test]
fn a_missing_file_gives_66_from_every_command() {
    let shard = tempdir().join("shard.json");
    let (code, out, _) = common_run(&[
        "simulate", ALIPAY, "--trials", "2000", "--shard", "1/1", "--format", "json",
    ]);
    assert_eq!(code, 0);
    std::fs::write(&shard, out).unwrap();
    let shard = shard.display().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["check", MISSING],
        vec!["check", ALIPAY, MISSING],
        vec!["eval", MISSING, "--profile", "-"],
        vec!["eval", DESIGN, "--profile", MISSING],
        vec!["eval", DESIGN, "--profiles", MISSING],
        vec!["graph", MISSING],
        vec!["analyze", MISSING],
        vec!["diff", MISSING, ALIPAY],
        vec!["diff", ALIPAY, MISSING],
        vec!["simulate", MISSING],
        vec!["simulate", ALIPAY, "--model", MISSING],
        vec!["simulate", DESIGN],
        vec!["merge", MISSING],
        vec!["merge", &shard, MISSING],
        vec!["fmt", MISSING],
        vec!["fmt", "--check", ALIPAY, MISSING],
        vec!["test", MISSING],
        vec!["test", "--generate", MISSING],
    ];
    for args in cases {
        let (code, out, err) = common_run(&args);
        assert_eq!(code, 66, "{args:?}: {err}");
        assert!(err.contains("cannot read `"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        let mut json = args.clone();
        json.extend(["--format", "json"]);
        let (code, out_json, err) = common_run(&json);
        assert_eq!(code, 66, "{json:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(out_json.trim())
            .unwrap_or_else(|e| panic!("{json:?}: not one JSON document ({e}): {out_json}"));
        if args[0] == "check" || args[0] == "fmt" {
            // check and fmt report every file, the unreadable ones with their error.
            assert_eq!(v["schema"], format!("regain.{}/1", args[0]));
            let files = v["files"].as_array().unwrap();
            assert!(files
                .iter()
                .any(|f| f["error"].as_str().is_some_and(|e| e.contains(MISSING))));
        } else {
            assert_eq!(v["schema"], "regain.error/1", "{json:?}");
            assert_eq!(v["code"], 66);
            assert!(v["error"].as_str().unwrap().contains("cannot read `"));
            assert_eq!(v["diagnostics"], serde_json::json!([]));
        }
        // Human mode leaves stdout to results.
        if args[0] != "check" && args[0] != "fmt" {
            assert_eq!(out, "", "{args:?}");
        }
    }
}

fn common_run(args: &[&str]) -> (i32, String, String) {
    let out = regain()
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_errors_carry_diagnostics_and_the_exit_code() {
    let bad = "tests/fixtures/invalid/E0003_unknown_fact.regain";
    // A policy that does not check: exit 1, its diagnostics in the JSON error.
    for cmd in ["analyze", "graph"] {
        let (code, out, err) = common_run(&[cmd, bad, "--format", "json"]);
        assert_eq!(code, 1, "{cmd}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(first_key(&v), "schema");
        assert_eq!(v["schema"], "regain.error/1");
        assert_eq!(v["code"], 1);
        assert!(v["error"].as_str().unwrap().contains("1 error"));
        let d = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "E0003")
            .unwrap();
        assert_eq!((d["line"].as_u64(), d["col"].as_u64()), (Some(3), Some(36)));
        assert_eq!(d["file"], bad);
        assert_eq!(d["help"], "did you mean `phone.active`?");
        // The person at the terminal still gets a message.
        assert!(err.contains("1 error"), "{err}");
    }
    // diff of a policy that does not check: exit 2, and the JSON says 2.
    let (code, out, _) = common_run(&["diff", bad, ALIPAY, "--format", "json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["code"], 2);
    assert!(!v["diagnostics"].as_array().unwrap().is_empty());
    // A bad profile: exit 1, the message names the fact.
    let out = regain()
        .args(["eval", DESIGN, "--profile", "-", "--format", "json"])
        .write_stdin(r#"{"phone": {"bound": true}}"#)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], "regain.error/1");
    assert_eq!(v["code"], 1);
    assert!(v["error"].as_str().unwrap().contains("phone.active"));
    // A usage error: exit 64, JSON when --format json was asked for.
    let (code, out, err) = common_run(&["analyze", ALIPAY, "--format", "json", "--bogus"]);
    assert_eq!(code, 64);
    assert!(err.contains("--bogus"));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["code"], 64);
    assert!(v["error"].as_str().unwrap().contains("--bogus"));
    // Without --format json nothing goes to stdout.
    let (code, out, _) = common_run(&["analyze", bad]);
    assert_eq!((code, out.as_str()), (1, ""));
}

#[test]
fn help_documents_the_exit_codes() {
    let (code, out, _) = common_run(&["--help"]);
    assert_eq!(code, 0);
    for line in [
        "Exit codes",
        "   0  ok",
        "   1  bad input or a failed check",
        "   2  `eval --exit-code`",
        "  64  usage error",
        "  66  a named input file cannot be read",
        "regain.error/1",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
}

/// Checking that inputs are readable must not open a named pipe: its writer would see
/// the reader go away and the real read would wait forever.
#[cfg(unix)]
#[test]
fn profiles_from_a_named_pipe() {
    let dir = tempdir();
    let fifo = dir.join("profiles.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            let _ = writeln!(f, "{SEED_PROFILE}");
        })
    };
    regain()
        .args(["eval", DESIGN, "--profiles"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .success()
        .stdout(predicate::str::starts_with("line 1: allow: email, support"));
    writer.join().unwrap();
}

/// Errors that only one command can meet (diff of incomparable facts, a broken model,
/// a bad `--set`, a shard that is not one) are JSON on stdout too with `--format json`,
/// with the same exit code as the human run.
#[test]
fn command_specific_errors_are_json_too() {
    let dir = tempdir();
    let old = dir.join("old.regain");
    let new = dir.join("new.regain");
    std::fs::write(
        &old,
        "policy p facts { a: bool } methods { m: knowledge requires a } path x { steps m grants g }\n",
    )
    .unwrap();
    std::fs::write(
        &new,
        "policy p facts { a: yes | no } methods { m: knowledge requires a == yes } path x { steps m grants g }\n",
    )
    .unwrap();
    let model = dir.join("bad.model.yaml");
    std::fs::write(&model, "population:\n  nonsense: [1, 2\n").unwrap();
    let shard = dir.join("shard.json");
    std::fs::write(&shard, "{\"not\": \"a shard\"}").unwrap();
    let (o, n, m, s) = (
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        model.to_str().unwrap(),
        shard.to_str().unwrap(),
    );
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["diff", o, n], 2, "fact `a`"),
        (
            vec!["simulate", ALIPAY, "--model", m, "--trials", "10"],
            1,
            "bad.model.yaml",
        ),
        (vec!["analyze", ALIPAY, "--model", m], 1, "bad.model.yaml"),
        (
            vec![
                "simulate",
                ALIPAY,
                "--set",
                "nosuchpath.wait=1h",
                "--trials",
                "10",
            ],
            64,
            "--set",
        ),
        (vec!["merge", s], 1, ""),
    ];
    for (args, want, needle) in cases {
        let (code, out, err) = common_run(&args);
        assert_eq!(code, want, "{args:?}: {err}");
        assert!(err.contains("error"), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}: human mode leaves stdout to results");
        let mut json = args.clone();
        json.extend(["--format", "json"]);
        let (code, out, err) = common_run(&json);
        assert_eq!(code, want, "{json:?}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("{json:?}: not one JSON document ({e}): {out}"));
        assert_eq!(v["schema"], "regain.error/1", "{json:?}");
        assert_eq!(v["code"], want, "{json:?}");
        assert!(
            v["error"].as_str().unwrap().contains(needle),
            "{json:?}: {v}"
        );
    }
}
