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

/// The plain rendering (`file:line:col: error[CODE]: message` + help) of a fixture.
fn plain(fixture: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/invalid")
        .join(fixture);
    let src = std::fs::read_to_string(&path).unwrap();
    let err = regain::Policy::parse_named(fixture, &src).unwrap_err();
    err.to_string()
}

#[test]
fn common_mistakes_get_a_specific_hint_at_the_right_place() {
    // (fixture, location of the error, text of the help)
    let cases = [
        (
            "E0001_hint_and.regain",
            "4:45",
            "regain writes `and`, not `&&`: `phone.bound and phone.active`",
        ),
        (
            "E0001_hint_or.regain",
            "3:40",
            "regain writes `or`, not `||`: `email.bound or not phone.bound`",
        ),
        (
            "E0001_hint_int_range.regain",
            "3:23",
            "write `int 0..10`: a range is written with two dots",
        ),
        ("E0001_hint_duration_days.regain", "6:8", "write `wait 7d`"),
        ("E0001_hint_duration_week.regain", "6:8", "write `wait 7d`"),
        ("E0001_hint_duration_space.regain", "6:8", "write `wait 1h`"),
        (
            "E0001_hint_any_comma.regain",
            "4:31",
            "separate the methods with commas: `any 1 of (id_document, bank_card)`",
        ),
        (
            "E0001_hint_deny_reason.regain",
            "3:6",
            "a deny rule gives its reason first, in double quotes, then `when` and the condition: `deny \"reason shown to the caller\" when account.frozen`",
        ),
        (
            "E0001_hint_unclosed_eof.regain",
            "3:12",
            "add `}` to close the `path email` block opened on line 3",
        ),
        (
            "E0001_hint_unclosed_block.regain",
            "6:1",
            "the `facts` block opened on line 2 is not closed before `methods`",
        ),
        (
            "E0001_hint_single_equals.regain",
            "3:36",
            "to compare, write `==`: `account.risk == high`",
        ),
        (
            "E0001_hint_notify_comma.regain",
            "6:21",
            "separate the methods with commas: `notify email_link, sms_code`",
        ),
        (
            "E0001_hint_steps_comma.regain",
            "4:19",
            "steps follow each other with `then`",
        ),
        (
            "E0001_hint_dotted_method.regain",
            "2:11",
            "only fact names may contain dots",
        ),
        ("E0001_syntax.regain", "5:3", "`steps` lists at least one method"),
        (
            "E0001_keyword.regain",
            "2:9",
            "`in` is a reserved keyword and cannot be a name; rename it (e.g. `in_`)",
        ),
    ];
    for (fixture, at, help) in cases {
        let out = plain(fixture);
        assert!(
            out.starts_with(&format!("{fixture}:{at}: error[E0001]: ")),
            "{fixture}: wrong location:\n{out}"
        );
        assert!(out.contains("expected"), "{fixture}: {out}");
        assert!(out.contains(help), "{fixture}: wrong help:\n{out}");
    }
    // The unclosed block also points at its opening brace.
    let out = plain("E0001_hint_unclosed_block.regain");
    assert!(
        out.contains("E0001_hint_unclosed_block.regain:2:7: note: opened here, never closed"),
        "{out}"
    );
    let out = plain("E0001_hint_unclosed_eof.regain");
    assert!(
        out.contains("unclosed `{`: the `path email` block is never closed"),
        "{out}"
    );
}

#[test]
fn renaming_is_advised_only_when_a_keyword_stands_where_a_name_belongs() {
    let parse = |src: &str| regain::Policy::parse(src).unwrap_err().to_string();
    let rename = "rename it";
    // A keyword really used as a name: the advice is given.
    for src in [
        "policy in",
        "policy p\nfacts { when: bool }",
        "policy p\nmethods { m: human }\npath grants { steps m grants r }",
        "policy p\nmethods { then: human }",
        "policy p\nfacts { a.in: bool }",
    ] {
        assert!(parse(src).contains(rename), "{src}\n{}", parse(src));
    }
    // A keyword where something is missing before it: no advice to rename.
    for src in [
        "policy p\nmethods { m: human }\npath x {\n  steps\n  grants r\n}",
        "policy p\nmethods { m: human }\npath x { steps m then grants r }",
        "policy p\nfacts { a: bool }\ndeny when a",
        "policy p\nfacts { n: int 0-10 }",
        "policy p\nmethods { m: human }\npath x { steps m grants r wait 7 days }",
        "policy p\nmethods { m: human }\npath x { steps m grants }",
    ] {
        assert!(!parse(src).contains(rename), "{src}\n{}", parse(src));
    }
}

/// Every syntax error, whatever the mistake, says where, what was expected and how to
/// fix it, and never panics: delete or double each token of the shipped policies in turn.
#[test]
fn every_syntax_error_has_a_location_an_expectation_and_help() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for file in [
        "policies/alipay.regain",
        "tests/fixtures/valid/design_example.regain",
    ] {
        let src = std::fs::read_to_string(root.join(file)).unwrap();
        // Token boundaries: runs of non-space characters outside comments.
        let mut toks = Vec::new();
        let mut start = None;
        let mut in_comment = false;
        for (i, c) in src.char_indices() {
            if c == '\n' {
                in_comment = false;
            }
            if c == '#' {
                in_comment = true;
            }
            let word = !c.is_whitespace() && !in_comment;
            match (word, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    toks.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        for (k, (s, e)) in toks.iter().enumerate() {
            if k % 2 == 1 {
                continue;
            }
            let deleted = format!("{}{}", &src[..*s], &src[*e..]);
            let doubled = format!("{}{}", &src[..*e], &src[*s..]);
            for variant in [deleted, doubled] {
                let Err(err) = regain::Policy::parse_named("m.regain", &variant) else {
                    continue;
                };
                for d in err.errors().filter(|d| d.code == regain::Code::E0001) {
                    checked += 1;
                    let shown = err.plain(d);
                    assert!(shown.starts_with("m.regain:"), "{shown}");
                    assert!(shown.contains("expected"), "{shown}");
                    assert!(d.help.is_some(), "no help:\n{shown}\n---\n{variant}");
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} syntax errors were produced");
}
