//! # regain — account-recovery policies: language, compiler, analyser, simulator
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! source ──syntax──▶ AST (spans) ──check──▶ IR (indices, typed) ──graph::compile──▶ decision graph
//!                                              │                                      │
//!                                       interp (the oracle)                  Engine::evaluate
//! ```
//!
//! ```
//! let source = r#"
//!   policy demo
//!   facts { phone.active: bool  questions.set: int 0..5 }
//!   methods {
//!     sms_code: possession restricted requires phone.active
//!     questions: knowledge requires questions.set >= 2
//!   }
//!   path sms { steps sms_code grants reset_password notify sms_code }
//!   path questions { steps questions grants reset_password }
//! "#;
//! let policy = regain::Policy::parse(source)?;
//! let engine = regain::Engine::new(&policy)?;
//! let profile = engine.profile_from_json(r#"{"phone": {"active": false}, "questions.set": 3}"#)?;
//! let decision = engine.evaluate(&profile);
//! assert_eq!(decision.kind(), regain::DecisionKind::Allow);
//! assert_eq!(decision.path_names(), ["questions"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]
// The lint wall (as Cedar's): library code does not unwrap, expect, panic or index
// unchecked. Each remaining exception is an `#[allow(..., reason = "...")]` at the
// smallest scope that needs it. Tests are exempt (clippy.toml).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod analyze;
pub mod check;
pub mod decision;
pub mod diagnostic;
pub mod explain;
pub mod fmt;
pub mod graph;
pub mod interp;
pub mod profile;
#[cfg(feature = "report")]
pub mod report;
#[cfg(feature = "serve")]
pub mod serve;
pub mod simulate;
pub mod source;
pub mod stack;
pub mod suite;
pub mod syntax;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use check::ir::Ir;
pub use decision::{Decision, DecisionKind, Offer};
pub use diagnostic::{Code, Diagnostic, Diagnostics, Severity};
pub use graph::compile::{CompileError, CompileOptions};
pub use graph::DecisionGraph;
pub use profile::{Profile, ProfileBuilder, ProfileError};

/// A parsed and checked policy.
#[derive(Clone, Debug)]
pub struct Policy {
    ir: Arc<Ir>,
    /// The profile keys of the facts, for reading JSON profiles.
    keys: Arc<profile::KeyIndex>,
    name: String,
    source: Arc<str>,
    warnings: Vec<Diagnostic>,
}

impl Policy {
    /// Parse and check a policy. The error holds every diagnostic (errors and warnings).
    pub fn parse(source: &str) -> Result<Policy, Diagnostics> {
        Policy::parse_named("<policy>", source)
    }

    /// Like [`Policy::parse`], naming the file in diagnostics' locations.
    pub fn parse_named(name: &str, source: &str) -> Result<Policy, Diagnostics> {
        let src: Arc<str> = Arc::from(source);
        let diags = |items| Diagnostics {
            name: name.to_string(),
            source: src.clone(),
            items,
        };
        let file = syntax::parse(source).map_err(diags)?;
        let (ir, items) = check::check(&file);
        match ir {
            Some(ir) => Ok(Policy {
                keys: Arc::new(profile::KeyIndex::new(&ir)),
                ir: Arc::new(ir),
                name: name.to_string(),
                source: src.clone(),
                warnings: items,
            }),
            None => Err(diags(items)),
        }
    }

    /// Check a source file and summarise it as `regain check --format json` does for
    /// one file: ok, error and warning counts, declaration counts when it checks, and
    /// every diagnostic. Also returns the policy when it checks, else its diagnostics.
    pub fn check_report(
        name: &str,
        source: &str,
    ) -> (diagnostic::CheckReport, Result<Policy, Diagnostics>) {
        let policy = Policy::parse_named(name, source);
        let diags = match &policy {
            Ok(p) => p.warnings(),
            Err(d) => d.clone(),
        };
        let counts = policy.as_ref().ok().map(|p| diagnostic::Counts {
            facts: p.ir.facts.len(),
            methods: p.ir.methods.len(),
            denies: p.ir.denies.len(),
            paths: p.ir.paths.len(),
        });
        let report = diagnostic::CheckReport {
            file: name.to_string(),
            ok: !diags.has_errors(),
            errors: diags.errors().count(),
            warnings: diags.warnings().count(),
            counts,
            diagnostics: diags.views(),
        };
        (report, policy)
    }

    /// The checked form: facts, methods, deny rules and paths by index.
    pub fn ir(&self) -> &Ir {
        &self.ir
    }

    /// The same policy with a modified checked form (e.g. another `wait` or `any N of`
    /// count, as `simulate --set` does), keeping its name, source and warnings. The IR
    /// must keep the policy's facts and methods (their indices are shared).
    pub fn with_ir(&self, ir: Ir) -> Policy {
        Policy {
            keys: Arc::new(profile::KeyIndex::new(&ir)),
            ir: Arc::new(ir),
            ..self.clone()
        }
    }

    /// The file name given to [`Policy::parse_named`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The warnings found while checking.
    pub fn warnings(&self) -> Diagnostics {
        Diagnostics {
            name: self.name.clone(),
            source: self.source.clone(),
            items: self.warnings.clone(),
        }
    }

    /// A profile from JSON text (nested or dotted keys), validated against the facts.
    pub fn profile_from_json(&self, json: &str) -> Result<Profile, ProfileError> {
        Ok(Profile::from_values(profile::values_from_json(
            &self.ir, &self.keys, json,
        )?))
    }

    /// A profile from YAML text.
    pub fn profile_from_yaml(&self, yaml: &str) -> Result<Profile, ProfileError> {
        let node = profile::parse_yaml(yaml)?;
        Ok(Profile::from_values(profile::values_from_node(
            &self.ir, &node,
        )?))
    }

    /// The decision of the reference interpreter (slow; the oracle the graph is tested
    /// against). Use [`Engine::evaluate`] in services.
    pub fn decide(&self, profile: &Profile) -> Decision {
        if profile.values.len() != self.ir.facts.len() {
            return Decision::fail_closed();
        }
        interp::decide(&self.ir, &profile.values)
    }
}

static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);

/// A compiled policy, ready to evaluate profiles. `Send + Sync`; evaluation never
/// allocates, never panics and never fails once a profile is validated.
#[derive(Debug)]
pub struct Engine {
    policy: Policy,
    graph: DecisionGraph,
    stamp: u64,
    fail_closed: Decision,
}

impl Engine {
    /// Compile a policy with the default node limit.
    pub fn new(policy: &Policy) -> Result<Engine, CompileError> {
        Engine::with_options(policy, CompileOptions::default())
    }

    /// Compile a policy with explicit options.
    pub fn with_options(policy: &Policy, opts: CompileOptions) -> Result<Engine, CompileError> {
        // Compilation runs on the big-stack worker (`stack::run_big`): its recursion depth
        // grows with the number of facts.
        let compiled = graph::compile::compile(&policy.ir, opts)?;
        Ok(Engine {
            policy: policy.clone(),
            graph: DecisionGraph::new(compiled),
            stamp: NEXT_STAMP.fetch_add(1, Ordering::Relaxed),
            fail_closed: Decision::fail_closed(),
        })
    }

    /// The policy this engine was compiled from.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The decision graph.
    pub fn graph(&self) -> &DecisionGraph {
        &self.graph
    }

    fn finish(&self, values: Vec<i64>) -> Profile {
        let classes: Vec<u32> = values
            .iter()
            .zip(&self.graph.c.classes)
            .map(|(v, c)| c.of(*v).unwrap_or(0))
            .collect();
        Profile {
            values: values.into_boxed_slice(),
            classes: classes.into_boxed_slice(),
            stamp: self.stamp,
        }
    }

    /// A validated profile from JSON text, with its value classes computed once.
    pub fn profile_from_json(&self, json: &str) -> Result<Profile, ProfileError> {
        Ok(self.finish(profile::values_from_json(
            &self.policy.ir,
            &self.policy.keys,
            json,
        )?))
    }

    /// A validated profile from YAML text.
    pub fn profile_from_yaml(&self, yaml: &str) -> Result<Profile, ProfileError> {
        let node = profile::parse_yaml(yaml)?;
        Ok(self.finish(profile::values_from_node(&self.policy.ir, &node)?))
    }

    /// A validated profile from an already-parsed JSON value.
    pub fn profile_from_value(&self, value: &serde_json::Value) -> Result<Profile, ProfileError> {
        let node: profile::Node = serde::Deserialize::deserialize(value)
            .map_err(|e: serde_json::Error| ProfileError::new(None, e.to_string()))?;
        Ok(self.finish(profile::values_from_node(&self.policy.ir, &node)?))
    }

    /// A validated profile from a [`profile::Document`] read from any serde source
    /// (e.g. Python objects); the same validation as [`Engine::profile_from_json`].
    pub fn profile_from_document(&self, doc: &profile::Document) -> Result<Profile, ProfileError> {
        Ok(self.finish(profile::values_from_node(&self.policy.ir, doc.node())?))
    }

    /// Dense values set by fact index without messages: the fast path for readers that
    /// resolve keys themselves ([`profile::key_levels`]); see [`profile::DenseValues`].
    pub fn dense_values(&self) -> profile::DenseValues<'_> {
        profile::DenseValues::new(&self.policy.ir, self)
    }

    /// A serde seed that reads a JSON array of at most `limit` profiles into their dense
    /// values in one pass (see [`profile::DenseListSeed`]); evaluate each of
    /// [`profile::DenseList::profiles`] with [`Engine::terminal_of`].
    pub fn dense_list_seed(&self, limit: usize) -> profile::DenseListSeed<'_> {
        profile::DenseListSeed::new(&self.policy.ir, &self.policy.keys, limit)
    }

    /// A JSON array of at most `limit` profiles read straight into their dense values
    /// by a byte scanner (no serde; about twice as fast as [`Engine::dense_list_seed`]),
    /// or `None` when the text is anything else: a bad item, more than `limit` items,
    /// or JSON the scanner leaves to serde (escapes in strings, fractions, exponents,
    /// `-0`). Then read it with [`Engine::dense_list_seed`], or the items one by one
    /// with [`Engine::profile_from_json`] for the messages.
    pub fn dense_list_from_json(&self, text: &[u8], limit: usize) -> Option<profile::DenseList> {
        profile::scan::list(&self.policy.ir, &self.policy.keys, text, limit)
    }

    /// `{"<field>": [profiles…]}`, an object whose only key is `field` (written without
    /// escapes) holding a list of at most `limit` profiles — the batch body of
    /// `regain serve` — read by the byte scanner; `None` as for
    /// [`Engine::dense_list_from_json`], or when the object holds anything else.
    pub fn dense_list_from_json_object(
        &self,
        text: &[u8],
        field: &str,
        limit: usize,
    ) -> Option<profile::DenseList> {
        profile::scan::wrapped_list(&self.policy.ir, &self.policy.keys, text, field, limit)
    }

    /// A typed builder: `engine.builder().bool("phone.active", false).int("questions.set", 3).build()`.
    pub fn builder(&self) -> ProfileBuilder<'_> {
        ProfileBuilder::new(&self.policy.ir, self)
    }

    /// The index of the terminal decision for dense, in-domain values (classified on the
    /// fly). Used by the simulator.
    pub fn terminal_of(&self, values: &[i64]) -> Option<usize> {
        let cls = &self.graph.c.classes;
        self.graph.walk(|f| {
            values
                .get(f)
                .and_then(|v| cls.get(f).and_then(|c| c.of(*v)))
        })
    }

    /// The decision of a terminal index from [`Engine::terminal_of`]; `None` (or an
    /// index of no terminal) is the fail-closed deny.
    pub fn decision_at(&self, terminal: Option<usize>) -> &Decision {
        terminal
            .and_then(|t| self.graph.c.decisions.get(t))
            .unwrap_or(&self.fail_closed)
    }

    /// The value classes of dense values, written into `out` (one per fact; 0 for a
    /// value outside its domain). With [`Engine::terminal_of_classes`], the simulator's
    /// fast path: classifying fact by fact in a fixed order keeps branches predictable.
    pub fn classify_into(&self, values: &[i64], out: &mut [u32]) {
        for ((o, v), c) in out.iter_mut().zip(values).zip(&self.graph.c.classes) {
            *o = c.of(*v).unwrap_or(0);
        }
    }

    /// The index of the terminal decision for value classes from [`Engine::classify_into`].
    pub fn terminal_of_classes(&self, classes: &[u32]) -> Option<usize> {
        self.graph.walk(|f| classes.get(f).copied())
    }

    /// The decision for a profile. Allocation-free. A profile built by another engine is
    /// classified on the fly; one of another policy's shape fails closed (deny).
    #[inline]
    pub fn evaluate(&self, profile: &Profile) -> &Decision {
        let found = if profile.stamp == self.stamp {
            let classes = &profile.classes;
            self.graph.walk(|f| classes.get(f).copied())
        } else if profile.values.len() == self.policy.ir.facts.len() {
            let cls = &self.graph.c.classes;
            let values = &profile.values;
            self.graph.walk(|f| {
                values
                    .get(f)
                    .and_then(|v| cls.get(f).and_then(|c| c.of(*v)))
            })
        } else {
            None
        };
        found
            .and_then(|d| self.graph.c.decisions.get(d))
            .unwrap_or(&self.fail_closed)
    }
}

impl profile::Finish for Engine {
    fn finish(&self, values: Vec<i64>) -> Profile {
        Engine::finish(self, values)
    }
}
