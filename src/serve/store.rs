//! The loaded policies and their reloading (design/serve.md "Policies and reloading").
//!
//! Every file is known by the sha256 of its bytes. A reload re-reads every file; a file
//! whose hash changed is checked and compiled, and on success its policy is replaced by
//! swapping the whole snapshot at once (a request holds one snapshot's `Arc<Loaded>`
//! for its whole life, so it sees one revision). A file that fails keeps its last good
//! revision serving and records the failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::decision::EvalView;
use crate::{Decision, Engine, Policy};

use super::metrics::{Metrics, PolicyLabel, PolicyMetrics, RevisionLabels};

/// One policy ready to serve.
pub struct Loaded {
    /// The name of its `policy NAME` declaration.
    pub name: String,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// `sha256:` and the hex digest of the source bytes.
    pub revision: String,
    /// The compiled policy.
    pub engine: Engine,
    /// When this revision was loaded.
    pub loaded_at: SystemTime,
    /// Metric handles.
    pub metrics: PolicyMetrics,
    /// The facts written to the decision log (`--log-fields` this policy declares).
    pub log_fields: Vec<usize>,
    /// Each terminal decision's `result` object, serialized once.
    rendered: Vec<Box<RawValue>>,
    /// The same for the fail-closed decision.
    rendered_fail: Box<RawValue>,
    /// Per terminal decision, its decision-log fragment
    /// `"decision":…,"paths":[…],"denied_by":[…]`, rendered once at load.
    log_fragments: Vec<String>,
    /// The same for the fail-closed decision.
    log_fragment_fail: String,
    /// `"policy":…,"revision":…` for the decision log.
    pub log_head: String,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("name", &self.name)
            .field("file", &self.file)
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

/// A decision's decision-log fields (design/serve.md "Decision log").
fn log_fragment(d: &Decision) -> String {
    #[derive(serde::Serialize)]
    struct Fields<'a> {
        decision: crate::DecisionKind,
        paths: Vec<&'a str>,
        denied_by: &'a [String],
    }
    let text = serde_json::to_string(&Fields {
        decision: d.kind(),
        paths: d.path_names(),
        denied_by: d.denied_by(),
    })
    .unwrap_or_else(|_| "{}".into());
    // Without the braces: the fields go inside the line's object.
    text.get(1..text.len().saturating_sub(1))
        .unwrap_or_default()
        .to_string()
}

fn render(d: &Decision) -> Option<Box<RawValue>> {
    let text = serde_json::to_string(&EvalView {
        decision: d,
        explain: None,
    })
    .ok()?;
    RawValue::from_string(text).ok()
}

impl Loaded {
    fn new(
        policy: Policy,
        engine: Engine,
        file: &Path,
        revision: String,
        metrics: &Metrics,
        log_fields: &[String],
    ) -> Loaded {
        let name = policy.ir().name.clone();
        let rendered = engine
            .graph()
            .decisions()
            .iter()
            .map(|d| render(d).unwrap_or_else(empty))
            .collect();
        let rendered_fail = render(&Decision::fail_closed()).unwrap_or_else(empty);
        let log_fragments = engine
            .graph()
            .decisions()
            .iter()
            .map(log_fragment)
            .collect();
        let log_fragment_fail = log_fragment(&Decision::fail_closed());
        let log_head =
            serde_json::to_string(&serde_json::json!({"policy": name, "revision": revision}))
                .ok()
                .and_then(|t| t.get(1..t.len().saturating_sub(1)).map(str::to_string))
                .unwrap_or_default();
        let log_fields = log_fields
            .iter()
            .filter_map(|f| policy.ir().fact_id(f).map(|id| id.index()))
            .collect();
        Loaded {
            metrics: PolicyMetrics::new(metrics, &name),
            name,
            file: file.to_path_buf(),
            revision,
            engine,
            loaded_at: SystemTime::now(),
            log_fields,
            rendered,
            rendered_fail,
            log_fragments,
            log_fragment_fail,
            log_head,
        }
    }

    /// The index of `d` among the graph's terminal decisions (`None`: fail closed).
    pub fn terminal(&self, d: &Decision) -> Option<usize> {
        let all = self.engine.graph().decisions();
        let size = std::mem::size_of::<Decision>().max(1);
        let offset = (d as *const Decision as usize).wrapping_sub(all.as_ptr() as usize);
        let i = offset / size;
        all.get(i).filter(|x| std::ptr::eq(*x, d)).map(|_| i)
    }

    /// The `result` object of a decision without explanation, serialized once at load.
    pub fn rendered(&self, terminal: Option<usize>) -> &RawValue {
        terminal
            .and_then(|i| self.rendered.get(i))
            .unwrap_or(&self.rendered_fail)
    }

    /// The decision-log fragment of a terminal index (`None`: fail closed).
    pub fn log_fragment(&self, terminal: Option<usize>) -> &str {
        terminal
            .and_then(|i| self.log_fragments.get(i))
            .unwrap_or(&self.log_fragment_fail)
    }

    /// The decision of a terminal index.
    pub fn decision(&self, terminal: Option<usize>) -> Decision {
        terminal
            .and_then(|i| self.engine.graph().decisions().get(i))
            .cloned()
            .unwrap_or_else(Decision::fail_closed)
    }

    /// The listing entry (`GET /v1/policies`), with `error` the failure of its file.
    pub fn describe(&self, error: Option<&Failure>) -> Value {
        let ir = self.engine.policy().ir();
        json!({
            "name": self.name,
            "revision": self.revision,
            "file": self.file.display().to_string(),
            "facts": ir.facts.iter().map(|f| json!({
                "name": f.name,
                "type": f.ty.describe(),
                "default": f.default.map(|v| f.show(v)),
            })).collect::<Vec<_>>(),
            "methods": ir.methods.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            "paths": ir.paths.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            "loaded_at": humantime::format_rfc3339_millis(self.loaded_at).to_string(),
            "error": error.map(Failure::to_json),
        })
    }
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".into()).unwrap_or_else(|_| Box::<RawValue>::default())
}

/// Why a file's newest content is not serving.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The file.
    pub file: PathBuf,
    /// The policy it serves (its last good revision), or would serve.
    pub policy: Option<String>,
    /// What went wrong, one line.
    pub message: String,
    /// The diagnostics, when the source does not check.
    pub diagnostics: Option<Box<crate::Diagnostics>>,
}

impl Failure {
    /// `{"policy", "file", "message", "diagnostics"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "policy": self.policy,
            "file": self.file.display().to_string(),
            "message": self.message,
            "diagnostics": self.diagnostics.as_deref().map(super::diagnostics_json).unwrap_or_default(),
        })
    }
}

/// What requests see: the serving policies by name and the failures.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Serving policies by name.
    pub policies: BTreeMap<String, Arc<Loaded>>,
    /// Files whose newest content failed.
    pub failures: Vec<Failure>,
}

impl Snapshot {
    /// The failure of a policy's file, if its newest content failed.
    pub fn failure_of(&self, policy: &str) -> Option<&Failure> {
        self.failures
            .iter()
            .find(|f| f.policy.as_deref() == Some(policy))
    }
}

/// One file's state between reloads.
struct FileState {
    hash: [u8; 32],
    loaded: Option<Arc<Loaded>>,
    failure: Option<Failure>,
}

/// The policies: the snapshot requests read, and the per-file state reloads update.
pub struct Store {
    paths: Vec<PathBuf>,
    log_fields: Vec<String>,
    files: Mutex<BTreeMap<PathBuf, FileState>>,
    snapshot: ArcSwap<Snapshot>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

/// The `*.regain` files named by `paths` (a folder gives the files directly inside it,
/// sorted), or why a path cannot be listed.
pub fn policy_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Failure>) {
    let mut out = Vec::new();
    let mut failures = Vec::new();
    for p in paths {
        if p.is_dir() {
            match std::fs::read_dir(p) {
                Ok(entries) => {
                    let mut inside: Vec<PathBuf> = entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|f| f.extension().is_some_and(|x| x == "regain") && f.is_file())
                        .collect();
                    inside.sort();
                    out.extend(inside);
                }
                Err(e) => failures.push(Failure {
                    file: p.clone(),
                    policy: None,
                    message: format!("cannot read folder `{}`: {e}", p.display()),
                    diagnostics: None,
                }),
            }
        } else if p.exists() {
            out.push(p.clone());
        }
        // A named file that does not exist (any more) serves nothing: deleting a file
        // removes its policy.
    }
    (out, failures)
}

/// The revision text of source bytes.
pub fn revision_of(hash: &[u8; 32]) -> String {
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn compile(file: &Path, bytes: &[u8]) -> Result<(Policy, Engine), Failure> {
    let fail = |message: String, diagnostics| Failure {
        file: file.to_path_buf(),
        policy: None,
        message,
        diagnostics,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        fail(
            format!(
                "`{}` is not UTF-8 text (invalid byte at offset {})",
                file.display(),
                e.valid_up_to()
            ),
            None,
        )
    })?;
    let policy = Policy::parse_named(&file.display().to_string(), text).map_err(|d| {
        let errors = d.errors().count();
        fail(
            format!(
                "{}: {errors} error{}",
                file.display(),
                if errors == 1 { "" } else { "s" }
            ),
            Some(Box::new(d)),
        )
    })?;
    let engine =
        Engine::new(&policy).map_err(|e| fail(format!("{}: {e}", file.display()), None))?;
    Ok((policy, engine))
}

impl Store {
    /// An empty store for `paths`; call [`Store::reload`] to load them.
    pub fn new(paths: Vec<PathBuf>, log_fields: Vec<String>) -> Store {
        Store {
            paths,
            log_fields,
            files: Mutex::new(BTreeMap::new()),
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// A cheap view of the current snapshot, for the request path.
    pub fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    /// Re-read every file, load what changed, publish the new snapshot. Returns the
    /// failures (files whose newest content is not serving). Blocking: run it on a
    /// blocking thread.
    pub fn reload(&self, metrics: &Metrics) -> Vec<Failure> {
        let Ok(mut files) = self.files.lock() else {
            return Vec::new();
        };
        let (list, mut failures) = policy_files(&self.paths);
        let mut next: BTreeMap<PathBuf, FileState> = BTreeMap::new();
        for file in list {
            let prev = files.remove(&file);
            let bytes = match std::fs::read(&file) {
                Ok(b) => b,
                // Gone between listing and reading: as deleted.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    let message = format!("cannot read `{}`: {e}", file.display());
                    let loaded = prev.and_then(|p| p.loaded);
                    next.insert(
                        file.clone(),
                        FileState {
                            hash: [0; 32],
                            failure: Some(Failure {
                                file: file.clone(),
                                policy: loaded.as_ref().map(|l| l.name.clone()),
                                message,
                                diagnostics: None,
                            }),
                            loaded,
                        },
                    );
                    continue;
                }
            };
            let hash: [u8; 32] = Sha256::digest(&bytes).into();
            if let Some(p) = prev {
                if p.hash == hash {
                    next.insert(file, p);
                    continue;
                }
                let state = self.load_file(&file, &bytes, hash, p.loaded, metrics);
                next.insert(file, state);
            } else {
                let state = self.load_file(&file, &bytes, hash, None, metrics);
                next.insert(file, state);
            }
        }
        // Publish: names must be unique; the first file (in path order) keeps a name.
        let mut policies: BTreeMap<String, Arc<Loaded>> = BTreeMap::new();
        for (file, state) in next.iter_mut() {
            if let Some(l) = &state.loaded {
                if let Some(other) = policies.get(&l.name) {
                    let message = format!(
                        "policy `{}` is already loaded from `{}`",
                        l.name,
                        other.file.display()
                    );
                    let failure = Failure {
                        file: file.clone(),
                        policy: None,
                        message,
                        diagnostics: None,
                    };
                    failures.push(failure.clone());
                    state.failure = Some(failure);
                    state.loaded = None;
                    continue;
                }
                policies.insert(l.name.clone(), l.clone());
            }
            if let Some(f) = &state.failure {
                failures.push(f.clone());
            }
        }
        // Metrics of the policies that stopped serving or changed revision.
        let old = self.snapshot.load_full();
        for (name, l) in &old.policies {
            if policies.get(name).is_none_or(|n| n.revision != l.revision) {
                metrics.policy_info.remove(&RevisionLabels {
                    policy: name.clone(),
                    revision: l.revision.clone(),
                });
            }
            if !policies.contains_key(name) {
                metrics.last_reload.remove(&PolicyLabel {
                    policy: name.clone(),
                });
            }
        }
        for (name, l) in &policies {
            metrics
                .policy_info
                .get_or_create(&RevisionLabels {
                    policy: name.clone(),
                    revision: l.revision.clone(),
                })
                .set(1);
        }
        *files = next;
        self.snapshot.store(Arc::new(Snapshot {
            policies,
            failures: failures.clone(),
        }));
        failures
    }

    fn load_file(
        &self,
        file: &Path,
        bytes: &[u8],
        hash: [u8; 32],
        previous: Option<Arc<Loaded>>,
        metrics: &Metrics,
    ) -> FileState {
        match compile(file, bytes) {
            Ok((policy, engine)) => {
                let loaded = Loaded::new(
                    policy,
                    engine,
                    file,
                    revision_of(&hash),
                    metrics,
                    &self.log_fields,
                );
                let secs = loaded
                    .loaded_at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0);
                metrics
                    .last_reload
                    .get_or_create(&PolicyLabel {
                        policy: loaded.name.clone(),
                    })
                    .set(secs);
                FileState {
                    hash,
                    loaded: Some(Arc::new(loaded)),
                    failure: None,
                }
            }
            Err(mut failure) => {
                failure.policy = previous.as_ref().map(|l| l.name.clone());
                let label = failure
                    .policy
                    .clone()
                    .unwrap_or_else(|| file.display().to_string());
                metrics
                    .reload_failures
                    .get_or_create(&PolicyLabel { policy: label })
                    .inc();
                FileState {
                    hash,
                    loaded: previous,
                    failure: Some(failure),
                }
            }
        }
    }
}
