//! Replays every stored fuzz input through the fuzz targets' own checks
//! (`fuzz/checks/mod.rs`): the minimised corpora in `fuzz/corpus/<target>/` and the
//! crash inputs in `fuzz/artifacts-found/<target>/`, so CI exercises every input the
//! fuzzers ever found (FUZZING.md).
//!
//! A crash input whose bug is not fixed yet is listed in [`KNOWN`] and replayed by its
//! own `#[ignore]` test (run them with `cargo test --test fuzz_replay -- --ignored`);
//! once the bug is fixed, delete its entry and its test, and the input replays here.

#[path = "../fuzz/checks/mod.rs"]
mod checks;

use std::path::{Path, PathBuf};

/// Crash inputs of bugs not fixed yet: (target/file under fuzz/artifacts-found, panic).
const KNOWN: &[(&str, &str)] = &[];

/// Replay one known crash input: fails until its bug is fixed.
#[allow(dead_code, reason = "used while KNOWN lists an unfixed crash")]
fn known(file: &str) {
    assert!(
        KNOWN.iter().any(|(k, _)| *k == file),
        "{file} is not in KNOWN"
    );
    let (target, _) = file.split_once('/').expect("target/file");
    let path = fuzz_dir().join("artifacts-found").join(file);
    if let Err(e) = run_one(target, &path) {
        panic!("{e}");
    }
}

/// Issue 9's shard with `"of": 18446744073709551615` (a capacity overflow, once): now an
/// error, never a panic.
#[test]
fn shard_of_u64_max_is_an_error() {
    let path = fuzz_dir().join("artifacts-found/shard/issue9-of-u64-max.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        regain::simulate::parse_shard(&text).is_err() || {
            let s = regain::simulate::parse_shard(&text).unwrap();
            regain::simulate::merge(&[("x".into(), s)]).is_err()
        }
    );
    run_one("shard", &path).unwrap();
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn check_of(target: &str) -> fn(&[u8]) {
    checks::TARGETS
        .iter()
        .find(|(n, _)| *n == target)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzz target `{target}`"))
}

/// Run one input; the error names the file.
fn run_one(target: &str, path: &Path) -> Result<(), String> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let check = check_of(target);
    std::panic::catch_unwind(|| check(&data)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("{}: {msg}", path.display())
    })
}

/// Replay a target's corpus and its fixed crash inputs; returns how many ran.
fn replay(target: &str) -> usize {
    let root = fuzz_dir();
    let corpus = files(&root.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target} is empty: the replay would test nothing"
    );
    let found: Vec<PathBuf> = files(&root.join("artifacts-found").join(target))
        .into_iter()
        .filter(|p| {
            let rel = format!("{target}/{}", p.file_name().unwrap().to_string_lossy());
            !KNOWN.iter().any(|(k, _)| *k == rel)
        })
        .collect();
    let failures: Vec<String> = corpus
        .iter()
        .chain(&found)
        .filter_map(|p| run_one(target, p).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs fail:\n{}",
        failures.len(),
        corpus.len() + found.len(),
        failures.join("\n---\n")
    );
    corpus.len() + found.len()
}

#[test]
fn parse_check() {
    replay("parse_check");
}

#[test]
fn profile_json() {
    replay("profile_json");
}

#[test]
fn profile_yaml() {
    replay("profile_yaml");
}

#[test]
fn model() {
    replay("model");
}

#[test]
fn suite() {
    replay("suite");
    checks::cleanup();
}

#[test]
fn shard() {
    replay("shard");
}

#[test]
fn differential() {
    replay("differential");
}

#[test]
fn diff() {
    replay("diff");
}

#[test]
fn every_target_has_a_replay_and_every_known_crash_a_file() {
    let names: Vec<&str> = checks::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "parse_check",
            "profile_json",
            "profile_yaml",
            "model",
            "suite",
            "shard",
            "differential",
            "diff"
        ]
    );
    for (file, _) in KNOWN {
        assert!(
            fuzz_dir().join("artifacts-found").join(file).is_file(),
            "known crash input {file} is missing"
        );
    }
    if let Some(f) = files(&fuzz_dir().join("corpus")).first() {
        panic!("stray file in fuzz/corpus: {}", f.display());
    }
}

/// The checks can fail: a policy whose fmt output would lose a comment is caught.
#[test]
fn comment_check_can_fail() {
    let src = "policy p # kept\n";
    checks::assert_comments_kept(src, "policy p  # kept\n");
    let lost = std::panic::catch_unwind(|| checks::assert_comments_kept(src, "policy p\n"));
    assert!(lost.is_err(), "a lost comment must fail the check");
    let moved = std::panic::catch_unwind(|| {
        checks::assert_comments_kept("# a\npolicy p # b\n", "# b\npolicy p # a\n")
    });
    assert!(moved.is_err(), "reordered comments must fail the check");
}
