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

mod fast_path {
    //! The JSON fast path (keys resolved level by level while deserializing) accepts
    //! exactly what the document path accepts, with the same values; the list reader of
    //! batches agrees with reading the items one by one.
    use proptest::prelude::*;
    use regain::profile::Document;
    use regain::{Engine, Policy};
    use serde::de::DeserializeSeed;

    const DEEP: &str =
        "policy p facts { a.b.c: bool a.b.d: int 0..3 a.e: x | y f: bool = true g: int -2..2 } \
                        methods { m: knowledge requires a.b.c } path x { steps m grants g }";

    /// A random JSON object: keys valid at some level, dotted, unknown or repeated;
    /// values of every type, nested objects.
    fn doc() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "a", "b", "c", "d", "e", "f", "g", "h", "a.b", "b.c", "b.d", "a.b.c", "a.b.d", "a.e",
        ]);
        let leaf = prop::sample::select(vec![
            "true", "false", "0", "2", "3", "4", "-2", "-3", "2.0", "\"x\"", "\"y\"", "\"z\"",
            "null", "{}", "[]",
        ])
        .prop_map(str::to_string);
        let value = leaf.prop_recursive(3, 24, 6, move |inner| {
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kvs| {
                let body: Vec<String> = kvs.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                format!("{{{}}}", body.join(", "))
            })
        });
        let random = value.prop_filter("an object", |v| v.starts_with('{'));
        prop_oneof![
            valid_doc(),
            (valid_doc(), key_value()).prop_map(|(d, kv)| format!("{{{kv}, {}", &d[1..])),
            random,
        ]
    }

    /// One random entry for an object.
    fn key_value() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["a", "f", "g", "h", "a.b", "a.b.c", "a.e", "b.d"]),
            prop::sample::select(vec!["true", "1", "\"x\"", "{}", "{\"c\": true}", "null"]),
        )
            .prop_map(|(k, v)| format!("\"{k}\": {v}"))
    }

    /// A valid document: each fact written nested, dotted or half-way, in any order.
    fn valid_doc() -> impl Strategy<Value = String> {
        (
            any::<bool>(),
            0..=3i64,
            prop::sample::select(vec!["x", "y"]),
            prop::option::of(any::<bool>()),
            -2..=2i64,
            prop::collection::vec(0..3usize, 3),
            any::<bool>(),
        )
            .prop_map(|(c, d, e, f, g, forms, reverse)| {
                let facts = [
                    (vec!["a", "b", "c"], c.to_string()),
                    (vec!["a", "b", "d"], d.to_string()),
                    (vec!["a", "e"], format!("\"{e}\"")),
                ];
                // Entries of the top level and of the `a` and `a.b` objects.
                let (mut top, mut a, mut ab) = (Vec::new(), Vec::new(), Vec::new());
                for ((path, v), form) in facts.iter().zip(&forms) {
                    match (form, path.len()) {
                        (0, _) => top.push(format!("\"{}\": {v}", path.join("."))),
                        (1, _) | (2, 2) => a.push(format!("\"{}\": {v}", path[1..].join("."))),
                        _ => ab.push(format!("\"{}\": {v}", path[2])),
                    }
                }
                if !ab.is_empty() {
                    a.push(format!("\"b\": {{{}}}", ab.join(", ")));
                }
                if !a.is_empty() {
                    top.push(format!("\"a\": {{{}}}", a.join(", ")));
                }
                if let Some(f) = f {
                    top.push(format!("\"f\": {f}"));
                }
                top.push(format!("\"g\": {g}"));
                if reverse {
                    top.reverse();
                }
                format!("{{{}}}", top.join(", "))
            })
    }

    fn engine() -> Engine {
        Engine::new(&Policy::parse(DEEP).unwrap()).unwrap()
    }

    /// `text` spelled another way: JSON whitespace moved around (or a form feed, which
    /// JSON does not allow), a key written with an escape, a number as a fraction, an
    /// exponent, `-0` or with a leading zero — what the byte scanner leaves to serde.
    fn respelled() -> impl Strategy<Value = String> {
        (doc(), 0..9usize, any::<prop::sample::Index>()).prop_map(|(text, how, at)| {
            let nth = |pat: &str| -> Option<usize> {
                let hits: Vec<usize> = text.match_indices(pat).map(|(i, _)| i).collect();
                (!hits.is_empty()).then(|| hits[at.index(hits.len())])
            };
            let splice = |i: usize, len: usize, with: &str| {
                format!("{}{with}{}", &text[..i], &text[i + len..])
            };
            match how {
                0 => format!(" \t\r\n{text}\n "),
                1 => text.replace(", ", ",\n\t").replace(": ", " :\r\n"),
                2 => text.replace(": ", ":").replace(", ", ","),
                3 => nth(", ").map_or(text.clone(), |i| splice(i, 2, ",\u{c} ")),
                4 => nth("\"a").map_or(text.clone(), |i| splice(i, 2, "\"\\u0061")),
                5 => nth("2").map_or(text.clone(), |i| splice(i, 1, "2.0")),
                6 => nth("2").map_or(text.clone(), |i| splice(i, 1, "2e0")),
                7 => nth(" 0").map_or(text.clone(), |i| splice(i, 2, " -0")),
                _ => nth(" 2").map_or(text.clone(), |i| splice(i, 2, " 02")),
            }
        })
    }

    /// `profile_from_json` (the byte scanner, serde, then the wording path) accepts
    /// `text` exactly when the document path does, with the same values.
    fn agrees_with_documents(text: &str) -> Result<(), TestCaseError> {
        let e = engine();
        let fast = e.profile_from_json(text);
        let slow = Document::from_json(text)
            .map_err(|_| ())
            .and_then(|d| e.profile_from_document(&d).map_err(|_| ()));
        match (&fast, &slow) {
            (Ok(f), Ok(s)) => prop_assert_eq!(f.values(), s.values(), "{}", text),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(
                false,
                "{}: json {:?} document {:?}",
                text,
                fast.is_ok(),
                slow.is_ok()
            ),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn json_fast_path_agrees_with_documents(text in doc()) {
            agrees_with_documents(&text)?;
        }

        #[test]
        fn json_respelled_agrees_with_documents(text in respelled()) {
            // The byte scanner reads first and must give up, not misread, on whatever
            // it leaves to serde.
            agrees_with_documents(&text)?;
        }

        #[test]
        fn the_byte_scanner_reads_lists_as_serde_does(
            items in prop::collection::vec(prop_oneof![doc(), respelled()], 0..6),
            sep in prop::sample::select(vec![",", ", ", " ,\n", "\t,\r\n"]),
        ) {
            let e = engine();
            let text = format!("[{}]", items.join(sep));
            let seed = e.dense_list_seed(4).deserialize(&mut serde_json::Deserializer::from_str(&text));
            match (e.dense_list_from_json(text.as_bytes(), 4), seed) {
                (Some(scanned), Ok(read)) => prop_assert_eq!(scanned, read, "{}", text),
                (Some(_), Err(_)) => prop_assert!(false, "the scanner took what serde refuses: {}", text),
                (None, _) => {} // given up: the caller reads it another way
            }
        }

        #[test]
        fn the_byte_scanner_gives_up_without_panicking_on_any_bytes(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            prefix in prop::sample::select(vec!["", "[", "[{", "[{\"a\": {\"b\": {\"c\": "]),
        ) {
            let e = engine();
            let text = [prefix.as_bytes(), &bytes].concat();
            if let Some(list) = e.dense_list_from_json(&text, 4) {
                // Only valid JSON, read as serde reads it, is ever accepted.
                let s = std::str::from_utf8(&text).expect("accepted text is UTF-8");
                let read = e.dense_list_seed(4).deserialize(&mut serde_json::Deserializer::from_str(s));
                prop_assert_eq!(Ok(list), read.map_err(|_| ()));
            }
            // The same bytes as a request body's field, and as one profile.
            let body = [b"{\"profiles\": ".as_slice(), &text].concat();
            if let Some(list) = e.dense_list_from_json_object(&body, "profiles", 4) {
                let value: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
                let inner = value["profiles"].to_string();
                let read = e.dense_list_seed(4).deserialize(&mut serde_json::Deserializer::from_str(&inner));
                prop_assert_eq!(Ok(list), read.map_err(|_| ()));
            }
            let one = String::from_utf8_lossy(&bytes[..]);
            let one = format!("{}{one}", prefix.trim_start_matches('['));
            if let Ok(p) = e.profile_from_json(&one) {
                let d = Document::from_json(&one).expect("a document");
                let slow = e.profile_from_document(&d).expect("a valid profile");
                prop_assert_eq!(p.values(), slow.values());
            }
        }

        #[test]
        fn the_list_reader_agrees_with_items_one_by_one(items in prop::collection::vec(doc(), 0..6)) {
            let e = engine();
            let text = format!("[{}]", items.join(", "));
            let read = e.dense_list_seed(4).deserialize(&mut serde_json::Deserializer::from_str(&text));
            let one_by_one: Result<Vec<i64>, ()> = items
                .iter()
                .map(|t| e.profile_from_json(t).map(|p| p.values().to_vec()).map_err(|_| ()))
                .collect::<Result<Vec<_>, ()>>()
                .map(|v| v.concat());
            match read {
                // Whatever the list reader accepts is exactly the items' values.
                Ok(list) => {
                    prop_assert!(items.len() <= 4, "over the limit: {}", text);
                    prop_assert_eq!(list.len(), items.len());
                    prop_assert_eq!(list.profiles().count(), items.len());
                    prop_assert_eq!(Ok(list.values().to_vec()), one_by_one, "{}", text);
                }
                // It refuses only a list with a bad item or over the limit (the caller
                // then reads the items one by one for the messages).
                Err(_) => prop_assert!(one_by_one.is_err() || items.len() > 4, "{}", text),
            }
        }
    }

    #[test]
    fn the_list_reader_reads_a_batch() {
        let e = engine();
        let text = r#"[{"a": {"b": {"c": true, "d": 2}, "e": "y"}, "g": -2},
                       {"a.b.c": false, "a.b.d": 0, "a.e": "x", "f": false, "g": 2}]"#;
        let v = e
            .dense_list_seed(10)
            .deserialize(&mut serde_json::Deserializer::from_str(text))
            .unwrap();
        assert_eq!(v.values(), [1, 2, 1, 1, -2, 0, 0, 0, 0, 2]);
        // The byte scanner reads the same batch; it leaves an escaped key to serde.
        assert_eq!(
            e.dense_list_from_json(text.as_bytes(), 10).as_ref(),
            Some(&v)
        );
        assert_eq!(
            e.dense_list_from_json(text.as_bytes(), 1),
            None,
            "over the limit"
        );
        let escaped = text.replacen("\"g\"", "\"\\u0067\"", 1);
        assert_eq!(e.dense_list_from_json(escaped.as_bytes(), 10), None);
        let by_serde = e
            .dense_list_seed(10)
            .deserialize(&mut serde_json::Deserializer::from_str(&escaped))
            .unwrap();
        assert_eq!(by_serde, v);
        // The same list as a request body's one field.
        let body = |b: &str| e.dense_list_from_json_object(b.as_bytes(), "profiles", 10);
        assert_eq!(
            body(&format!(" {{ \"profiles\" :\n{text} }}\n")).as_ref(),
            Some(&v)
        );
        assert_eq!(body(&format!("{{\"profiles\": {text}, \"x\": 1}}")), None);
        assert_eq!(body(&format!("{{\"profile\": {text}}}")), None);
        assert_eq!(body(&format!("{{\"profiles\": {text}}} x")), None);
        assert_eq!(
            body(&format!("\u{c}{{\"profiles\": {text}}}")),
            None,
            "form feed"
        );
        let each: Vec<&[i64]> = v.profiles().collect();
        assert_eq!(each, [&[1, 2, 1, 1, -2][..], &[0, 0, 0, 0, 2][..]]);
        let empty = e
            .dense_list_seed(10)
            .deserialize(&mut serde_json::Deserializer::from_str("[]"))
            .unwrap();
        assert!(empty.is_empty());
        // A policy without facts: profiles are counted all the same.
        let none = Engine::new(
            &Policy::parse("policy q methods { m: knowledge } path x { steps m grants g }")
                .unwrap(),
        )
        .unwrap();
        let three = none
            .dense_list_seed(10)
            .deserialize(&mut serde_json::Deserializer::from_str("[{}, {}, {}]"))
            .unwrap();
        assert_eq!(three.len(), 3);
        assert_eq!(three.profiles().filter(|p| p.is_empty()).count(), 3);
        let bad = r#"[{"a": {"b": {"c": true, "d": 2}, "e": "y"}, "g": -2}, {"g": 0}]"#;
        assert!(e
            .dense_list_seed(10)
            .deserialize(&mut serde_json::Deserializer::from_str(bad))
            .is_err());
    }
}
