//! Profiles: one value per fact, loaded from JSON or YAML (nested ≡ dotted) or built in
//! code, validated strictly against the policy's fact declarations.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use std::collections::HashMap;

use crate::check::ir::{Fact, FactType, Ir};
use crate::diagnostic::{did_you_mean, suggestion};

/// A validated profile: a dense vector with one value per fact.
///
/// Built by [`crate::Engine`] (which also maps each value to its decision-graph class
/// once) or by [`crate::Policy`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub(crate) values: Box<[i64]>,
    pub(crate) classes: Box<[u32]>,
    pub(crate) stamp: u64,
}

impl Profile {
    /// The encoded values (bool 0/1, int itself, enum variant index), in fact order.
    pub fn values(&self) -> &[i64] {
        &self.values
    }

    pub(crate) fn from_values(values: Vec<i64>) -> Profile {
        Profile {
            values: values.into_boxed_slice(),
            classes: Box::new([]),
            stamp: 0,
        }
    }
}

/// One thing wrong with a profile.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProfileProblem {
    /// The fact (or key) concerned, when there is one.
    pub fact: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Why a profile was rejected: every problem found, sorted by fact (problems about the
/// document as a whole first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError {
    /// The fact (or key) of the first problem, when there is one.
    pub fact: Option<String>,
    /// Every problem's message, one per line (the first [`MAX_SHOWN`] of them).
    pub message: String,
    /// Every problem, sorted.
    pub problems: Vec<ProfileProblem>,
}

/// How many problems [`ProfileError::message`] and its `Display` list before "… and N
/// more" (all of them stay in [`ProfileError::problems`]).
pub const MAX_SHOWN: usize = 50;

impl ProfileError {
    /// An error with a single problem.
    pub fn new(fact: Option<String>, message: impl Into<String>) -> ProfileError {
        ProfileError::from_problems(vec![ProfileProblem {
            fact,
            message: message.into(),
        }])
    }

    /// An error holding several problems (sorted here; duplicates removed).
    pub fn from_problems(mut problems: Vec<ProfileProblem>) -> ProfileError {
        problems.sort();
        problems.dedup();
        let mut lines: Vec<&str> = problems
            .iter()
            .take(MAX_SHOWN)
            .map(|p| p.message.as_str())
            .collect();
        let more = problems.len().saturating_sub(MAX_SHOWN);
        let tail = format!("… and {more} more");
        if more > 0 {
            lines.push(&tail);
        }
        ProfileError {
            fact: problems.first().and_then(|p| p.fact.clone()),
            message: lines.join("\n"),
            problems,
        }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problems.len() <= 1 {
            return f.write_str(&self.message);
        }
        write!(f, "{} problems:", self.problems.len())?;
        for line in self.message.lines() {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProfileError {}

fn err(fact: Option<&str>, message: String) -> ProfileError {
    ProfileError::new(fact.map(str::to_string), message)
}

fn problem(fact: &str, message: String) -> ProfileProblem {
    ProfileProblem {
        fact: Some(fact.to_string()),
        message,
    }
}

/// Fact lookup by name: a hash map for large policies, a scan for small ones (no
/// allocation for the common case).
enum Lookup<'a> {
    Scan(&'a Ir),
    Map(&'a Ir, HashMap<&'a str, usize>),
}

impl<'a> Lookup<'a> {
    fn new(ir: &'a Ir) -> Lookup<'a> {
        if ir.facts.len() > 32 {
            Lookup::Map(
                ir,
                ir.facts
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.name.as_str(), i))
                    .collect(),
            )
        } else {
            Lookup::Scan(ir)
        }
    }

    fn get(&self, name: &str) -> Option<usize> {
        match self {
            Lookup::Scan(ir) => ir.facts.iter().position(|f| f.name == name),
            Lookup::Map(_, m) => m.get(name).copied(),
        }
    }

    fn ir(&self) -> &'a Ir {
        match self {
            Lookup::Scan(ir) | Lookup::Map(ir, _) => ir,
        }
    }
}

/// A JSON/YAML value that keeps every map entry (so duplicates can be reported) and
/// tells integers from floats.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    BigInt(String),
    Float(f64),
    Str(String),
    Seq,
    Map(Vec<(Node, Node)>),
}

impl Node {
    fn describe(&self) -> String {
        match self {
            Node::Null => "null".into(),
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::BigInt(s) => s.clone(),
            Node::Float(f) => format!("{f:?}"),
            Node::Str(s) => format!("\"{s}\""),
            Node::Seq => "a list".into(),
            Node::Map(_) => "an object".into(),
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a profile value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or_else(|_| Node::BigInt(v.to_string()), Node::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or_else(|_| Node::BigInt(v.to_string()), Node::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or_else(|_| Node::BigInt(v.to_string()), Node::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Node::Seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Node, Node>()? {
            entries.push((k, v));
        }
        Ok(Node::Map(entries))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Node, A::Error> {
        Err(de::Error::custom("YAML tags are not allowed in a profile"))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// A profile document as read — from JSON, YAML or any other serde source (the Python
/// package reads Python dicts through it) — and not yet validated against a policy:
/// [`crate::Engine::profile_from_document`] validates it. Reading keeps what validation
/// needs to report (duplicate keys, integers vs floats, `null`).
#[derive(Clone, Debug, PartialEq)]
pub struct Document(Node);

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Document, D::Error> {
        Node::deserialize(d).map(Document)
    }
}

impl Document {
    /// A document from JSON text.
    pub fn from_json(text: &str) -> Result<Document, ProfileError> {
        parse_json(text).map(Document)
    }

    pub(crate) fn node(&self) -> &Node {
        &self.0
    }
}

/// Parse JSON text into a [`Node`].
pub(crate) fn parse_json(text: &str) -> Result<Node, ProfileError> {
    serde_json::from_str::<Node>(text).map_err(|e| err(None, format!("invalid JSON: {e}")))
}

/// Parse YAML text into a [`Node`].
pub(crate) fn parse_yaml(text: &str) -> Result<Node, ProfileError> {
    serde_yaml::from_str::<Node>(text).map_err(|e| err(None, format!("invalid YAML: {e}")))
}

/// Flatten nested objects into `(dotted name, value)` entries, checking every key
/// against the declared facts. Every bad key is reported, not only the first.
pub(crate) fn flatten<'a>(
    ir: &Ir,
    node: &'a Node,
) -> Result<Vec<(String, &'a Node)>, ProfileError> {
    let look = Lookup::new(ir);
    let mut problems = Vec::new();
    let mut accounted = Vec::new();
    let out = flatten_collect(&look, node, &mut problems, &mut accounted)?;
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ProfileError::from_problems(problems))
    }
}

/// Flatten, collecting key problems. `accounted` gets the facts that a reported problem
/// already covers (so that they are not also reported as missing). Fails outright only
/// when the document is not an object.
fn flatten_collect<'a>(
    look: &Lookup<'_>,
    node: &'a Node,
    problems: &mut Vec<ProfileProblem>,
    accounted: &mut Vec<usize>,
) -> Result<Vec<(String, &'a Node)>, ProfileError> {
    let Node::Map(entries) = node else {
        return Err(err(
            None,
            format!(
                "a profile must be an object of facts, found {}",
                node.describe()
            ),
        ));
    };
    let mut out = Vec::new();
    // Iterative over nested objects (serde already bounds their depth).
    let mut work: Vec<(String, &'a [(Node, Node)])> = vec![(String::new(), entries)];
    while let Some((prefix, entries)) = work.pop() {
        for (k, v) in entries {
            let Node::Str(key) = k else {
                problems.push(ProfileProblem {
                    fact: None,
                    message: format!("profile keys must be strings, found {}", k.describe()),
                });
                continue;
            };
            let full = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if look.get(&full).is_some() {
                out.push((full, v));
                continue;
            }
            let ir = look.ir();
            let group = format!("{full}.");
            let members: Vec<usize> = ir
                .facts
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name.starts_with(&group))
                .map(|(i, _)| i)
                .collect();
            if members.is_empty() {
                let close = did_you_mean(&full, ir.facts.iter().map(|f| f.name.as_str()));
                let help = close
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                if let Some(i) = close.and_then(|c| look.get(c)) {
                    accounted.push(i);
                }
                problems.push(problem(
                    &full,
                    format!("unknown fact `{full}`: the policy declares no such fact{help}"),
                ));
                continue;
            }
            match v {
                Node::Map(inner) => work.push((full, inner)),
                other => {
                    let names: Vec<&str> = members
                        .iter()
                        .filter_map(|i| ir.facts.get(*i))
                        .map(|f| f.name.as_str())
                        .collect();
                    problems.push(problem(
                        &full,
                        format!(
                            "`{full}` is not a fact but a group of facts ({}); expected an object, found {}",
                            names.join(", "),
                            other.describe()
                        ),
                    ));
                    accounted.extend(members);
                }
            }
        }
    }
    Ok(out)
}

/// Validate flattened entries into dense values (defaults filled in). Every problem is
/// reported, not only the first.
pub(crate) fn values_from_entries(
    ir: &Ir,
    entries: &[(String, &Node)],
) -> Result<Vec<i64>, ProfileError> {
    let look = Lookup::new(ir);
    let mut problems = Vec::new();
    let values = values_collect(&look, entries, &mut problems, &[]);
    match values {
        Some(v) if problems.is_empty() => Ok(v),
        _ => Err(ProfileError::from_problems(problems)),
    }
}

fn values_collect(
    look: &Lookup<'_>,
    entries: &[(String, &Node)],
    problems: &mut Vec<ProfileProblem>,
    accounted: &[usize],
) -> Option<Vec<i64>> {
    let ir = look.ir();
    let mut values: Vec<Option<i64>> = vec![None; ir.facts.len()];
    let mut given = vec![false; ir.facts.len()];
    for i in accounted {
        if let Some(g) = given.get_mut(*i) {
            *g = true;
        }
    }
    for (name, node) in entries {
        let Some((i, fact)) = look.get(name).and_then(|i| ir.facts.get(i).map(|f| (i, f))) else {
            problems.push(problem(name, format!("unknown fact `{name}`")));
            continue;
        };
        let (Some(slot), Some(seen)) = (values.get_mut(i), given.get_mut(i)) else {
            continue;
        };
        if *seen && (slot.is_some() || !accounted.contains(&i)) {
            problems.push(problem(
                name,
                format!("fact `{name}` is given twice (nested and dotted keys name the same fact)"),
            ));
            continue;
        }
        *seen = true;
        match value_of(fact, node) {
            Ok(v) => *slot = Some(v),
            Err(p) => problems.push(p),
        }
    }
    let mut out = Vec::with_capacity(values.len());
    for ((v, fact), seen) in values.into_iter().zip(&ir.facts).zip(&given) {
        match v.or(fact.default) {
            Some(v) => out.push(v),
            None if *seen => {}
            None => problems.push(problem(
                &fact.name,
                format!(
                    "missing fact `{}` (expected {}); it has no default",
                    fact.name,
                    expected(&fact.ty)
                ),
            )),
        }
    }
    (out.len() == ir.facts.len()).then_some(out)
}

fn expected(ty: &FactType) -> String {
    match ty {
        FactType::Bool => "`true` or `false`".into(),
        FactType::Int { lo, hi } => format!("an integer in {lo}..{hi}"),
        FactType::Enum(vs) => format!(
            "one of {}",
            vs.iter()
                .map(|v| format!("\"{v}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn value_of(fact: &Fact, node: &Node) -> Result<i64, ProfileProblem> {
    let name = fact.name.as_str();
    let wrong = |extra: &str| {
        problem(
            name,
            format!(
                "fact `{name}`: expected {}, found {}{extra}",
                expected(&fact.ty),
                node.describe()
            ),
        )
    };
    if *node == Node::Null {
        let extra = if fact.default.is_some() {
            " (omit the fact to use its default)"
        } else {
            ""
        };
        return Err(wrong(extra));
    }
    match (&fact.ty, node) {
        (FactType::Bool, Node::Bool(b)) => Ok(i64::from(*b)),
        (FactType::Int { lo, hi }, Node::Int(v)) => {
            if v < lo || v > hi {
                Err(wrong(" (out of range)"))
            } else {
                Ok(*v)
            }
        }
        (FactType::Int { .. }, Node::BigInt(_)) => Err(wrong(" (out of range)")),
        (FactType::Enum(vs), Node::Str(s)) => match vs.iter().position(|v| v == s) {
            Some(idx) => i64::try_from(idx).map_err(|_| wrong("")),
            None => {
                let help = suggestion(s, vs.iter().map(String::as_str))
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default();
                Err(wrong(&format!(" (unknown variant){help}")))
            }
        },
        (
            FactType::Bool | FactType::Int { .. } | FactType::Enum(_),
            Node::Null
            | Node::Bool(_)
            | Node::Int(_)
            | Node::BigInt(_)
            | Node::Float(_)
            | Node::Str(_)
            | Node::Seq
            | Node::Map(_),
        ) => Err(wrong("")),
    }
}

/// Validate a parsed node into dense values, reporting every problem of the profile
/// (bad keys, bad values and missing facts together).
pub(crate) fn values_from_node(ir: &Ir, node: &Node) -> Result<Vec<i64>, ProfileError> {
    let look = Lookup::new(ir);
    let mut problems = Vec::new();
    let mut accounted = Vec::new();
    let entries = flatten_collect(&look, node, &mut problems, &mut accounted)?;
    let values = values_collect(&look, &entries, &mut problems, &accounted);
    match values {
        Some(v) if problems.is_empty() => Ok(v),
        _ => Err(ProfileError::from_problems(problems)),
    }
}

/// Builds a profile in code, fact by fact, with the same validation as JSON.
pub struct ProfileBuilder<'a> {
    ir: &'a Ir,
    entries: Vec<(String, Node)>,
    finish: &'a dyn Finish,
}

/// Turns validated values into a profile (the engine computes value classes).
pub(crate) trait Finish {
    fn finish(&self, values: Vec<i64>) -> Profile;
}

impl fmt::Debug for ProfileBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileBuilder")
            .field("entries", &self.entries)
            .finish()
    }
}

impl<'a> ProfileBuilder<'a> {
    pub(crate) fn new(ir: &'a Ir, finish: &'a dyn Finish) -> Self {
        ProfileBuilder {
            ir,
            entries: Vec::new(),
            finish,
        }
    }

    /// Set a bool fact.
    pub fn bool(mut self, fact: &str, v: bool) -> Self {
        self.entries.push((fact.to_string(), Node::Bool(v)));
        self
    }

    /// Set an int fact.
    pub fn int(mut self, fact: &str, v: i64) -> Self {
        self.entries.push((fact.to_string(), Node::Int(v)));
        self
    }

    /// Set an enum fact by variant name.
    pub fn variant(mut self, fact: &str, v: &str) -> Self {
        self.entries
            .push((fact.to_string(), Node::Str(v.to_string())));
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<Profile, ProfileError> {
        let node = Node::Map(
            self.entries
                .into_iter()
                .map(|(k, v)| (Node::Str(k), v))
                .collect(),
        );
        let values = values_from_node(self.ir, &node)?;
        Ok(self.finish.finish(values))
    }
}

/// Where a key of a nested profile document leads at one level (see [`key_levels`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyTarget {
    /// The fact with this index.
    Fact(usize),
    /// A group of facts (`phone` of `phone.active`): the index of its level, whose keys
    /// are relative to it.
    Group(usize),
}

/// The keys a profile document may use, level by level: level 0 is the document itself;
/// each group (every proper dotted prefix of a fact name) has a level whose keys are
/// relative to it. At each level, every fact and group below it is reachable by its
/// relative name, plain or dotted (`{"phone": {"active": …}}` ≡ `{"phone.active": …}`).
/// For readers that resolve keys themselves and fill [`DenseValues`] (the Python
/// package resolves them with Python dicts).
pub fn key_levels(ir: &Ir) -> Vec<Vec<(String, KeyTarget)>> {
    // Every group, in first-appearance order.
    let mut groups: Vec<String> = Vec::new();
    for f in &ir.facts {
        let mut at = 0;
        while let Some(dot) = f.name.get(at..).and_then(|s| s.find('.')) {
            let g = f.name.get(..at + dot).unwrap_or_default().to_string();
            if !groups.contains(&g) {
                groups.push(g);
            }
            at += dot + 1;
        }
    }
    let mut levels = Vec::with_capacity(groups.len() + 1);
    for prefix in std::iter::once(None).chain(groups.iter().map(Some)) {
        let rel = |name: &str| -> Option<String> {
            match prefix {
                None => Some(name.to_string()),
                Some(p) => name
                    .strip_prefix(p.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                    .map(str::to_string),
            }
        };
        let mut level = Vec::new();
        for (i, f) in ir.facts.iter().enumerate() {
            if let Some(r) = rel(&f.name) {
                level.push((r, KeyTarget::Fact(i)));
            }
        }
        for (g, name) in groups.iter().enumerate() {
            if let Some(r) = rel(name) {
                level.push((r, KeyTarget::Group(g + 1)));
            }
        }
        levels.push(level);
    }
    levels
}

/// Dense values set fact by fact with the validation of profile documents — a value of
/// the fact's type, an int in range, a fact set once, every fact without a default
/// given — but without messages: any problem makes [`DenseValues::finish`] return
/// `None`, and the caller reads the document again with
/// [`crate::Engine::profile_from_document`] for the errors. The fast path of readers
/// that resolve keys with [`key_levels`].
pub struct DenseValues<'a> {
    ir: &'a Ir,
    finish: &'a dyn Finish,
    values: Vec<i64>,
    given: Vec<bool>,
    ok: bool,
}

impl fmt::Debug for DenseValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DenseValues")
            .field("values", &self.values)
            .field("ok", &self.ok)
            .finish()
    }
}

impl<'a> DenseValues<'a> {
    pub(crate) fn new(ir: &'a Ir, finish: &'a dyn Finish) -> Self {
        DenseValues {
            ir,
            finish,
            values: vec![0; ir.facts.len()],
            given: vec![false; ir.facts.len()],
            ok: true,
        }
    }

    fn slot(&mut self, fact: usize) -> Option<(&'a FactType, &mut i64)> {
        let ty = &self.ir.facts.get(fact)?.ty;
        let given = self.given.get_mut(fact)?;
        if std::mem::replace(given, true) {
            return None; // given twice
        }
        Some((ty, self.values.get_mut(fact)?))
    }

    /// A bool value for fact `fact`.
    pub fn bool(&mut self, fact: usize, v: bool) {
        match self.slot(fact) {
            Some((FactType::Bool, slot)) => *slot = i64::from(v),
            _ => self.ok = false,
        }
    }

    /// An integer value for fact `fact`.
    pub fn int(&mut self, fact: usize, v: i64) {
        match self.slot(fact) {
            Some((FactType::Int { lo, hi }, slot)) if (*lo..=*hi).contains(&v) => *slot = v,
            _ => self.ok = false,
        }
    }

    /// The variant with index `variant` for enum fact `fact`.
    pub fn variant(&mut self, fact: usize, variant: usize) {
        match self.slot(fact) {
            Some((FactType::Enum(vs), slot)) if variant < vs.len() => {
                *slot = i64::try_from(variant).unwrap_or(i64::MAX);
            }
            _ => self.ok = false,
        }
    }

    /// Something the document should not hold (an unknown key, a value of no fact's
    /// type, …).
    pub fn fail(&mut self) {
        self.ok = false;
    }

    /// The profile, or `None` when any problem was seen (or a fact without a default is
    /// missing).
    pub fn finish(self) -> Option<Profile> {
        let finish = self.finish;
        self.finish_values().map(|values| finish.finish(values))
    }

    /// The validated values (one per fact, defaults filled in) without building a
    /// [`Profile`], for [`crate::Engine::terminal_of`]; `None` as for
    /// [`DenseValues::finish`].
    pub fn finish_values(mut self) -> Option<Vec<i64>> {
        if !self.ok {
            return None;
        }
        fill_defaults(&mut self.values, &self.given, &self.ir.facts)?;
        Some(self.values)
    }
}

/// The defaults of the facts not given, filled in; `None` when a fact without a default
/// is missing.
fn fill_defaults(values: &mut [i64], given: &[bool], facts: &[Fact]) -> Option<()> {
    for ((v, given), fact) in values.iter_mut().zip(given).zip(facts) {
        if !*given {
            *v = fact.default?;
        }
    }
    Some(())
}

/// The keys of [`key_levels`], built once per policy for the JSON fast path.
#[derive(Debug, Default)]
pub(crate) struct KeyIndex {
    levels: Vec<Vec<(Box<str>, KeyTarget)>>,
}

impl KeyIndex {
    pub(crate) fn new(ir: &Ir) -> KeyIndex {
        KeyIndex {
            levels: key_levels(ir)
                .into_iter()
                .map(|l| {
                    l.into_iter()
                        .map(|(k, t)| (k.into_boxed_str(), t))
                        .collect()
                })
                .collect(),
        }
    }
}

pub(crate) mod scan;

/// One profile being read by a fast reader (the byte scanner, or serde's seeds in
/// `fast`): its values, which facts were given, and per level where to look for the
/// next key.
struct Reading<'a> {
    ir: &'a Ir,
    keys: &'a KeyIndex,
    values: Vec<i64>,
    seen: Vec<bool>,
    /// Per level, where the next key is looked for first: just after the last one
    /// found, since profiles mostly list facts in the policy's order.
    hints: Vec<usize>,
}

impl<'a> Reading<'a> {
    fn new(ir: &'a Ir, keys: &'a KeyIndex) -> Self {
        Reading {
            ir,
            keys,
            values: vec![0; ir.facts.len()],
            seen: vec![false; ir.facts.len()],
            hints: vec![0; keys.levels.len()],
        }
    }

    /// Ready for the next profile.
    #[inline]
    fn reset(&mut self) {
        self.values.fill(0);
        self.seen.fill(false);
        self.hints.fill(0);
    }

    /// What `key` names at `level`, if anything.
    #[inline]
    fn find(&mut self, level: usize, key: &[u8]) -> Option<KeyTarget> {
        let entries = self.keys.levels.get(level)?;
        let hint = self
            .hints
            .get(level)
            .copied()
            .unwrap_or(0)
            .min(entries.len());
        let (before, after) = entries.split_at(hint);
        let i = match after.iter().position(|(k, _)| k.as_bytes() == key) {
            Some(i) => hint + i,
            None => before.iter().position(|(k, _)| k.as_bytes() == key)?,
        };
        if let Some(h) = self.hints.get_mut(level) {
            *h = i + 1;
        }
        entries.get(i).map(|(_, t)| *t)
    }

    /// Fact `i`, now marked given; `None` when it was given already.
    #[inline]
    fn claim(&mut self, i: usize) -> Option<&'a Fact> {
        let seen = self.seen.get_mut(i)?;
        if std::mem::replace(seen, true) {
            return None;
        }
        self.ir.facts.get(i)
    }

    /// Fact `i`'s value.
    #[inline]
    fn set(&mut self, i: usize, v: i64) {
        if let Some(slot) = self.values.get_mut(i) {
            *slot = v;
        }
    }

    /// Defaults filled in for the facts not given; `false` when a fact without a
    /// default is missing.
    fn complete(&mut self) -> bool {
        fill_defaults(&mut self.values, &self.seen, &self.ir.facts).is_some()
    }
}

/// The fast path of JSON profiles: validates while deserializing, straight into dense
/// values, without building a tree or any owned string. It accepts exactly what
/// [`values_from_node`] accepts; on anything else it gives up (`None`) and the caller
/// runs the slow path, which finds and words every problem.
mod fast {
    use std::fmt;

    use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

    use super::{DenseList, KeyIndex, KeyTarget, Reading as State};
    use crate::check::ir::{Fact, FactType, Ir};

    /// Why the fast path gave up (the slow path says what is wrong).
    #[derive(Debug)]
    struct GiveUp;

    impl fmt::Display for GiveUp {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("not a valid profile")
        }
    }

    impl std::error::Error for GiveUp {}

    impl de::Error for GiveUp {
        fn custom<T: fmt::Display>(_msg: T) -> Self {
            GiveUp
        }
    }

    /// An object of facts at a level of [`key_levels`].
    struct MapSeed<'s, 'a> {
        state: &'s mut State<'a>,
        level: usize,
    }

    impl<'de> DeserializeSeed<'de> for MapSeed<'_, '_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for MapSeed<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of facts")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let level = self.level;
            let state = self.state;
            while let Some(target) = map.next_key_seed(KeySeed {
                state: &mut *state,
                level,
            })? {
                match target {
                    KeyTarget::Fact(i) => {
                        // Given twice: the slow path says so.
                        let fact = state.claim(i).ok_or_else(|| de::Error::custom(GiveUp))?;
                        let v = map.next_value_seed(ValueSeed { fact })?;
                        state.set(i, v);
                    }
                    KeyTarget::Group(g) => map.next_value_seed(MapSeed {
                        state: &mut *state,
                        level: g,
                    })?,
                }
            }
            Ok(())
        }
    }

    /// A key, resolved at its level.
    struct KeySeed<'s, 'a> {
        state: &'s mut State<'a>,
        level: usize,
    }

    impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
        type Value = KeyTarget;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<KeyTarget, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl<'de> Visitor<'de> for KeySeed<'_, '_> {
        type Value = KeyTarget;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a fact name")
        }
        fn visit_str<E: de::Error>(self, key: &str) -> Result<KeyTarget, E> {
            self.state
                .find(self.level, key.as_bytes())
                .ok_or_else(|| E::custom(GiveUp))
        }
    }

    /// One fact's value, validated against its type.
    struct ValueSeed<'f> {
        fact: &'f Fact,
    }

    impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
        type Value = i64;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for ValueSeed<'_> {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a fact value")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<i64, E> {
            match self.fact.ty {
                FactType::Bool => Ok(i64::from(v)),
                _ => Err(E::custom(GiveUp)),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            match self.fact.ty {
                FactType::Int { lo, hi } if lo <= v && v <= hi => Ok(v),
                _ => Err(E::custom(GiveUp)),
            }
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            let v = i64::try_from(v).map_err(|_| E::custom(GiveUp))?;
            self.visit_i64(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            match &self.fact.ty {
                FactType::Enum(vs) => vs
                    .iter()
                    .position(|x| x == v)
                    .and_then(|i| i64::try_from(i).ok())
                    .ok_or_else(|| E::custom(GiveUp)),
                _ => Err(E::custom(GiveUp)),
            }
        }
    }

    /// Dense values of a valid JSON profile, or `None` when the slow path must judge.
    pub(crate) fn values(ir: &Ir, keys: &KeyIndex, text: &str) -> Option<Vec<i64>> {
        let mut state = State::new(ir, keys);
        let mut de = serde_json::Deserializer::from_str(text);
        MapSeed {
            state: &mut state,
            level: 0,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        state.complete().then_some(state.values)
    }

    /// A JSON array of valid profiles, read into their dense values one after another;
    /// an error (without words) on anything else, or on more than `limit` profiles.
    pub(crate) struct ListSeed<'a> {
        pub(crate) ir: &'a Ir,
        pub(crate) keys: &'a KeyIndex,
        pub(crate) limit: usize,
    }

    impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
        type Value = DenseList;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<DenseList, D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for ListSeed<'_> {
        type Value = DenseList;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of profiles")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DenseList, A::Error> {
            let mut state = State::new(self.ir, self.keys);
            let width = self.ir.facts.len();
            let mut out = Vec::with_capacity(width.saturating_mul(self.limit.min(16)));
            let mut n = 0usize;
            loop {
                state.reset();
                let item = MapSeed {
                    state: &mut state,
                    level: 0,
                };
                if seq.next_element_seed(item)?.is_none() {
                    return Ok(DenseList {
                        count: n,
                        width,
                        values: out,
                    });
                }
                n += 1;
                if n > self.limit || !state.complete() {
                    return Err(de::Error::custom(GiveUp));
                }
                out.extend_from_slice(&state.values);
            }
        }
    }
}

/// Reads a JSON array of profiles straight into their dense values ([`DenseList`]: one
/// value per fact, profile after profile), validating as [`crate::Engine::profile_from_json`] does, for
/// servers whose request bodies hold a list of profiles. Wordless and strict: any item
/// that is not a valid profile, or more than the limit of items, is a bare error, and
/// the caller reads the items one by one with [`crate::Engine::profile_from_json`] for
/// the messages. Made by [`crate::Engine::dense_list_seed`].
#[derive(Debug, Clone, Copy)]
pub struct DenseListSeed<'a> {
    ir: &'a Ir,
    keys: &'a KeyIndex,
    limit: usize,
}

impl<'a> DenseListSeed<'a> {
    pub(crate) fn new(ir: &'a Ir, keys: &'a KeyIndex, limit: usize) -> Self {
        DenseListSeed { ir, keys, limit }
    }
}

/// Profiles read by [`DenseListSeed`]: their dense values, one profile after another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenseList {
    count: usize,
    width: usize,
    values: Vec<i64>,
}

impl DenseList {
    /// How many profiles.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Each profile's values (one per fact, in fact order), in input order; for
    /// [`crate::Engine::terminal_of`]. A policy without facts gives `len()` empty slices.
    pub fn profiles(&self) -> impl Iterator<Item = &[i64]> + '_ {
        let width = self.width;
        (0..self.count).map(move |i| {
            self.values
                .get(i * width..(i + 1) * width)
                .unwrap_or_default()
        })
    }

    /// All values, `len() × facts` of them.
    pub fn values(&self) -> &[i64] {
        &self.values
    }
}

impl<'de> de::DeserializeSeed<'de> for DenseListSeed<'_> {
    type Value = DenseList;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<DenseList, D::Error> {
        de::DeserializeSeed::deserialize(
            fast::ListSeed {
                ir: self.ir,
                keys: self.keys,
                limit: self.limit,
            },
            d,
        )
    }
}

/// Dense values of a JSON profile: the byte scanner, serde's fast path when the scanner
/// gives up (escapes, fractions…), and the slow path (which words every problem) when
/// that gives up too.
pub(crate) fn values_from_json(
    ir: &Ir,
    keys: &KeyIndex,
    text: &str,
) -> Result<Vec<i64>, ProfileError> {
    if let Some(v) = scan::values(ir, keys, text.as_bytes()) {
        return Ok(v);
    }
    if let Some(v) = fast::values(ir, keys, text) {
        return Ok(v);
    }
    let node = parse_json(text)?;
    values_from_node(ir, &node)
}
