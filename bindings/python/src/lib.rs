//! The `regain` Python module (design/python.md): thin PyO3 bindings over the `regain`
//! library. Every answer comes from the library; every JSON-shaped answer is the very
//! object the CLI prints with `--format json`, converted to Python values.

use std::sync::{Arc, OnceLock};

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde::Serialize;

create_exception!(
    regain,
    Error,
    PyValueError,
    "Every error of the regain package (a ValueError)."
);
create_exception!(
    regain,
    PolicyError,
    Error,
    "A policy that does not parse or check; `.diagnostics` lists every diagnostic as a dict."
);
create_exception!(
    regain,
    ProfileError,
    Error,
    "A profile that does not fit the policy's facts; `.fact` names the first fact concerned, \
     `.problems` lists every problem, `.index` is the position in `evaluate_many`."
);
create_exception!(
    regain,
    ModelError,
    Error,
    "A simulation model that does not fit the policy; `.location` is where in the model."
);

/// A JSON value (any `Serialize`) as Python values: the same object the CLI prints.
fn to_py<'py, T: Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    // Through serde_json's value so that the Python object is exactly the CLI's JSON
    // (non-finite floats become None as in JSON, key order is kept).
    let value = serde_json::to_value(v).map_err(|e| Error::new_err(e.to_string()))?;
    Ok(pythonize::pythonize(py, &value)?)
}

fn error_with(py: Python<'_>, err: PyErr, attrs: &[(&str, Bound<'_, PyAny>)]) -> PyErr {
    let value = err.value(py);
    for (k, v) in attrs {
        if let Err(e) = value.setattr(*k, v) {
            return e;
        }
    }
    err
}

/// The diagnostics of a file as the CLI's JSON objects.
fn diagnostics_py<'py>(py: Python<'py>, d: &regain::Diagnostics) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, &d.views())
}

fn policy_error(py: Python<'_>, d: &regain::Diagnostics) -> PyErr {
    let errors = d.errors().count();
    let mut message = d.errors().next().map_or_else(
        || format!("{}: the policy does not check", d.name),
        |e| d.plain(e),
    );
    if errors > 1 {
        message.push_str(&format!(
            "\n… and {} more errors (all in .diagnostics)",
            errors - 1
        ));
    }
    let err = PolicyError::new_err(message);
    match diagnostics_py(py, d) {
        Ok(list) => error_with(py, err, &[("diagnostics", list)]),
        Err(e) => e,
    }
}

fn profile_error(py: Python<'_>, e: &regain::ProfileError, index: Option<usize>) -> PyErr {
    let message = match index {
        Some(i) => format!("profiles[{i}]: {e}"),
        None => e.to_string(),
    };
    let err = ProfileError::new_err(message);
    let problems: Vec<serde_json::Value> = e
        .problems
        .iter()
        .map(|p| serde_json::json!({"fact": p.fact, "message": p.message}))
        .collect();
    let attrs = (|| -> PyResult<Vec<(&str, Bound<'_, PyAny>)>> {
        Ok(vec![
            ("fact", e.fact.clone().into_pyobject(py)?.into_any()),
            ("problems", to_py(py, &problems)?),
            ("index", index.into_pyobject(py)?.into_any()),
        ])
    })();
    match attrs {
        Ok(a) => error_with(py, err, &a),
        Err(e) => e,
    }
}

fn model_error(py: Python<'_>, e: &regain::simulate::model::ModelError) -> PyErr {
    let err = ModelError::new_err(e.to_string());
    match e.location.clone().into_pyobject(py) {
        Ok(loc) => error_with(py, err, &[("location", loc.into_any())]),
        Err(e) => e.into(),
    }
}

fn sim_error(py: Python<'_>, e: &regain::simulate::SimError) -> PyErr {
    match e {
        regain::simulate::SimError::Model(m) => model_error(py, m),
        other => Error::new_err(other.to_string()),
    }
}

/// A parsed and checked policy: `regain.Policy(source, name="<policy>")`.
#[pyclass(frozen, module = "regain", name = "Policy")]
struct Policy {
    inner: regain::Policy,
}

/// Policy source text, or a `Policy`.
fn policy_of(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<regain::Policy> {
    if let Ok(p) = source.cast::<Policy>() {
        return Ok(p.get().inner.clone());
    }
    let text: String = source.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "expected policy source text (str) or a regain.Policy",
        )
    })?;
    regain::Policy::parse(&text).map_err(|d| policy_error(py, &d))
}

#[pymethods]
impl Policy {
    #[new]
    #[pyo3(signature = (source, name = "<policy>"))]
    fn new(py: Python<'_>, source: &str, name: &str) -> PyResult<Policy> {
        regain::Policy::parse_named(name, source)
            .map(|inner| Policy { inner })
            .map_err(|d| policy_error(py, &d))
    }

    /// The policy's name (`policy NAME`).
    #[getter]
    fn name(&self) -> String {
        self.inner.ir().name.clone()
    }

    /// The source text.
    #[getter]
    fn source(&self) -> String {
        self.inner.source().to_string()
    }

    /// The warnings found while checking, as diagnostic dicts.
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        diagnostics_py(py, &self.inner.warnings())
    }

    /// Declared fact names, in declaration order.
    #[getter]
    fn facts(&self) -> Vec<String> {
        self.inner
            .ir()
            .facts
            .iter()
            .map(|f| f.name.clone())
            .collect()
    }

    /// Path names, in declaration (preference) order.
    #[getter]
    fn path_names(&self) -> Vec<String> {
        self.inner
            .ir()
            .paths
            .iter()
            .map(|p| p.name.clone())
            .collect()
    }

    fn __repr__(&self) -> String {
        format!("<regain.Policy {}>", self.inner.ir().name)
    }
}

/// One offered path, with the methods the person can use at each step.
#[pyclass(frozen, module = "regain", name = "Path")]
struct Path {
    offer: Arc<regain::Offer>,
}

#[pymethods]
impl Path {
    #[getter]
    fn name(&self) -> &str {
        self.offer.name()
    }
    #[getter]
    fn title(&self) -> Option<&str> {
        self.offer.title()
    }
    /// Per step, the usable methods (every usable one, in listed order).
    #[getter]
    fn steps(&self) -> Vec<Vec<String>> {
        self.offer.steps().to_vec()
    }
    #[getter]
    fn grants(&self) -> &str {
        self.offer.grants()
    }
    #[getter]
    fn wait_s(&self) -> u64 {
        self.offer.wait_s()
    }
    #[getter]
    fn notify(&self) -> Vec<String> {
        self.offer.notify().to_vec()
    }
    /// The path object of `regain eval --format json`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.offer)
    }
    fn __repr__(&self) -> String {
        format!("<regain.Path {}>", self.offer.name())
    }
}

/// The decision for one profile. Immutable; equal decisions of one engine are one object.
#[pyclass(frozen, module = "regain", name = "Decision")]
struct Decision {
    inner: regain::Decision,
}

#[pymethods]
impl Decision {
    /// `"allow"`, `"deny"` or `"lockout"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().as_str()
    }
    /// The offered paths, in order of preference (empty unless allow).
    #[getter]
    fn paths(&self) -> Vec<Path> {
        self.inner
            .paths()
            .iter()
            .map(|o| Path { offer: o.clone() })
            .collect()
    }
    /// The reasons of every matching deny rule (empty unless deny).
    #[getter]
    fn denied_by(&self) -> Vec<String> {
        self.inner.denied_by().to_vec()
    }
    /// Exactly the object `regain eval --format json` prints.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.to_json(None))
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Decision>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.inner.hash(&mut h);
        h.finish()
    }
    fn __repr__(&self) -> String {
        let d = &self.inner;
        match d.kind() {
            regain::DecisionKind::Allow => {
                format!("<regain.Decision allow: {}>", d.path_names().join(", "))
            }
            regain::DecisionKind::Deny => {
                format!("<regain.Decision deny: {}>", d.denied_by().join("; "))
            }
            regain::DecisionKind::Lockout => "<regain.Decision lockout>".into(),
        }
    }
}

/// The compiled engine and one Python `Decision` per terminal of its graph (made on
/// first use), plus the fail-closed decision at the end.
struct Compiled {
    engine: regain::Engine,
    decisions: Vec<OnceLock<Py<Decision>>>,
}

impl Compiled {
    /// The terminal index of dense, validated values: their position in the graph's
    /// terminals (the library's [`regain::Engine::terminal_of`], the walk of
    /// `Engine::evaluate`), or `len` for the fail-closed decision.
    fn terminal(&self, values: &[i64]) -> usize {
        let len = self.engine.graph().decisions().len();
        match self.engine.terminal_of(values) {
            Some(i) if i < len => i,
            _ => len,
        }
    }

    fn decision(&self, py: Python<'_>, index: usize) -> PyResult<Py<Decision>> {
        let all = self.engine.graph().decisions();
        let Some(slot) = self.decisions.get(index) else {
            return Err(Error::new_err("internal: decision index out of range"));
        };
        if let Some(d) = slot.get() {
            return Ok(d.clone_ref(py));
        }
        let inner = all
            .get(index)
            .cloned()
            .unwrap_or_else(regain::Decision::fail_closed);
        let made = Py::new(py, Decision { inner })?;
        Ok(slot.get_or_init(|| made).clone_ref(py))
    }

    /// The terminal index of a profile read by the fast path (`values`) or of a document,
    /// which the library validates here.
    fn evaluate(&self, read: Read<'_>) -> Result<usize, regain::ProfileError> {
        match read {
            Read::Fast(values) => Ok(self.terminal(values)),
            Read::Doc(doc) => {
                let profile = self.engine.profile_from_document(&doc?)?;
                Ok(self.terminal(profile.values()))
            }
        }
    }
}

/// The keys of profile documents as Python dicts (from the library's
/// `profile::key_levels`): per level, `{key: code}` with `2 * fact` for a fact and
/// `2 * level + 1` for a group; per enum fact, `{variant: index}`. Reading a dict then
/// needs no string copies: keys and variants are found by Python's own dict lookup.
struct Keys {
    levels: Vec<Py<PyDict>>,
    variants: Vec<Option<Py<PyDict>>>,
}

impl Keys {
    fn new(py: Python<'_>, ir: &regain::Ir) -> PyResult<Keys> {
        let mut levels = Vec::new();
        for level in regain::profile::key_levels(ir) {
            let d = PyDict::new(py);
            for (name, target) in level {
                let code = match target {
                    regain::profile::KeyTarget::Fact(i) => 2 * i,
                    regain::profile::KeyTarget::Group(g) => 2 * g + 1,
                };
                d.set_item(PyString::intern(py, &name), code)?;
            }
            levels.push(d.unbind());
        }
        let mut variants = Vec::new();
        for f in &ir.facts {
            variants.push(match &f.ty {
                regain::check::ir::FactType::Enum(vs) => {
                    let d = PyDict::new(py);
                    for (i, v) in vs.iter().enumerate() {
                        d.set_item(PyString::intern(py, v), i)?;
                    }
                    Some(d.unbind())
                }
                _ => None,
            });
        }
        Ok(Keys { levels, variants })
    }
}

/// The fast path: a plain, valid profile dict read straight into dense values (one per
/// fact), the library checking each value ([`regain::profile::DenseValues`]). `None` on
/// anything unusual or wrong; the caller then reads the dict as a document, which gives
/// the library's errors.
fn fast_profile(engine: &regain::Engine, keys: &Keys, obj: &Bound<'_, PyAny>) -> Option<Vec<i64>> {
    use pyo3::types::{PyBool, PyInt};
    let py = obj.py();
    let top = obj.cast::<PyDict>().ok()?;
    let mut d = engine.dense_values();
    let mut work: Vec<(Bound<'_, PyDict>, usize)> = vec![(top.clone(), 0)];
    while let Some((dict, level)) = work.pop() {
        let table = keys.levels.get(level)?.bind(py);
        for (k, v) in dict.iter() {
            if !k.is_instance_of::<PyString>() {
                return None;
            }
            let code: usize = table.get_item(&k).ok()??.extract().ok()?;
            let i = code / 2;
            if code % 2 == 1 {
                work.push((v.cast_into::<PyDict>().ok()?, i));
            } else if v.is_instance_of::<PyBool>() {
                d.bool(i, v.is_truthy().ok()?);
            } else if let Ok(n) = v.cast::<PyInt>() {
                d.int(i, n.extract().ok()?);
            } else if v.is_instance_of::<PyString>() {
                let table = keys.variants.get(i)?.as_ref()?.bind(py);
                let variant: usize = table.get_item(&v).ok()??.extract().ok()?;
                d.variant(i, variant);
            } else {
                return None;
            }
        }
    }
    d.finish_values()
}

/// A profile read by the fast path (its dense values), or as a document to validate
/// (the slow path).
enum Read<'a> {
    Fast(&'a [i64]),
    Doc(Result<regain::profile::Document, regain::ProfileError>),
}

/// A profile as a document (dict of facts, nested or dotted keys).
fn document(obj: &Bound<'_, PyAny>) -> Result<regain::profile::Document, regain::ProfileError> {
    if !obj.is_instance_of::<PyDict>() && obj.cast::<pyo3::types::PyMapping>().is_err() {
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        return Err(regain::ProfileError::new(
            None,
            format!("a profile must be a dict of facts, found {ty}"),
        ));
    }
    pythonize::depythonize::<regain::profile::Document>(obj)
        .map_err(|e| regain::ProfileError::new(None, format!("cannot read the profile: {e}")))
}

/// A compiled policy: `regain.Engine(policy)`. Immutable and thread-safe: share one
/// engine between threads.
#[pyclass(frozen, module = "regain", name = "Engine")]
struct Engine {
    compiled: Arc<Compiled>,
    keys: Keys,
    policy: Py<Policy>,
}

#[pymethods]
impl Engine {
    /// Compile a `Policy` (or policy source text) into its decision graph.
    #[new]
    fn new(py: Python<'_>, policy: &Bound<'_, PyAny>) -> PyResult<Engine> {
        let policy = policy_of(py, policy)?;
        let p = policy.clone();
        let engine = py
            .detach(move || regain::Engine::new(&p))
            .map_err(|e| Error::new_err(e.to_string()))?;
        let n = engine.graph().decisions().len() + 1;
        let keys = Keys::new(py, policy.ir())?;
        Ok(Engine {
            keys,
            compiled: Arc::new(Compiled {
                engine,
                decisions: (0..n).map(|_| OnceLock::new()).collect(),
            }),
            policy: Py::new(py, Policy { inner: policy })?,
        })
    }

    /// The policy this engine was compiled from.
    #[getter]
    fn policy(&self, py: Python<'_>) -> Py<Policy> {
        self.policy.clone_ref(py)
    }

    /// The decision for one profile (a dict: nested or dotted keys).
    fn evaluate(&self, py: Python<'_>, profile: &Bound<'_, PyAny>) -> PyResult<Py<Decision>> {
        let c = &self.compiled;
        let read = match fast_profile(&c.engine, &self.keys, profile) {
            Some(values) => c.evaluate(Read::Fast(&values)),
            None => c.evaluate(Read::Doc(document(profile))),
        };
        let index = read.map_err(|e| profile_error(py, &e, None))?;
        c.decision(py, index)
    }

    /// The decisions for many profiles, in order. The profiles are read with the GIL
    /// held, then validated and evaluated with it released. `errors="raise"` raises
    /// `ProfileError` (with `.index`) for the first bad profile; `errors="return"` puts
    /// `{"schema", "index", "error", "fact"}` in its place.
    #[pyo3(signature = (profiles, errors = "raise"))]
    fn evaluate_many<'py>(
        &self,
        py: Python<'py>,
        profiles: &Bound<'py, PyAny>,
        errors: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let keep_going = match errors {
            "raise" => false,
            "return" => true,
            other => {
                return Err(PyValueError::new_err(format!(
                    "errors must be \"raise\" or \"return\", not {other:?}"
                )))
            }
        };
        // Read with the GIL held: plain dicts (the fast path) into one buffer of values,
        // `facts` per profile; anything else as a document, kept with its position.
        let c = &self.compiled;
        let facts = c.engine.policy().ir().facts.len();
        let mut values = Vec::with_capacity(profiles.len().unwrap_or(0).saturating_mul(facts));
        let mut docs = Vec::new();
        let mut count = 0;
        for item in profiles.try_iter()? {
            let item = item?;
            count += 1;
            if let Some(v) = fast_profile(&c.engine, &self.keys, &item) {
                values.extend_from_slice(&v);
                continue;
            }
            let doc = document(&item);
            let bad = doc.is_err();
            docs.push((count - 1, doc));
            if bad && !keep_going {
                // An earlier profile may still fail validation: the first in order wins.
                break;
            }
        }
        // Validate the documents and walk the graph with the GIL released. A terminal
        // index per profile, BAD for one in error.
        const BAD: usize = usize::MAX;
        let compiled = c.clone();
        let (terminals, problems) = py.detach(move || {
            let mut terminals = Vec::with_capacity(count);
            let mut problems = Vec::new();
            let mut rest = values.as_slice();
            let mut docs = docs.into_iter().peekable();
            for i in 0..count {
                let r = match docs.next_if(|(at, _)| *at == i) {
                    Some((_, doc)) => compiled.evaluate(Read::Doc(doc)),
                    None => {
                        let (these, after) = rest.split_at(facts.min(rest.len()));
                        rest = after;
                        compiled.evaluate(Read::Fast(these))
                    }
                };
                match r {
                    Ok(t) => terminals.push(t),
                    Err(e) => {
                        terminals.push(BAD);
                        problems.push((i, e));
                        if !keep_going {
                            break;
                        }
                    }
                }
            }
            (terminals, problems)
        });
        let mut problems = problems.into_iter();
        if !keep_going {
            if let Some((i, e)) = problems.next() {
                return Err(profile_error(py, &e, Some(i)));
            }
        }
        let mut out: Vec<Bound<'py, PyAny>> = Vec::with_capacity(terminals.len());
        for t in terminals {
            if t != BAD {
                out.push(c.decision(py, t)?.into_bound(py).into_any());
                continue;
            }
            let Some((i, e)) = problems.next() else {
                return Err(Error::new_err("internal: a profile error went missing"));
            };
            let v = serde_json::json!({
                "schema": regain::decision::EVAL_SCHEMA,
                "index": i,
                // The `error` of `regain eval --profiles`'s line for a bad profile.
                "error": e.message,
                "fact": e.fact,
            });
            out.push(to_py(py, &v)?);
        }
        PyList::new(py, out)
    }

    /// Why each deny rule fires or not and why each path is or is not available: the
    /// `explain` object of `regain eval --explain --format json`.
    fn explain<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = &self.compiled.engine;
        let p = document(profile)
            .and_then(|doc| engine.profile_from_document(&doc))
            .map_err(|e| profile_error(py, &e, None))?;
        to_py(py, &regain::explain::explain(engine.policy(), p.values()))
    }

    fn __repr__(&self) -> String {
        let stats = self.compiled.engine.graph().stats();
        format!(
            "<regain.Engine {}: {} nodes, {} terminals>",
            self.compiled.engine.policy().ir().name,
            stats.nodes,
            stats.terminals
        )
    }
}

/// The diagnostics of a policy as dicts (errors and warnings), as `regain check
/// --format json` lists them per file.
#[pyfunction]
#[pyo3(signature = (source, name = "<policy>"))]
fn check<'py>(py: Python<'py>, source: &str, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let diags = match regain::Policy::parse_named(name, source) {
        Ok(p) => p.warnings(),
        Err(d) => d,
    };
    diagnostics_py(py, &diags)
}

/// `regain analyze --format json` of a policy (source text or `Policy`).
#[pyfunction]
fn analyze<'py>(py: Python<'py>, source: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let policy = policy_of(py, source)?;
    let analysis = py.detach(move || {
        regain::Engine::new(&policy).map(|engine| regain::analyze::analyze(&engine))
    });
    let analysis = analysis.map_err(|e| Error::new_err(e.to_string()))?;
    to_py(py, &analysis)
}

/// `regain diff OLD NEW --format json`.
#[pyfunction]
fn diff<'py>(
    py: Python<'py>,
    old: &Bound<'py, PyAny>,
    new: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let old = policy_of(py, old)?;
    let new = policy_of(py, new)?;
    let d = py
        .detach(move || regain::analyze::diff::diff(&old, &new, regain::CompileOptions::default()));
    let d = d.map_err(|e| Error::new_err(e.to_string()))?;
    to_py(py, &d)
}

/// JSON text of a dict (or the text itself).
fn json_text_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    let value: serde_json::Value = pythonize::depythonize(obj)
        .map_err(|e| Error::new_err(format!("{what}: not JSON data: {e}")))?;
    serde_json::to_string(&value).map_err(|e| Error::new_err(e.to_string()))
}

/// YAML text of a model given as a dict (whose keys may be ints: `weights: {0: 40}`),
/// or the text itself.
fn yaml_text_of(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    // A whole-document problem: `.location` is "" as for the library's own.
    let whole = |message: String| {
        model_error(
            obj.py(),
            &regain::simulate::model::ModelError {
                location: String::new(),
                message,
            },
        )
    };
    let value: serde_yaml::Value = pythonize::depythonize(obj)
        .map_err(|e| whole(format!("the model is not YAML-like data: {e}")))?;
    serde_yaml::to_string(&value).map_err(|e| whole(e.to_string()))
}

/// `regain simulate --format json`: a Monte-Carlo run (or `exact=True`), or slice `k`
/// of `n` with `shard=(k, n)`. `model` is the model's YAML text or a dict.
#[pyfunction]
#[pyo3(signature = (source, model, trials = 1_000_000, seed = 1, exact = false, shard = None, threads = None))]
#[allow(clippy::too_many_arguments)]
fn simulate<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    model: &Bound<'py, PyAny>,
    trials: u64,
    seed: u64,
    exact: bool,
    shard: Option<(u64, u64)>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let policy = policy_of(py, source)?;
    let text = yaml_text_of(model)?;
    let engine = py
        .detach(|| regain::Engine::new(&policy))
        .map_err(|e| Error::new_err(e.to_string()))?;
    let model =
        regain::simulate::Model::from_yaml(&policy, &text).map_err(|e| model_error(py, &e))?;
    let opts = regain::simulate::Options {
        trials,
        seed,
        threads: threads.unwrap_or(0),
        shard,
    };
    let report = py.detach(|| {
        if exact {
            regain::simulate::exact(&engine, &model)
        } else {
            regain::simulate::simulate(&engine, &model, opts, &|_| {})
        }
    });
    let report = report.map_err(|e| sim_error(py, &e))?;
    to_py(py, &report)
}

/// `regain merge`: the shards' reports (dicts or JSON text) combined into exactly the
/// single-run report.
#[pyfunction]
fn merge<'py>(py: Python<'py>, shards: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let mut parsed = Vec::new();
    for (i, item) in shards.try_iter()?.enumerate() {
        let name = format!("shards[{i}]");
        let text = json_text_of(&item?, &name)?;
        let shard = regain::simulate::parse_shard(&text)
            .map_err(|e| Error::new_err(format!("{name}: {e}")))?;
        parsed.push((name, shard));
    }
    let report = py
        .detach(|| regain::simulate::merge(&parsed))
        .map_err(|e| Error::new_err(e.to_string()))?;
    to_py(py, &report)
}

/// `regain fmt`: the canonical form of a policy's source.
#[pyfunction]
fn fmt(py: Python<'_>, source: &str) -> PyResult<String> {
    regain::fmt::format(source).map_err(|items| {
        policy_error(
            py,
            &regain::Diagnostics {
                name: "<policy>".into(),
                source: source.into(),
                items,
            },
        )
    })
}

#[pymodule]
#[pyo3(name = "regain")]
fn regain_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("Error", py.get_type::<Error>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("ProfileError", py.get_type::<ProfileError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add_class::<Policy>()?;
    m.add_class::<Engine>()?;
    m.add_class::<Decision>()?;
    m.add_class::<Path>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(diff, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add_function(wrap_pyfunction!(fmt, m)?)?;
    Ok(())
}
