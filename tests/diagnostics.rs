//! One snapshot per diagnostic code: the rendered diagnostic a user sees for each
//! fixture in `tests/fixtures/invalid/`, and the exit code.

use std::path::Path;
use std::process::Command;

fn run_check(rel: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_regain"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", rel])
        .env("NO_COLOR", "1")
        .output()
        .expect("run regain");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_diagnostic_code_renders_with_location_and_help() {
    insta::glob!("fixtures/invalid/*.regain", |path| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let (code, stderr) = run_check(&rel);
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expected_code = &stem[..5];
        // The code named by the fixture appears, with a file:line:col location and help.
        assert!(stderr.contains(expected_code), "{stem}: {stderr}");
        assert!(
            stderr.contains(&format!("{rel}:")),
            "{stem}: no location in {stderr}"
        );
        assert!(stderr.contains("help:"), "{stem}: no help in {stderr}");
        let want_exit = if expected_code.starts_with('W') { 0 } else { 1 };
        assert_eq!(code, want_exit, "{stem}");
        insta::assert_snapshot!(format!("exit: {code}\n{stderr}"));
    });
}

#[test]
fn every_code_has_a_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for code in regain::Code::ALL {
        // E0017 (source too large) is generated in tests/cli.rs rather than committed.
        if *code == regain::Code::E0017 {
            continue;
        }
        assert!(
            names.iter().any(|n| n.starts_with(code.as_str())),
            "no fixture for {code}"
        );
    }
}

#[test]
fn all_errors_of_a_file_are_reported_in_order() {
    let src = "policy p\nfacts { a: int 0..3 }\nmethods { m: knowledge requires b and a == x }\npath x { steps q grants r }\npath y { steps m }\n";
    let err = regain::Policy::parse_named("multi.regain", src).unwrap_err();
    let codes: Vec<&str> = err.errors().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0003", "E0007", "E0005", "E0018"]);
    let plain = err.to_string();
    assert!(
        plain.contains("multi.regain:3:33: error[E0003]: unknown fact `b`"),
        "{plain}"
    );
}

#[test]
fn warnings_deny_with_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_regain"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "--deny-warnings",
            "tests/fixtures/invalid/W0002_unused_fact.regain",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
