//! Analysis and diff: exact shares against brute-force enumeration, regions that are
//! disjoint, cover exactly their decision and parse as conditions, one fixture per lint,
//! and diff regions against evaluating both versions.

mod common;

use proptest::prelude::*;
use regain::analyze::{self, diff};
use regain::check::ir::{FactType, Ir};
use regain::{CompileOptions, Decision, DecisionKind, Engine, Policy};

/// Every profile of a small policy's space (None when the space is too large).
fn all_profiles(ir: &Ir, cap: u64) -> Option<Vec<Vec<i64>>> {
    let sizes: Vec<u64> = ir.facts.iter().map(|f| f.ty.size() as u64).collect();
    let total = sizes.iter().try_fold(1u64, |a, b| a.checked_mul(*b))?;
    if total > cap {
        return None;
    }
    Some(
        (0..total)
            .map(|mut k| {
                ir.facts
                    .iter()
                    .zip(&sizes)
                    .map(|(f, n)| {
                        let i = (k % n) as i64;
                        k /= n;
                        f.ty.bounds().0 + i
                    })
                    .collect()
            })
            .collect(),
    )
}

fn facts_block(ir: &Ir) -> String {
    ir.facts
        .iter()
        .map(|f| format!("  {}: {}\n", f.name, f.ty.describe()))
        .collect()
}

/// A condition in the language, compiled against the facts of `ir`.
fn condition(ir: &Ir, cond: &str) -> Policy {
    let src = format!(
        "policy c\nfacts {{\n{}}}\nmethods {{ m: human }}\ndeny \"r\" when {cond}\npath p {{ steps m grants r }}\n",
        facts_block(ir)
    );
    Policy::parse(&src).unwrap_or_else(|e| panic!("condition does not parse: {cond}\n{e}"))
}

fn key(d: &Decision) -> (DecisionKind, Vec<String>, Vec<String>) {
    (
        d.kind(),
        d.path_names().iter().map(|s| s.to_string()).collect(),
        d.denied_by().to_vec(),
    )
}

fn check_analysis(src: &str) {
    let policy = Policy::parse(src).unwrap();
    let engine = Engine::new(&policy).unwrap();
    let ir = policy.ir();
    let Some(profiles) = all_profiles(ir, 3000) else {
        return;
    };
    let a = analyze::analyze(&engine);
    assert!(!a.truncated);
    let n = profiles.len() as f64;
    let mut counts = [0f64; 3];
    let decisions: Vec<Decision> = profiles
        .iter()
        .map(|v| regain::interp::decide(ir, v))
        .collect();
    for d in &decisions {
        counts[match d.kind() {
            DecisionKind::Allow => 0,
            DecisionKind::Deny => 1,
            DecisionKind::Lockout => 2,
        }] += 1.0;
    }
    assert!(
        (a.shares.allow - counts[0] / n).abs() < 1e-9,
        "allow {} vs {}",
        a.shares.allow,
        counts[0] / n
    );
    assert!((a.shares.deny - counts[1] / n).abs() < 1e-9);
    assert!((a.shares.lockout - counts[2] / n).abs() < 1e-9);
    // Each profile lies in exactly one region, whose decision is the profile's.
    let conds: Vec<Policy> = a
        .regions
        .iter()
        .map(|r| condition(ir, &r.condition))
        .collect();
    let mut in_region = vec![0f64; a.regions.len()];
    for (v, d) in profiles.iter().zip(&decisions) {
        let hits: Vec<usize> = conds
            .iter()
            .enumerate()
            .filter(|(_, c)| c.ir().denies[0].when.eval(v))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(hits.len(), 1, "profile {v:?} in regions {hits:?}\n{src}");
        let r = &a.regions[hits[0]];
        assert_eq!(
            (r.decision, r.paths.clone(), r.denied_by.clone()),
            key(d),
            "profile {v:?} region {}",
            r.condition
        );
        in_region[hits[0]] += 1.0;
    }
    for (r, c) in a.regions.iter().zip(&in_region) {
        assert!(
            (r.share - c / n).abs() < 1e-9,
            "{}: {} vs {}",
            r.condition,
            r.share,
            c / n
        );
    }
    // `paths`: a profile satisfies `available` iff the path is offered, `first` iff it
    // is offered first; shares are exact.
    assert_eq!(a.paths.0.len(), ir.paths.len());
    for (pi, (name, p)) in a.paths.0.iter().enumerate() {
        assert_eq!(name, &ir.paths[pi].name);
        let avail = condition(ir, &p.available.condition);
        let first = condition(ir, &p.first.condition);
        let (mut na, mut nf) = (0f64, 0f64);
        for (v, d) in profiles.iter().zip(&decisions) {
            let offered = d.paths().iter().any(|o| o.path_index() == pi);
            let is_first = d.paths().first().is_some_and(|o| o.path_index() == pi);
            assert_eq!(
                avail.ir().denies[0].when.eval(v),
                offered,
                "{name} available {v:?}: {}",
                p.available.condition
            );
            assert_eq!(
                first.ir().denies[0].when.eval(v),
                is_first,
                "{name} first {v:?}: {}",
                p.first.condition
            );
            na += offered as u8 as f64;
            nf += is_first as u8 as f64;
        }
        assert!((p.available.share - na / n).abs() < 1e-9);
        assert!((p.first.share - nf / n).abs() < 1e-9);
    }
    // `lockout`: the union of its conditions is exactly the lockout region, each share
    // is its own condition's, and no condition is redundant.
    let lock: Vec<Policy> = a
        .lockout
        .conditions
        .iter()
        .map(|c| condition(ir, &c.condition))
        .collect();
    let mut own = vec![0f64; lock.len()];
    let mut only = vec![0usize; lock.len()];
    for (v, d) in profiles.iter().zip(&decisions) {
        let hits: Vec<usize> = (0..lock.len())
            .filter(|i| lock[*i].ir().denies[0].when.eval(v))
            .collect();
        assert_eq!(
            !hits.is_empty(),
            d.kind() == DecisionKind::Lockout,
            "lockout {v:?}"
        );
        for h in &hits {
            own[*h] += 1.0;
        }
        if let [h] = hits.as_slice() {
            only[*h] += 1;
        }
    }
    for (i, c) in a.lockout.conditions.iter().enumerate() {
        assert!((c.share - own[i] / n).abs() < 1e-9, "{}", c.condition);
        assert!(only[i] > 0, "redundant lockout condition {}", c.condition);
    }
    assert!((a.lockout.share - counts[2] / n).abs() < 1e-9);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn shares_and_regions_match_brute_force(seed in any::<u64>(), size in 0u32..4) {
        check_analysis(&common::policy(seed, size).source);
    }

    #[test]
    fn diff_matches_evaluating_both(seed in any::<u64>(), size in 0u32..4) {
        let old = common::policy(seed, size).source;
        let new = mutate(&old, seed);
        check_diff(&old, &new);
    }
}

/// A small edit: flip an `and`/`or`, drop a `when`, or add a fact and use it.
fn mutate(src: &str, seed: u64) -> String {
    match seed % 4 {
        0 if src.contains(" and ") => src.replacen(" and ", " or ", 1),
        1 if src.contains(" or ") => src.replacen(" or ", " and ", 1),
        2 => {
            let mut lines: Vec<&str> = src.lines().collect();
            if let Some(i) = lines
                .iter()
                .position(|l| l.trim_start().starts_with("when "))
            {
                lines.remove(i);
            }
            lines.join("\n")
        }
        _ => src
            .replacen("facts {\n", "facts {\n  extra.flag: bool\n", 1)
            .replacen("  grants reset\n", "  when extra.flag\n  grants reset\n", 1)
            .replacen(
                "  when extra.flag\n  grants reset\n",
                "  grants reset\n",
                if src.contains("path p0 {\n  when") {
                    1
                } else {
                    0
                },
            ),
    }
}

fn check_diff(old_src: &str, new_src: &str) {
    let old = Policy::parse(old_src).unwrap();
    let new = match Policy::parse(new_src) {
        Ok(p) => p,
        Err(_) => return, // a mutation that does not check (e.g. two `when`s)
    };
    let d = diff::diff(&old, &new, CompileOptions::default()).unwrap();
    // The universe: old facts, then new-only facts.
    let mut uni = old.ir().clone();
    for f in &new.ir().facts {
        if uni.fact_id(&f.name).is_none() {
            uni.facts.push(f.clone());
        }
    }
    let Some(profiles) = all_profiles(&uni, 4000) else {
        return;
    };
    let project = |ir: &Ir, v: &[i64]| -> Vec<i64> {
        ir.facts
            .iter()
            .map(|f| {
                let i = uni.fact_id(&f.name).unwrap().index();
                match (&f.ty, &uni.facts[i].ty) {
                    (FactType::Enum(vs), FactType::Enum(us)) => {
                        let name = &us[v[i] as usize];
                        vs.iter().position(|x| x == name).unwrap() as i64
                    }
                    _ => v[i],
                }
            })
            .collect()
    };
    let conds: Vec<Policy> = d
        .regions
        .iter()
        .map(|r| condition(&uni, &r.condition))
        .collect();
    let mut differing = 0f64;
    for v in &profiles {
        let a = regain::interp::decide(old.ir(), &project(old.ir(), v));
        let b = regain::interp::decide(new.ir(), &project(new.ir(), v));
        let differs = !a.same_as(&b);
        let hits: Vec<usize> = conds
            .iter()
            .enumerate()
            .filter(|(_, c)| c.ir().denies[0].when.eval(v))
            .map(|(i, _)| i)
            .collect();
        if differs {
            differing += 1.0;
            assert_eq!(hits.len(), 1, "{v:?} differs but lies in regions {hits:?}");
            let r = &d.regions[hits[0]];
            assert!(same_side(&r.old, &a), "{v:?}: old {:?} vs {a:?}", r.old);
            assert!(same_side(&r.new, &b), "{v:?}: new {:?} vs {b:?}", r.new);
            assert!(!r.kinds.is_empty());
        } else {
            assert!(
                hits.is_empty(),
                "{v:?} is decided alike but lies in a diff region"
            );
        }
    }
    let material = d.changes.iter().any(|c| c.material);
    assert_eq!(d.equivalent, differing == 0.0 && !material);
    assert!((d.share - differing / profiles.len() as f64).abs() < 1e-9);
    assert!((d.summary.differing - d.share).abs() < 1e-12);
}

/// A diff side equals a decision in everything but titles.
fn same_side(s: &diff::Side, d: &Decision) -> bool {
    s.decision == d.kind()
        && s.denied_by == d.denied_by()
        && s.paths.len() == d.paths().len()
        && s.paths.iter().zip(d.paths()).all(|(x, y)| x.same_as(y))
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// One edit of every kind DESIGN.md names: each is reported (or not) as it should be,
/// with the right old → new values, and the regions match brute force.
#[test]
fn one_edit_variants_are_reported_with_old_and_new() {
    use diff::ChangeKind::*;
    let base = fixture("tests/fixtures/diff/base.regain");
    // (edit name, from, to, expected region kinds, expected change `what`, equivalent)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a [diff::ChangeKind],
        &'a str,
        bool,
    );
    let cases: &[Case] = &[
        (
            "wait",
            "  wait 48h\n",
            "",
            &[WaitChanged],
            "path.wait",
            false,
        ),
        (
            "grants",
            "  steps sms_code then any 1 of (questions, bank_card)\n  grants reset_password",
            "  steps sms_code then any 1 of (questions, bank_card)\n  grants full_access",
            &[GrantsChanged],
            "path.grants",
            false,
        ),
        (
            "notify",
            "  notify email_link\n}",
            "  notify sms_code\n}",
            &[NotifyChanged],
            "path.notify",
            false,
        ),
        (
            "step order",
            "any 1 of (questions, bank_card, email_link)",
            "any 1 of (bank_card, questions, email_link)",
            &[StepsChanged],
            "path.steps",
            false,
        ),
        (
            "restricted",
            "possession restricted requires",
            "possession requires",
            &[],
            "method.restricted",
            false,
        ),
        (
            "factor",
            "bank_card:  possession",
            "bank_card:  knowledge",
            &[],
            "method.factor",
            false,
        ),
        (
            "requires",
            "questions.set >= 2",
            "questions.set >= 3",
            &[],
            "method.requires",
            false,
        ),
        (
            "default",
            "frozen:        bool = false",
            "frozen:        bool = true",
            &[],
            "fact.default",
            true,
        ),
        (
            "title",
            "\"Human review\"",
            "\"Review by a person\"",
            &[],
            "path.title",
            true,
        ),
        (
            "requires rewritten, same meaning",
            "questions.set >= 2",
            "not questions.set < 2",
            &[],
            "",
            true,
        ),
    ];
    let old = Policy::parse(&base).unwrap();
    for (name, from, to, kinds, what, equivalent) in cases {
        assert!(base.contains(from), "{name}: edit does not apply");
        let edited = base.replacen(from, to, 1);
        let new = Policy::parse(&edited).unwrap_or_else(|e| panic!("{name}: {e}"));
        let d = diff::diff(&old, &new, CompileOptions::default()).unwrap();
        assert_eq!(d.equivalent, *equivalent, "{name}: equivalent");
        for k in *kinds {
            assert!(
                d.regions.iter().any(|r| r.kinds.contains(k)),
                "{name}: no region of kind {k:?}"
            );
        }
        if what.is_empty() {
            assert!(d.changes.is_empty(), "{name}: {:?}", d.changes);
        } else {
            let c = d.changes.iter().find(|c| c.what == *what);
            let c = c.unwrap_or_else(|| panic!("{name}: no change {what}: {:?}", d.changes));
            assert_ne!(c.old, c.new, "{name}");
            assert!(
                c.old_location.is_some() && c.new_location.is_some(),
                "{name}"
            );
        }
        check_diff(&base, &edited);
    }
    // The removed 48-hour hold, old → new values.
    let new = Policy::parse(&base.replacen("  wait 48h\n", "", 1)).unwrap();
    let d = diff::diff(&old, &new, CompileOptions::default()).unwrap();
    let r = &d.regions[0];
    let o = r.old.paths.iter().find(|p| p.name() == "support").unwrap();
    let n = r.new.paths.iter().find(|p| p.name() == "support").unwrap();
    assert_eq!((o.wait_s(), n.wait_s()), (172_800, 0));
    assert_eq!(d.summary.groups[0].kind, WaitChanged);
}

#[test]
fn diff_summary_puts_new_lockouts_first() {
    let base = fixture("tests/fixtures/diff/base.regain");
    // Support no longer takes email as evidence: those without questions or a usable
    // card, whose email path is closed by risk, are newly locked out.
    let edited = base.replacen(
        "any 1 of (questions, bank_card, email_link)",
        "any 1 of (questions, bank_card)",
        1,
    );
    let old = Policy::parse(&base).unwrap();
    let new = Policy::parse(&edited).unwrap();
    let d = diff::diff(&old, &new, CompileOptions::default()).unwrap();
    assert!(d.summary.lockout.new > d.summary.lockout.old);
    let gained: f64 = d
        .regions
        .iter()
        .filter(|r| r.kinds.contains(&diff::ChangeKind::LockoutGained))
        .map(|r| r.share)
        .sum();
    assert!((d.summary.lockout.new - d.summary.lockout.old - gained).abs() < 1e-9);
    assert!(!d.summary.lockout.newly_locked_out.is_empty());
    assert_eq!(d.summary.groups[0].kind, diff::ChangeKind::LockoutGained);
    check_diff(&base, &edited);
}

#[test]
fn diff_of_a_policy_with_itself_is_empty() {
    for name in ["alipay", "consumer", "entra_sspr"] {
        let src = std::fs::read_to_string(format!(
            "{}/policies/{name}.regain",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let p = Policy::parse(&src).unwrap();
        let d = diff::diff(&p, &p, CompileOptions::default()).unwrap();
        assert!(
            d.equivalent && d.regions.is_empty() && d.share == 0.0,
            "{name}"
        );
    }
}

#[test]
fn diff_rejects_a_changed_kind_of_fact_and_lists_a_changed_range() {
    let a = Policy::parse("policy a facts { n: int 0..5 } methods { m: human requires n > 1 } path p { steps m grants r }").unwrap();
    let b = Policy::parse(
        "policy a facts { n: bool } methods { m: human requires n } path p { steps m grants r }",
    )
    .unwrap();
    let e = diff::diff(&a, &b, CompileOptions::default()).unwrap_err();
    assert!(e.to_string().contains("`n`"), "{e}");
    let c = Policy::parse("policy a facts { n: int 0..9 } methods { m: human requires n > 1 } path p { steps m grants r }").unwrap();
    let d = diff::diff(&a, &c, CompileOptions::default()).unwrap();
    let ch = d.changes.iter().find(|c| c.what == "fact.domain").unwrap();
    assert_eq!(
        (ch.old.as_deref(), ch.new.as_deref()),
        (Some("int 0..5"), Some("int 0..9"))
    );
}

#[test]
fn every_lint_has_a_fixture_that_triggers_it_and_clean_triggers_none() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lints");
    for code in analyze::LintCode::ALL {
        if *code == analyze::LintCode::A009 {
            continue; // needs a policy too large to list: see analysis_of_a_large_policy
        }
        let src = std::fs::read_to_string(dir.join(format!("{}.regain", code.as_str())))
            .unwrap_or_else(|_| panic!("no fixture for {}", code.as_str()));
        let p = Policy::parse_named(&format!("{}.regain", code.as_str()), &src).unwrap();
        let a = analyze::analyze(&Engine::new(&p).unwrap());
        let f = a.findings.iter().find(|f| f.code == code.as_str());
        let f = f.unwrap_or_else(|| panic!("{} not triggered: {:?}", code.as_str(), a.findings));
        assert!(f
            .location
            .starts_with(&format!("{}.regain:", code.as_str())));
    }
    let src = std::fs::read_to_string(dir.join("clean.regain")).unwrap();
    let a = analyze::analyze(&Engine::new(&Policy::parse(&src).unwrap()).unwrap());
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    check_analysis(&src);
}

#[test]
fn lint_fixtures_and_shipped_policies_match_brute_force() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lints");
    for e in std::fs::read_dir(dir).unwrap() {
        check_analysis(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
}

#[test]
fn alipay_names_the_seed_case() {
    // Phone out of service, no email, no questions: locked out unless identity or bank
    // card can be checked, in which case human review (support) takes them.
    let src = std::fs::read_to_string(format!(
        "{}/policies/alipay.regain",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let p = Policy::parse_named("policies/alipay.regain", &src).unwrap();
    let a = analyze::analyze(&Engine::new(&p).unwrap());
    let lockouts: Vec<&str> = a
        .regions
        .iter()
        .filter(|r| r.decision == DecisionKind::Lockout)
        .map(|r| r.condition.as_str())
        .collect();
    assert!(
        lockouts.iter().any(|c| c.contains("not phone.active")
            && c.contains("questions.set <= 1")
            && c.contains("not identity.verified")),
        "{lockouts:?}"
    );
    assert!(a.regions.iter().any(|r| r.decision == DecisionKind::Allow
        && r.paths == ["support"]
        && r.condition.contains("not phone.active")
        && r.condition.contains("not email.bound")));
    insta::assert_snapshot!(analyze_human("policies/alipay.regain"));
}

fn analyze_human(rel: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regain"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["analyze", rel, "--top", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn diff_human_output() {
    let dir = std::env::temp_dir().join(format!("regain-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join("old.regain");
    let new = dir.join("new.regain");
    std::fs::write(&old, "policy p\nfacts { phone.active: bool  questions.set: int 0..5 }\nmethods { sms: possession restricted requires phone.active  q: knowledge requires questions.set >= 2  k: human }\npath sms { steps sms then q grants r notify sms }\npath support { steps q then k grants r wait 2d notify sms }\n").unwrap();
    std::fs::write(&new, "policy p\nfacts { phone.active: bool  questions.set: int 0..5  email.bound: bool }\nmethods { sms: possession restricted requires phone.active  q: knowledge requires questions.set >= 3  e: possession requires email.bound  k: human }\npath sms { steps sms then q grants r notify sms }\npath email { steps e then q grants r notify sms, e }\npath support { steps q then k grants r wait 2d notify sms }\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_regain"))
        .current_dir(&dir)
        .args(["diff", "old.regain", "new.regain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
    let same = std::process::Command::new(env!("CARGO_BIN_EXE_regain"))
        .args(["diff"])
        .arg(&old)
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(same.status.code(), Some(0));
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_regain"))
        .args(["diff", "no/such.regain"])
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(66));
}

#[test]
fn analysis_of_a_generated_policy_is_exact_and_complete() {
    let src = common::shared::generated(100, 16, 7);
    let policy = Policy::parse(&src).unwrap();
    let engine = Engine::new(&policy).unwrap();
    let a = analyze::analyze(&engine);
    let total = a.shares.allow + a.shares.deny + a.shares.lockout;
    assert!((total - 1.0).abs() < 1e-9);
    let listed: f64 = a.regions.iter().map(|r| r.share).sum();
    if a.truncated {
        assert!(a.findings.iter().any(|f| f.code == "A009"));
        assert!(listed < 1.0 + 1e-9);
    } else {
        assert!((listed - 1.0).abs() < 1e-9, "regions cover {listed}");
    }
}

/// Dead rules are found by their position, not their text: of two deny rules with the
/// same reason, the one that can never fire is named.
#[test]
fn a_dead_deny_rule_sharing_its_reason_is_reported() {
    let src = "policy dead\nfacts {\n  a: bool\n  b: bool\n}\nmethods {\n  m: human requires b\n}\ndeny \"r\" when a\ndeny \"r\" when a and not a\npath p {\n  steps m\n  grants r\n  wait 1d\n  notify m\n}\n";
    let p = Policy::parse_named("dead.regain", src).unwrap();
    let a = analyze::analyze(&Engine::new(&p).unwrap());
    let dead: Vec<_> = a.findings.iter().filter(|f| f.code == "A003").collect();
    assert_eq!(dead.len(), 1, "{:?}", a.findings);
    assert_eq!(dead[0].location, "dead.regain:10:1");
    assert!(dead[0].message.contains("#2"));
}

/// Findings acknowledged in the policy or a baseline are listed as such and do not fail
/// `--deny-warnings`; an acknowledgement that matches nothing is itself a finding.
#[test]
fn acknowledged_findings_do_not_fail_deny_warnings() {
    let dir = std::env::temp_dir().join(format!("regain-ack-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = fixture("tests/fixtures/diff/base.regain");
    let plain = dir.join("plain.regain");
    std::fs::write(&plain, &base).unwrap();
    let plain = plain.to_str().unwrap();
    let (code, _, _) = common::regain(&["analyze", plain, "--deny-warnings"]);
    assert_eq!(code, 1, "A005 fails --deny-warnings");

    let acked = base.replacen(
        "path sms \"SMS code\" {",
        "# regain: allow A005 \"no channel left: branch visit\"\npath sms \"SMS code\" {",
        1,
    );
    let file = dir.join("acked.regain");
    std::fs::write(&file, &acked).unwrap();
    let (code, out, _) = common::regain(&[
        "analyze",
        file.to_str().unwrap(),
        "--deny-warnings",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &j["findings"][0];
    assert_eq!(f["code"], "A005");
    assert_eq!(f["acknowledged"]["by"], "comment");
    assert_eq!(f["acknowledged"]["reason"], "no channel left: branch visit");

    // An acknowledgement of nothing is reported and fails --deny-warnings.
    let stray = acked.replacen(
        "path email \"Email link\" {",
        "path email \"Email link\" {  # regain: allow L003 \"x\"",
        1,
    );
    std::fs::write(&file, &stray).unwrap();
    let (code, out, _) = common::regain(&["analyze", file.to_str().unwrap(), "--deny-warnings"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("A010") && out.contains("acknowledges nothing"),
        "{out}"
    );

    // A baseline written once acknowledges the same findings by code and item.
    let bl = dir.join("baseline.json");
    let (code, _, _) =
        common::regain(&["analyze", plain, "--write-baseline", bl.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, out, _) = common::regain(&[
        "analyze",
        plain,
        "--baseline",
        bl.to_str().unwrap(),
        "--deny-warnings",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("acknowledged in the baseline"), "{out}");
    std::fs::write(&bl, "{ not json").unwrap();
    let (code, _, err) = common::regain(&["analyze", plain, "--baseline", bl.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not a regain baseline"), "{err}");
}

/// `analyze --model` weighs by the population: its deny and lockout shares equal the
/// exact simulation's outcomes, whole and per segment, and regions add up to them.
#[test]
fn model_weighted_analysis_equals_exact_simulation() {
    for p in ["alipay", "consumer", "entra_sspr"] {
        let policy = format!("policies/{p}.regain");
        let model = format!("policies/{p}.model.yaml");
        let (code, out, err) =
            common::regain(&["analyze", &policy, "--model", &model, "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let a: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(a["measure"], "model");
        let (code, out, err) =
            common::regain(&["simulate", &policy, "--exact", "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let s: serde_json::Value = serde_json::from_str(&out).unwrap();
        let close = |x: &serde_json::Value, y: &serde_json::Value| {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9
        };
        assert!(
            close(&a["shares"]["lockout"], &s["outcomes"]["lockout"]["share"]),
            "{p}"
        );
        assert!(
            close(&a["shares"]["deny"], &s["outcomes"]["denied"]["share"]),
            "{p}"
        );
        for (name, seg) in a["segments"].as_object().unwrap() {
            let sim = &s["segments"][name]["outcomes"];
            assert!(
                close(&seg["shares"]["lockout"], &sim["lockout"]["share"]),
                "{p} {name}"
            );
            assert!(
                close(&seg["shares"]["deny"], &sim["denied"]["share"]),
                "{p} {name}"
            );
        }
        for kind in ["allow", "deny", "lockout"] {
            let sum: f64 = a["regions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["decision"] == kind)
                .map(|r| r["share"].as_f64().unwrap())
                .sum();
            assert!(
                (sum - a["shares"][kind].as_f64().unwrap()).abs() < 1e-9,
                "{p} {kind}"
            );
        }
    }
}
