//! Profile validation: each error kind names the fact and what was expected.

use regain::{Engine, Policy};

const P: &str = r#"
policy p
facts {
  phone.active: bool
  phone.bound: bool
  questions.set: int 0..5
  account.risk: low | medium | high
  account.frozen: bool = false
}
methods { m: possession requires phone.active and phone.bound and questions.set > 1 and account.risk != high and not account.frozen }
path x { steps m grants r }
"#;

fn engine() -> Engine {
    Engine::new(&Policy::parse(P).unwrap()).unwrap()
}

fn err_json(json: &str) -> regain::ProfileError {
    engine().profile_from_json(json).unwrap_err()
}

const OK: &str = r#"{"phone": {"active": true, "bound": true}, "questions": {"set": 2}, "account": {"risk": "low"}}"#;

#[test]
fn nested_dotted_and_mixed_are_the_same() {
    let e = engine();
    let a = e.profile_from_json(OK).unwrap();
    let b = e
        .profile_from_json(r#"{"phone.active": true, "phone.bound": true, "questions.set": 2, "account.risk": "low"}"#)
        .unwrap();
    let c = e
        .profile_from_json(r#"{"phone": {"active": true}, "phone.bound": true, "questions.set": 2, "account": {"risk": "low"}}"#)
        .unwrap();
    assert_eq!(a.values(), b.values());
    assert_eq!(a.values(), c.values());
    let y = e
        .profile_from_yaml(
            "phone: {active: true, bound: true}\nquestions.set: 2\naccount:\n  risk: low\n",
        )
        .unwrap();
    assert_eq!(a.values(), y.values());
}

#[test]
fn missing_fact() {
    let e = err_json(
        r#"{"phone": {"active": true}, "questions": {"set": 2}, "account": {"risk": "low"}}"#,
    );
    assert_eq!(e.fact.as_deref(), Some("phone.bound"));
    assert!(e.message.contains("missing fact `phone.bound`"), "{e}");
}

#[test]
fn unknown_key_with_did_you_mean() {
    let e = err_json(&OK.replace("\"set\"", "\"sett\""));
    assert_eq!(e.fact.as_deref(), Some("questions.sett"));
    assert!(e.message.contains("did you mean `questions.set`"), "{e}");
}

#[test]
fn wrong_types() {
    let e = err_json(&OK.replace("\"active\": true", "\"active\": 1"));
    assert!(
        e.message
            .contains("fact `phone.active`: expected `true` or `false`, found 1"),
        "{e}"
    );
    let e = err_json(&OK.replace("\"set\": 2", "\"set\": \"2\""));
    assert!(e.message.contains("questions.set"), "{e}");
    let e = err_json(&OK.replace("\"set\": 2", "\"set\": 2.0"));
    assert!(
        e.message.contains("expected an integer in 0..5, found 2.0"),
        "{e}"
    );
    let e = err_json(&OK.replace("\"phone\": {", "\"phone\": 3, \"x\": {"));
    assert_eq!(e.fact.as_deref(), Some("phone"));
}

#[test]
fn out_of_range_and_unknown_variant() {
    let e = err_json(&OK.replace("\"set\": 2", "\"set\": 6"));
    assert!(e.message.contains("out of range"), "{e}");
    let e = err_json(&OK.replace("\"set\": 2", "\"set\": 99999999999999999999"));
    assert!(e.message.contains("questions.set"), "{e}");
    let e = err_json(&OK.replace("\"low\"", "\"hgh\""));
    assert!(e.message.contains("did you mean `high`"), "{e}");
}

#[test]
fn duplicates_and_null() {
    let e = err_json(&OK.replace(
        "\"questions\": {\"set\": 2}",
        "\"questions\": {\"set\": 2}, \"questions.set\": 3",
    ));
    assert!(e.message.contains("given twice"), "{e}");
    let e = err_json(&OK.replace("\"bound\": true", "\"bound\": true, \"bound\": false"));
    assert!(e.message.contains("given twice"), "{e}");
    let e = err_json(&OK.replace(
        "{\"risk\": \"low\"}",
        "{\"risk\": \"low\", \"frozen\": null}",
    ));
    assert!(
        e.message.contains("omit the fact to use its default"),
        "{e}"
    );
}

#[test]
fn yaml_booleans_are_true_and_false_only() {
    let e = engine()
        .profile_from_yaml(
            "phone: {active: yes, bound: true}\nquestions.set: 2\naccount.risk: low\n",
        )
        .unwrap_err();
    assert!(e.message.contains("phone.active"), "{e}");
}

#[test]
fn malformed_documents() {
    assert!(err_json("").message.contains("invalid JSON"));
    assert!(err_json("{\"a\": ").message.contains("invalid JSON"));
    assert!(err_json("[]").message.contains("must be an object"));
    assert!(engine().profile_from_yaml(": : :").is_err());
    assert!(engine()
        .profile_from_yaml("1: true")
        .unwrap_err()
        .message
        .contains("keys must be strings"));
}

#[test]
fn every_problem_of_a_profile_is_reported_sorted() {
    // A missing fact, an unknown key, a wrong type, an out-of-range int and an unknown
    // variant, all in one profile.
    let e = err_json(
        r#"{"phone": {"active": "yes"}, "questions": {"set": 9}, "account": {"risk": "hgh"}, "device.trusted": true}"#,
    );
    let facts: Vec<Option<&str>> = e.problems.iter().map(|p| p.fact.as_deref()).collect();
    assert_eq!(
        facts,
        [
            Some("account.risk"),
            Some("device.trusted"),
            Some("phone.active"),
            Some("phone.bound"),
            Some("questions.set"),
        ],
        "{e}"
    );
    let msgs: Vec<&str> = e.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(msgs[0].contains("unknown variant") && msgs[0].contains("did you mean `high`"));
    assert!(msgs[1].contains("unknown fact `device.trusted`"));
    assert!(msgs[2].contains("expected `true` or `false`, found \"yes\""));
    assert!(msgs[3].contains("missing fact `phone.bound`"));
    assert!(msgs[4].contains("out of range"));
    // The first problem's fact, every message, and a count in the display.
    assert_eq!(e.fact.as_deref(), Some("account.risk"));
    assert_eq!(e.message.lines().count(), 5);
    let shown = e.to_string();
    assert!(shown.starts_with("5 problems:\n  "), "{shown}");
    for m in msgs {
        assert!(shown.contains(m), "{shown}");
    }
}

#[test]
fn a_reported_key_does_not_also_count_as_missing() {
    // `questions.sett` is reported with its did-you-mean; `questions.set` is not also
    // reported missing. `phone: 3` is reported once, not once per member.
    let e = err_json(r#"{"phone": 3, "questions": {"sett": 2}, "account": {"risk": "low"}}"#);
    let facts: Vec<&str> = e
        .problems
        .iter()
        .filter_map(|p| p.fact.as_deref())
        .collect();
    assert_eq!(facts, ["phone", "questions.sett"], "{e}");
    // A single problem displays as its message alone.
    let e = err_json(&OK.replace("\"set\": 2", "\"set\": 6"));
    assert_eq!(e.problems.len(), 1);
    assert_eq!(e.to_string(), e.message);
}

#[test]
fn yaml_and_builder_report_every_problem_too() {
    let e = engine()
        .profile_from_yaml("phone: {active: 1}\nquestions.set: -1\n")
        .unwrap_err();
    let facts: Vec<&str> = e
        .problems
        .iter()
        .filter_map(|p| p.fact.as_deref())
        .collect();
    assert_eq!(
        facts,
        [
            "account.risk",
            "phone.active",
            "phone.bound",
            "questions.set"
        ],
        "{e}"
    );
    let eng = engine();
    let e = eng
        .builder()
        .bool("phone.active", true)
        .int("questions.set", 7)
        .variant("account.risk", "extreme")
        .build()
        .unwrap_err();
    assert_eq!(e.problems.len(), 3, "{e}");
}

#[test]
fn a_profile_with_thousands_of_problems_lists_the_first_fifty() {
    let mut src = String::from("policy big\nfacts {\n");
    for i in 0..2000 {
        src.push_str(&format!("  f{i}: bool\n"));
    }
    src.push_str("}\nmethods { m: human requires ");
    src.push_str(
        &(0..2000)
            .map(|i| format!("f{i}"))
            .collect::<Vec<_>>()
            .join(" and "),
    );
    src.push_str(" }\npath x { steps m grants r }\n");
    let policy = Policy::parse(&src).unwrap();
    let e = policy.profile_from_json("{}").unwrap_err();
    assert_eq!(e.problems.len(), 2000);
    assert_eq!(e.message.lines().count(), regain::profile::MAX_SHOWN + 1);
    assert!(e.message.ends_with("… and 1950 more"), "{}", e.message);
}

#[test]
fn several_problems_render_as_one_list() {
    let e = err_json(
        r#"{"phone": {"active": null}, "questions": {"set": 2.0}, "account": {"risk": "Low", "frozen": "no"}, "extra": 1}"#,
    );
    insta::assert_snapshot!(e.to_string());
}
