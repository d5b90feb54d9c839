//! The analyser off the main loop: one worker thread compiles the latest successfully
//! checked version of each document (with a node limit) and computes the shares of
//! allow/deny/lockout and, per path, of profiles for which it is available and first.
//! Requests never wait on it longer than a short bound.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use lsp_types::Uri;
use regain::analyze::{PathShare, Shares};
use regain::{CompileOptions, Engine, Policy};

/// The node limit above which the lens says the analysis was skipped.
pub const NODE_LIMIT: usize = 200_000;

/// The analyser's answer for one version of a document.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Shares of the whole policy and, indexed like its paths, per path.
    Shares(Shares, Vec<PathShare>),
    /// Compilation gave up (node limit).
    Skipped(String),
}

/// An answer with the document version it is for.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The document version analysed.
    pub version: i32,
    /// The names of its paths, in order.
    pub paths: Vec<String>,
    /// What the analyser found.
    pub outcome: Outcome,
}

struct Job {
    uri: Uri,
    version: i32,
    policy: Policy,
}

#[derive(Default)]
struct State {
    pending: Vec<Job>,
    answers: HashMap<Uri, Answer>,
}

/// The worker and its shared state.
#[derive(Clone)]
pub struct Analyser {
    shared: Arc<(Mutex<State>, Condvar)>,
}

/// Analyse one policy (bounded by the node limit).
pub fn analyse(policy: &Policy) -> Outcome {
    analyse_within(policy, NODE_LIMIT)
}

/// Analyse one policy unless its graph has more than `node_limit` nodes.
fn analyse_within(policy: &Policy, node_limit: usize) -> Outcome {
    match Engine::with_options(policy, CompileOptions { node_limit }) {
        Ok(engine) => Outcome::Shares(
            regain::analyze::decision_shares(&engine),
            regain::analyze::path_shares(&engine),
        ),
        Err(e) => Outcome::Skipped(e.to_string()),
    }
}

impl Analyser {
    /// Start the worker; `done` is called (on the worker) after each answer.
    pub fn start(done: impl Fn(&Uri) + Send + 'static) -> Analyser {
        let a = Analyser {
            shared: Arc::new((Mutex::new(State::default()), Condvar::new())),
        };
        let shared = a.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("regain-lsp-analyse".into())
            .spawn(move || loop {
                let job = {
                    let (lock, cv) = &*shared;
                    let Ok(mut st) = lock.lock() else { return };
                    loop {
                        if let Some(j) = st.pending.pop() {
                            break j;
                        }
                        st = match cv.wait(st) {
                            Ok(s) => s,
                            Err(_) => return,
                        };
                    }
                };
                let outcome = std::panic::catch_unwind(|| analyse(&job.policy))
                    .unwrap_or_else(|_| Outcome::Skipped("the analyser failed".into()));
                let answer = Answer {
                    version: job.version,
                    paths: job
                        .policy
                        .ir()
                        .paths
                        .iter()
                        .map(|p| p.name.clone())
                        .collect(),
                    outcome,
                };
                {
                    let (lock, cv) = &*shared;
                    let Ok(mut st) = lock.lock() else { return };
                    st.answers.insert(job.uri.clone(), answer);
                    cv.notify_all();
                }
                done(&job.uri);
            });
        if spawned.is_err() {
            eprintln!("regain lsp: could not start the analyser thread; code lenses are off");
        }
        a
    }

    /// Queue the latest version of a document (replacing any queued older one).
    pub fn submit(&self, uri: Uri, version: i32, policy: Policy) {
        let (lock, cv) = &*self.shared;
        if let Ok(mut st) = lock.lock() {
            st.pending.retain(|j| j.uri != uri);
            st.pending.push(Job {
                uri,
                version,
                policy,
            });
            cv.notify_all();
        }
    }

    /// Forget a closed document.
    pub fn forget(&self, uri: &Uri) {
        let (lock, _) = &*self.shared;
        if let Ok(mut st) = lock.lock() {
            st.pending.retain(|j| &j.uri != uri);
            st.answers.remove(uri);
        }
    }

    /// The latest answer for a document, whatever its version.
    pub fn latest(&self, uri: &Uri) -> Option<Answer> {
        let (lock, _) = &*self.shared;
        lock.lock().ok()?.answers.get(uri).cloned()
    }

    /// The answer for `version` of a document, waiting at most `wait` for it; `None`
    /// when it is not ready in time.
    pub fn answer(&self, uri: &Uri, version: i32, wait: Duration) -> Option<Answer> {
        let deadline = Instant::now() + wait;
        let (lock, cv) = &*self.shared;
        let mut st = lock.lock().ok()?;
        loop {
            if let Some(a) = st.answers.get(uri) {
                if a.version == version {
                    return Some(a.clone());
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            st = cv.wait_timeout(st, left).ok()?.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "policy p
facts { a: bool  b: bool  c: bool }
methods { m: knowledge requires a  n: possession requires b or c }
path one { steps m grants x }
path two { steps n grants x }
";

    #[test]
    fn shares_within_the_limit_and_skipped_above_it() {
        let policy = Policy::parse(SRC).unwrap();
        let Outcome::Shares(s, paths) = analyse(&policy) else {
            panic!("analysed within the limit")
        };
        assert!((s.allow + s.deny + s.lockout - 1.0).abs() < 1e-9);
        assert!((s.allow - 7.0 / 8.0).abs() < 1e-9, "{s:?}");
        assert_eq!(paths.len(), 2);
        assert!((paths[0].available - 0.5).abs() < 1e-9);
        match analyse_within(&policy, 1) {
            Outcome::Skipped(why) => assert!(why.contains("node"), "{why}"),
            Outcome::Shares(..) => panic!("one node cannot hold the graph"),
        }
    }
}
