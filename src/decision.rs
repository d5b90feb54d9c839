//! Decisions: what the policy says for one profile.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::check::ir::{DenyId, Ir, MethodId, PathId};

/// The three kinds of decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    /// At least one path is available.
    Allow,
    /// A deny rule matched.
    Deny,
    /// No deny rule matched, and no path is available: the person cannot get back in.
    Lockout,
}

impl DecisionKind {
    /// `allow`, `deny` or `lockout`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allow => "allow",
            DecisionKind::Deny => "deny",
            DecisionKind::Lockout => "lockout",
        }
    }
}

/// One available path, with the methods the person can use at each step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Offer {
    #[serde(skip)]
    pub(crate) id: u32,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) title: Option<String>,
    pub(crate) steps: Vec<Vec<String>>,
    pub(crate) grants: String,
    pub(crate) wait_s: u64,
    pub(crate) notify: Vec<String>,
    /// Per step, the usable methods by index (the same as `steps`).
    #[serde(skip)]
    pub(crate) step_ids: Vec<Vec<MethodId>>,
    /// The notified methods by index.
    #[serde(skip)]
    pub(crate) notify_ids: Vec<MethodId>,
}

impl Offer {
    /// The path's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The path's index in the policy (declaration order).
    pub fn path_index(&self) -> usize {
        self.id as usize
    }
    /// The path's title, if it has one.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    /// Per step, the methods the person can use (every usable one, in listed order).
    pub fn steps(&self) -> &[Vec<String>] {
        &self.steps
    }
    /// What completing the path grants.
    pub fn grants(&self) -> &str {
        &self.grants
    }
    /// The waiting period in seconds (0 when none).
    pub fn wait_s(&self) -> u64 {
        self.wait_s
    }
    /// Methods whose channels are notified.
    pub fn notify(&self) -> &[String] {
        &self.notify
    }
    /// The path by index.
    pub fn path_id(&self) -> PathId {
        PathId(self.id)
    }
    /// Per step, the usable methods by index.
    pub fn step_ids(&self) -> &[Vec<MethodId>] {
        &self.step_ids
    }
    /// The notified methods by index.
    pub fn notify_ids(&self) -> &[MethodId] {
        &self.notify_ids
    }
    /// Equal in everything a caller acts on (path, usable methods per step, grants,
    /// wait, notify), titles aside.
    pub fn same_as(&self, other: &Offer) -> bool {
        self.name == other.name
            && self.steps == other.steps
            && self.grants == other.grants
            && self.wait_s == other.wait_s
            && self.notify == other.notify
    }
}

/// The decision for one profile.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Decision {
    #[serde(rename = "decision")]
    pub(crate) kind: DecisionKind,
    /// Shared between the graph's terminals: equal offers are built once.
    pub(crate) paths: Vec<Arc<Offer>>,
    pub(crate) denied_by: Vec<String>,
    /// The matching deny rules by index (the same as `denied_by`).
    #[serde(skip)]
    pub(crate) deny_ids: Vec<DenyId>,
}

impl Decision {
    /// Allow, deny or lockout.
    pub fn kind(&self) -> DecisionKind {
        self.kind
    }
    /// The available paths, in declaration (preference) order; empty unless allow.
    pub fn paths(&self) -> &[Arc<Offer>] {
        &self.paths
    }
    /// The reasons of every matching deny rule, in declaration order; empty unless deny.
    pub fn denied_by(&self) -> &[String] {
        &self.denied_by
    }
    /// The matching deny rules by index, in declaration order.
    pub fn deny_ids(&self) -> &[DenyId] {
        &self.deny_ids
    }
    /// Equal in everything a caller acts on: the kind, the offered paths in order with
    /// their usable methods, grants, wait and notify, and the deny reasons; titles aside.
    /// Paths and methods are compared by name, so two versions of a policy compare.
    pub fn same_as(&self, other: &Decision) -> bool {
        self.kind == other.kind
            && self.denied_by == other.denied_by
            && self.paths.len() == other.paths.len()
            && self
                .paths
                .iter()
                .zip(&other.paths)
                .all(|(a, b)| a.same_as(b))
    }
    /// The names of the available paths.
    pub fn path_names(&self) -> Vec<&str> {
        self.paths.iter().map(|p| p.name.as_str()).collect()
    }

    /// The object `regain eval --format json` prints for this decision: `schema`
    /// ([`EVAL_SCHEMA`]) first, then `decision`, `paths` and `denied_by`; with an
    /// explanation (`--explain`), also `explain`. The Python package's
    /// `Decision.to_dict()` is this object.
    pub fn to_json(&self, explanation: Option<&crate::explain::Explanation>) -> serde_json::Value {
        serde_json::to_value(EvalView {
            decision: self,
            explain: explanation,
        })
        .unwrap_or_default()
    }

    /// The decision returned for a profile that does not belong to the engine: deny,
    /// so that a misuse fails closed.
    pub fn fail_closed() -> Decision {
        Decision {
            kind: DecisionKind::Deny,
            paths: Vec::new(),
            denied_by: vec!["profile does not belong to this policy (failing closed)".into()],
            deny_ids: Vec::new(),
        }
    }

    /// Assemble the decision (DESIGN.md "Meaning") from the deny rules that hold, the
    /// paths whose `when` holds (ascending indices), and which methods are usable.
    pub(crate) fn assemble(
        ir: &Ir,
        denies: impl Iterator<Item = usize>,
        paths_when: impl Iterator<Item = usize>,
        usable: impl Fn(usize) -> bool,
    ) -> Decision {
        let mut key = Vec::new();
        selection_key(ir, denies, paths_when, usable, &mut key);
        decision_of_key(ir, &key, &mut OfferCache::default())
    }
}

/// The schema name of the object `regain eval --format json` prints.
pub const EVAL_SCHEMA: &str = "regain.eval/1";

/// The object `regain eval --format json` prints for one decision, as the HTTP server
/// (`POST /v1/policies/{name}/decide`, `/v1/eval`) also answers it:
/// `{"schema": "regain.eval/1", "decision", "paths", "denied_by"}` and, when asked,
/// `"explain"`. Serialize it with serde.
#[derive(Clone, Copy, Debug)]
pub struct EvalView<'a> {
    /// The decision.
    pub decision: &'a Decision,
    /// Why each path is or is not available (`--explain`), when asked.
    pub explain: Option<&'a crate::explain::Explanation>,
}

impl Serialize for EvalView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let d = self.decision;
        let mut m = s.serialize_map(Some(4 + usize::from(self.explain.is_some())))?;
        m.serialize_entry("schema", EVAL_SCHEMA)?;
        m.serialize_entry("decision", &d.kind)?;
        m.serialize_entry("paths", &d.paths)?;
        m.serialize_entry("denied_by", &d.denied_by)?;
        if let Some(e) = self.explain {
            m.serialize_entry("explain", e)?;
        }
        m.end()
    }
}

/// Ends the deny list and each offer in a selection key ([`selection_key`]).
const KEY_END: u32 = u32::MAX;
/// Ends each step's usable methods in a selection key.
const KEY_STEP: u32 = u32::MAX - 1;

/// Offers already built, by their part of a selection key (path index, then per step
/// the usable methods each followed by `KEY_STEP`), so that decisions share them.
pub(crate) type OfferCache = HashMap<Box<[u32]>, Arc<Offer>>;

/// Write the selection key of the decision for the deny rules that hold, the paths
/// whose `when` holds (ascending) and the usable methods into `out` (no allocation once
/// `out` has grown).
///
/// The key is a decision in indices, as one flat list: the deny rules that hold,
/// `KEY_END`, then per available path its index, per step the usable methods and
/// `KEY_STEP`, and `KEY_END`. Equal keys ⇔ equal decisions, so the compiler deduplicates
/// terminals on the key before building any strings, and builds each decision from its
/// key alone ([`decision_of_key`]).
pub(crate) fn selection_key(
    ir: &Ir,
    denies: impl Iterator<Item = usize>,
    paths_when: impl Iterator<Item = usize>,
    usable: impl Fn(usize) -> bool,
    out: &mut Vec<u32>,
) {
    out.clear();
    out.extend(denies.filter(|i| *i < ir.denies.len()).map(|i| i as u32));
    out.push(KEY_END);
    if out.len() > 1 {
        return; // denied: no offers
    }
    'paths: for pi in paths_when {
        let Some(p) = ir.paths.get(pi) else { continue };
        let start = out.len();
        out.push(pi as u32);
        for step in &p.steps {
            let before = out.len();
            out.extend(
                step.methods()
                    .iter()
                    .filter(|m| usable(m.index()))
                    .map(|m| m.0),
            );
            if out.len() - before < step.needed() {
                out.truncate(start);
                continue 'paths;
            }
            out.push(KEY_STEP);
        }
        out.push(KEY_END);
    }
}

/// The decision, with names, of a key written by [`selection_key`]. `offers`
/// caches the offers already built, so that terminals share them.
pub(crate) fn decision_of_key(ir: &Ir, key: &[u32], offers: &mut OfferCache) -> Decision {
    let (denies, rest) = match key.iter().position(|w| *w == KEY_END) {
        Some(end) => (
            key.get(..end).unwrap_or(&[]),
            key.get(end + 1..).unwrap_or(&[]),
        ),
        None => (key, &[][..]),
    };
    if !denies.is_empty() {
        let rules = || denies.iter().filter_map(|i| ir.denies.get(*i as usize));
        return Decision {
            kind: DecisionKind::Deny,
            paths: Vec::new(),
            denied_by: rules().map(|d| d.reason.clone()).collect(),
            deny_ids: denies.iter().map(|i| DenyId(*i)).collect(),
        };
    }
    let paths: Vec<Arc<Offer>> = rest
        .split(|w| *w == KEY_END)
        .filter_map(|part| {
            if let Some(o) = offers.get(part) {
                return Some(o.clone());
            }
            let o = Arc::new(offer_of_key(ir, part)?);
            offers.insert(part.into(), o.clone());
            Some(o)
        })
        .collect();
    let kind = if paths.is_empty() {
        DecisionKind::Lockout
    } else {
        DecisionKind::Allow
    };
    Decision {
        kind,
        paths,
        denied_by: Vec::new(),
        deny_ids: Vec::new(),
    }
}

/// The offer of one part of a key (`None` for the empty part after the last
/// `KEY_END`).
fn offer_of_key(ir: &Ir, part: &[u32]) -> Option<Offer> {
    let (pi, steps) = part.split_first()?;
    // Keys are written from the same IR: the index always exists.
    let p = ir.paths.get(*pi as usize)?;
    let step_ids: Vec<Vec<MethodId>> = steps
        .split(|w| *w == KEY_STEP)
        .take(p.steps.len())
        .map(|s| s.iter().map(|m| MethodId(*m)).collect())
        .collect();
    let method = |m: &MethodId| {
        ir.methods
            .get(m.index())
            .map_or_else(String::new, |x| x.name.clone())
    };
    Some(Offer {
        id: PathId(*pi).0,
        name: p.name.clone(),
        title: p.title.clone(),
        steps: step_ids
            .iter()
            .map(|s| s.iter().map(method).collect())
            .collect(),
        grants: p.grants.clone(),
        wait_s: p.wait_s,
        notify: p.notify.iter().map(method).collect(),
        step_ids,
        notify_ids: p.notify.clone(),
    })
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Policy};

    #[test]
    fn decisions_from_keys_name_the_usable_methods_and_share_offers() {
        let src = "policy p facts { a: bool b: bool c: bool frozen: bool } \
                   methods { ma: knowledge requires a mb: knowledge requires b \
                             mc: knowledge requires c } \
                   deny \"frozen\" when frozen \
                   path x { steps ma then any 2 of (ma, mb, mc) grants g } \
                   path y { steps mc grants g }";
        let policy = Policy::parse(src).unwrap();
        let engine = Engine::new(&policy).unwrap();
        let eval = |json: &str| {
            engine
                .evaluate(&engine.profile_from_json(json).unwrap())
                .clone()
        };
        let d = eval(r#"{"a": true, "b": false, "c": true, "frozen": false}"#);
        let steps: Vec<(&str, Vec<Vec<String>>)> = d
            .paths()
            .iter()
            .map(|o| (o.name(), o.steps.clone()))
            .collect();
        assert_eq!(
            steps,
            [
                (
                    "x",
                    vec![vec!["ma".to_string()], vec!["ma".into(), "mc".into()]]
                ),
                ("y", vec![vec!["mc".to_string()]]),
            ]
        );
        // `y` is offered alike whether or not `b` holds: one offer, shared.
        let e = eval(r#"{"a": false, "b": true, "c": true, "frozen": false}"#);
        assert_eq!(e.paths().len(), 1);
        assert!(std::sync::Arc::ptr_eq(&d.paths()[1], &e.paths()[0]));
        let denied = eval(r#"{"a": true, "b": true, "c": true, "frozen": true}"#);
        assert_eq!(denied.kind(), crate::DecisionKind::Deny);
        assert_eq!(denied.denied_by, ["frozen"]);
        let locked = eval(r#"{"a": false, "b": true, "c": false, "frozen": false}"#);
        assert_eq!(locked.kind(), crate::DecisionKind::Lockout);
        assert!(locked.paths().is_empty());
    }

    #[test]
    fn eval_json_has_the_schema_first_and_explain_last() {
        let src = "policy p facts { a: bool } methods { m: knowledge requires a } \
                   path x { steps m grants g wait 1h notify m }";
        let policy = Policy::parse(src).unwrap();
        let engine = Engine::new(&policy).unwrap();
        let profile = engine.profile_from_json(r#"{"a": true}"#).unwrap();
        let d = engine.evaluate(&profile);
        let v = d.to_json(None);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["schema", "decision", "paths", "denied_by"]);
        assert_eq!(
            v.to_string(),
            r#"{"schema":"regain.eval/1","decision":"allow","paths":[{"name":"x","steps":[["m"]],"grants":"g","wait_s":3600,"notify":["m"]}],"denied_by":[]}"#
        );
        let e = crate::explain::explain(&policy, profile.values());
        let v = d.to_json(Some(&e));
        assert_eq!(
            v.as_object()
                .unwrap()
                .keys()
                .next_back()
                .map(String::as_str),
            Some("explain")
        );
        assert_eq!(v["explain"]["paths"][0]["available"], true);
    }

    #[test]
    fn a_document_validates_like_json_text() {
        let policy = Policy::parse("policy p facts { a: bool n: int 0..3 } methods { m: knowledge requires a } path x { steps m grants g }").unwrap();
        let engine = Engine::new(&policy).unwrap();
        let doc = crate::profile::Document::from_json(r#"{"a": true, "n": 2}"#).unwrap();
        let p = engine.profile_from_document(&doc).unwrap();
        assert_eq!(
            p,
            engine.profile_from_json(r#"{"a": true, "n": 2}"#).unwrap()
        );
        let bad = crate::profile::Document::from_json(r#"{"a": 1, "n": 2.0}"#).unwrap();
        let e = engine.profile_from_document(&bad).unwrap_err();
        assert_eq!(e.problems.len(), 2);
        assert_eq!(e.fact.as_deref(), Some("a"));
    }
}

#[cfg(test)]
mod dense_tests {
    use crate::profile::{key_levels, KeyTarget};
    use crate::{Engine, Policy};

    /// Fill dense values from a JSON document by resolving keys with `key_levels`, the
    /// way the Python package does with Python dicts.
    fn dense<'e>(
        engine: &'e Engine,
        levels: &[Vec<(String, KeyTarget)>],
        doc: &serde_json::Value,
    ) -> crate::profile::DenseValues<'e> {
        let ir = engine.policy().ir();
        let mut d = engine.dense_values();
        let mut work = vec![(doc, 0usize)];
        while let Some((v, level)) = work.pop() {
            let Some(obj) = v.as_object() else {
                d.fail();
                continue;
            };
            for (k, v) in obj {
                match levels[level].iter().find(|(n, _)| n == k).map(|(_, t)| *t) {
                    Some(KeyTarget::Group(g)) => work.push((v, g)),
                    Some(KeyTarget::Fact(i)) => match v {
                        serde_json::Value::Bool(b) => d.bool(i, *b),
                        serde_json::Value::Number(n) if n.is_i64() => d.int(i, n.as_i64().unwrap()),
                        serde_json::Value::String(s) => match &ir.facts[i].ty {
                            crate::check::ir::FactType::Enum(vs) => {
                                match vs.iter().position(|x| x == s) {
                                    Some(x) => d.variant(i, x),
                                    None => d.fail(),
                                }
                            }
                            _ => d.fail(),
                        },
                        _ => d.fail(),
                    },
                    None => d.fail(),
                }
            }
        }
        d
    }

    #[test]
    fn dense_values_accept_exactly_what_documents_accept() {
        let src = "policy p facts { a.b.c: bool a.b.d: int 0..3 a.e: x | y f: bool = true g: int -2..2 } \
                   methods { m: knowledge requires a.b.c } path x { steps m grants g }";
        let policy = Policy::parse(src).unwrap();
        let engine = Engine::new(&policy).unwrap();
        let levels = key_levels(policy.ir());
        assert_eq!(levels.len(), 3); // the document, a, a.b
        let docs = [
            r#"{"a": {"b": {"c": true, "d": 2}, "e": "y"}, "g": -2}"#,
            r#"{"a.b.c": false, "a.b.d": 0, "a.e": "x", "f": false, "g": 2}"#,
            r#"{"a": {"b.c": true, "b": {"d": 3}, "e": "x"}, "g": 0}"#,
            r#"{"a": {"b": {}, "b.c": true, "b.d": 1, "e": "x"}, "g": 1}"#,
            // Problems: each must be rejected by both.
            r#"{"a": {"b": {"c": 1, "d": 2}, "e": "y"}, "g": 0}"#,
            r#"{"a": {"b": {"c": true, "d": true}, "e": "y"}, "g": 0}"#,
            r#"{"a": {"b": {"c": true, "d": 4}, "e": "y"}, "g": 0}"#,
            r#"{"a": {"b": {"c": true, "d": 2.0}, "e": "y"}, "g": 0}"#,
            r#"{"a": {"b": {"c": true, "d": 2}, "e": "z"}, "g": 0}"#,
            r#"{"a": {"b": {"c": true, "d": 2}, "e": "y"}}"#,
            r#"{"a": {"b": {"c": true, "d": 2}, "e": "y"}, "g": 0, "a.e": "x"}"#,
            r#"{"a": {"b": {"c": true, "d": 2}, "e": "y"}, "g": 0, "h": 1}"#,
            r#"{"a": {"b": true, "e": "y"}, "g": 0}"#,
            r#"{"a": {"b": {"c": true, "d": 2}, "e": "y"}, "g": 0, "f": null}"#,
            r#"{"a": {"b": {"c": true, "d": 2}, "e": "y"}, "g": -3}"#,
            r#"[1]"#,
        ];
        for doc in docs {
            let value: serde_json::Value = serde_json::from_str(doc).unwrap();
            let slow = engine.profile_from_json(doc).ok();
            let fast = dense(&engine, &levels, &value).finish();
            assert_eq!(fast, slow, "{doc}");
            // The values alone (no Profile) are the same, and lead to the same terminal.
            let values = dense(&engine, &levels, &value).finish_values();
            assert_eq!(
                values.as_deref(),
                slow.as_ref().map(|p| p.values()),
                "{doc}"
            );
            if let Some(p) = &fast {
                assert_eq!(engine.evaluate(p), engine.evaluate(slow.as_ref().unwrap()));
                let terminal = engine.terminal_of(&values.unwrap()).unwrap();
                assert_eq!(&engine.graph().decisions()[terminal], engine.evaluate(p));
            }
        }
    }
}
