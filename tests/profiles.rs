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
