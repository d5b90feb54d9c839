//! Decisions, the policy listing, health and metrics routes.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::decision::EvalView;
use crate::Profile;

use super::api::{self, ApiError};
use super::log::{Entry, Message};
use super::store::Loaded;
use super::App;

/// The most profiles in one batch.
pub const MAX_BATCH: usize = 10_000;

/// `?explain=true&metrics=true`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flags {
    #[serde(default)]
    explain: bool,
    #[serde(default)]
    metrics: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideBody<'a> {
    #[serde(borrow, default)]
    profile: Option<&'a RawValue>,
    #[serde(borrow, default)]
    profiles: Option<Vec<&'a RawValue>>,
}

#[derive(Serialize)]
struct Timers {
    timer_parse_ns: u128,
    timer_eval_ns: u128,
    timer_handler_ns: u128,
}

/// A `result`: serialized at load time, or built with an explanation.
#[derive(Serialize)]
#[serde(untagged)]
enum Result_<'a> {
    Rendered(&'a RawValue),
    Explained(EvalView<'a>),
}

#[derive(Serialize)]
struct One<'a> {
    decision_id: Uuid,
    policy: &'a str,
    revision: &'a str,
    result: Result_<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Timers>,
}

#[derive(Serialize)]
struct ItemError<'a> {
    code: &'static str,
    message: &'a str,
    fact: Option<&'a str>,
}

/// A batch item that is not a valid profile.
#[derive(Serialize)]
struct Failed<'a> {
    error: ItemError<'a>,
}

fn flags(q: Result<Query<Flags>, QueryRejection>) -> Result<Flags, ApiError> {
    q.map(|Query(f)| f).map_err(|e| {
        ApiError::bad_request(format!(
            "bad query: {}; the flags are explain=true|false and metrics=true|false",
            e.body_text()
        ))
    })
}

/// The policy of that name in the current snapshot, or 404 with the known names.
pub fn find(app: &App, name: &str) -> Result<Arc<Loaded>, ApiError> {
    let snap = app.store.load();
    if let Some(p) = snap.policies.get(name) {
        return Ok(p.clone());
    }
    let known: Vec<&str> = snap.policies.keys().map(String::as_str).collect();
    let hint = crate::diagnostic::did_you_mean(name, known.iter().copied())
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_policy",
        format!(
            "no policy named `{name}`{hint} (known: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ),
    ))
}

/// A decision request body at least this large (about 50 profiles) is answered on the
/// blocking pool, so that a thread answering HTTP never parses a large batch itself:
/// single decisions keep their latency while batches use every core.
pub const OFFLOAD_BYTES: usize = 16 * 1024;

/// `POST /v1/policies/{name}/decide`.
pub async fn decide(
    State(app): State<Arc<App>>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<Flags>, QueryRejection>,
    body: Body,
) -> Response {
    let start = Instant::now();
    match decide_inner(app, name, query, body, start).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn decide_inner(
    app: Arc<App>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<Flags>, QueryRejection>,
    body: Body,
    start: Instant,
) -> Result<Response, ApiError> {
    let flags = flags(query)?;
    let Path(name) = name.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let loaded = find(&app, &name)?;
    let bytes = api::read_body(body, app.max_body).await?;
    if bytes.len() < OFFLOAD_BYTES {
        return answer(&app, &loaded, &bytes, &flags, start);
    }
    let heavy = app.heavy.clone();
    api::on_pool(&heavy, move || answer(&app, &loaded, &bytes, &flags, start)).await
}

/// Parse the body, decide and answer.
fn answer(
    app: &App,
    loaded: &Arc<Loaded>,
    bytes: &[u8],
    flags: &Flags,
    start: Instant,
) -> Result<Response, ApiError> {
    let parse_start = Instant::now();
    // The common case, a batch of valid profiles, is read in one pass; anything else
    // (one profile, a bad item, a malformed body) by the path that words each problem.
    if let Some(list) = starts_as_batch(bytes)
        .then(|| {
            // The byte scanner first; serde's one-pass reader when it gives up
            // (escapes, fractions…).
            let engine = &loaded.engine;
            engine
                .dense_list_from_json_object(bytes, "profiles", MAX_BATCH)
                .or_else(|| fast_batch(engine, bytes))
        })
        .flatten()
    {
        let items: Vec<Result<&[i64], &crate::ProfileError>> = list.profiles().map(Ok).collect();
        return batch(app, loaded, &items, flags, start, parse_start);
    }
    let parsed: DecideBody = api::parse(bytes)?;
    match (parsed.profile, parsed.profiles) {
        (Some(p), None) => one(app, loaded, p, flags, start, parse_start),
        (None, Some(ps)) => batch_each(app, loaded, &ps, flags, start, parse_start),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "give either `profile` or `profiles`, not both",
        )),
        (None, None) => Err(ApiError::bad_request(
            "give `profile` (one profile) or `profiles` (a list of at most 10000)",
        )),
    }
}

fn logged_fields(loaded: &Loaded, values: &[i64]) -> Vec<i64> {
    loaded
        .log_fields
        .iter()
        .filter_map(|i| values.get(*i).copied())
        .collect()
}

fn one(
    app: &App,
    loaded: &Arc<Loaded>,
    raw: &RawValue,
    flags: &Flags,
    start: Instant,
    parse_start: Instant,
) -> Result<Response, ApiError> {
    let profile = loaded
        .engine
        .profile_from_json(raw.get())
        .map_err(|e| ApiError::invalid_profile(&e))?;
    let eval_start = Instant::now();
    let d = loaded.engine.evaluate(&profile);
    let eval_ns = eval_start.elapsed();
    loaded.metrics.duration.observe(eval_ns.as_secs_f64());
    loaded.metrics.counter(d.kind()).inc();
    let terminal = loaded.terminal(d);
    let id = super::ids::now();
    if let Some(log) = &app.log {
        log.send(Message {
            batch_id: None,
            time: SystemTime::now(),
            policy: loaded.clone(),
            entries: vec![Entry {
                decision_id: id,
                terminal,
                fields: logged_fields(loaded, profile.values()),
            }],
        });
    }
    let explanation = flags
        .explain
        .then(|| crate::explain::explain(loaded.engine.policy(), profile.values()));
    let result = match &explanation {
        Some(e) => Result_::Explained(EvalView {
            decision: d,
            explain: Some(e),
        }),
        None => Result_::Rendered(loaded.rendered(terminal)),
    };
    let metrics = flags.metrics.then(|| Timers {
        timer_parse_ns: eval_start.duration_since(parse_start).as_nanos(),
        timer_eval_ns: eval_ns.as_nanos(),
        timer_handler_ns: start.elapsed().as_nanos(),
    });
    Ok(api::json_response(
        StatusCode::OK,
        &One {
            decision_id: id,
            policy: &loaded.name,
            revision: &loaded.revision,
            result,
            metrics,
        },
    ))
}

/// Whether the body's first key is `"profiles"`: only then is the one-pass batch reader
/// worth trying (a single profile would only make it fail).
fn starts_as_batch(bytes: &[u8]) -> bool {
    bytes
        .trim_ascii_start()
        .strip_prefix(b"{")
        .is_some_and(|rest| rest.trim_ascii_start().starts_with(b"\"profiles\""))
}

/// `{"profiles": [...]}` read in one pass straight into dense values; `None` for any
/// other body, or when an item is not a valid profile (the item-by-item path then
/// answers each item, with the errors in place).
fn fast_batch(engine: &crate::Engine, bytes: &[u8]) -> Option<crate::profile::DenseList> {
    use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, Visitor};
    struct Body<'e>(crate::profile::DenseListSeed<'e>);
    type List = crate::profile::DenseList;
    impl<'de> DeserializeSeed<'de> for Body<'_> {
        type Value = List;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<List, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Body<'_> {
        type Value = List;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("{\"profiles\": [...]}")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<List, A::Error> {
            if map.next_key::<&str>()? != Some("profiles") {
                return Err(A::Error::custom("not a batch"));
            }
            let values = map.next_value_seed(self.0)?;
            if map.next_key::<&str>()?.is_some() {
                return Err(A::Error::custom("more than `profiles`"));
            }
            Ok(values)
        }
    }
    // Checking the text once is cheaper than checking each string as it is read.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let values = Body(engine.dense_list_seed(MAX_BATCH))
        .deserialize(&mut de)
        .ok()?;
    de.end().ok()?;
    Some(values)
}

/// A batch: the profiles' dense values, or the error of each one that is not valid.
type Items<'a> = [Result<&'a [i64], &'a crate::ProfileError>];

/// A batch judged item by item: each bad item is answered in place.
fn batch_each(
    app: &App,
    loaded: &Arc<Loaded>,
    raws: &[&RawValue],
    flags: &Flags,
    start: Instant,
    parse_start: Instant,
) -> Result<Response, ApiError> {
    if raws.len() > MAX_BATCH {
        return Err(ApiError::too_large(format!(
            "{} profiles in one batch; at most {MAX_BATCH}",
            raws.len()
        )));
    }
    let profiles: Vec<Result<Profile, crate::ProfileError>> = raws
        .iter()
        .map(|r| loaded.engine.profile_from_json(r.get()))
        .collect();
    let items: Vec<Result<&[i64], &crate::ProfileError>> = profiles
        .iter()
        .map(|p| p.as_ref().map(Profile::values))
        .collect();
    batch(app, loaded, &items, flags, start, parse_start)
}

fn batch(
    app: &App,
    loaded: &Arc<Loaded>,
    items: &Items,
    flags: &Flags,
    start: Instant,
    parse_start: Instant,
) -> Result<Response, ApiError> {
    let engine = &loaded.engine;
    let eval_start = Instant::now();
    let mut counts = [0u64; 3];
    let terminals: Vec<Option<usize>> = items
        .iter()
        .map(|p| match p {
            Ok(v) => {
                let t = engine.terminal_of(v);
                let k = match engine.decision_at(t).kind() {
                    crate::DecisionKind::Allow => 0,
                    crate::DecisionKind::Deny => 1,
                    crate::DecisionKind::Lockout => 2,
                };
                if let Some(c) = counts.get_mut(k) {
                    *c += 1;
                }
                t
            }
            Err(_) => None,
        })
        .collect();
    let eval_ns = eval_start.elapsed();
    // Timing each evaluation would cost two clock reads per decision, more than the
    // evaluation itself: the batch's evaluations are timed together and each is counted
    // at their mean.
    let decided: u64 = counts.iter().sum();
    if decided > 0 {
        let mean = eval_ns.as_secs_f64() / decided as f64;
        for _ in 0..decided {
            loaded.metrics.duration.observe(mean);
        }
    }
    for (c, n) in loaded.metrics.decisions.iter().zip(counts) {
        if n > 0 {
            c.inc_by(n);
        }
    }
    let now = SystemTime::now();
    let ms = super::ids::millis(now);
    let batch_id = super::ids::v7(ms);
    let explanations: Vec<Option<crate::explain::Explanation>> = items
        .iter()
        .map(|p| match (flags.explain, p) {
            (true, Ok(v)) => Some(crate::explain::explain(engine.policy(), v)),
            _ => None,
        })
        .collect();
    // The answer is written straight into one buffer, sized once: the rendered results
    // are copied as they are, only ids and errors are formatted.
    let per_item = 64
        + loaded.rendered(None).get().len().max(
            terminals
                .iter()
                .flatten()
                .next()
                .map_or(0, |t| loaded.rendered(Some(*t)).get().len()),
        );
    let mut out = Vec::with_capacity(items.len() * per_item + 256);
    out.extend_from_slice(b"{\"batch_id\":");
    push_uuid(&mut out, batch_id);
    out.extend_from_slice(b",\"policy\":");
    write_json(&mut out, &loaded.name)?;
    out.extend_from_slice(b",\"revision\":");
    write_json(&mut out, &loaded.revision)?;
    out.extend_from_slice(b",\"results\":[");
    let mut entries = Vec::new();
    for (i, ((p, terminal), e)) in items.iter().zip(&terminals).zip(&explanations).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match p {
            Ok(v) => {
                let terminal = *terminal;
                let id = super::ids::v7(ms);
                if app.log.is_some() {
                    entries.push(Entry {
                        decision_id: id,
                        terminal,
                        fields: logged_fields(loaded, v),
                    });
                }
                out.extend_from_slice(b"{\"decision_id\":");
                push_uuid(&mut out, id);
                out.extend_from_slice(b",\"result\":");
                match e {
                    Some(e) => write_json(
                        &mut out,
                        &EvalView {
                            decision: engine.decision_at(terminal),
                            explain: Some(e),
                        },
                    )?,
                    None => out.extend_from_slice(loaded.rendered(terminal).get().as_bytes()),
                }
                out.push(b'}');
            }
            Err(e) => write_json(
                &mut out,
                &Failed {
                    error: ItemError {
                        code: "invalid_profile",
                        message: &e.message,
                        fact: e.fact.as_deref(),
                    },
                },
            )?,
        }
    }
    out.push(b']');
    if let Some(log) = &app.log {
        if !entries.is_empty() {
            log.send(Message {
                batch_id: Some(batch_id),
                time: now,
                policy: loaded.clone(),
                entries,
            });
        }
    }
    if flags.metrics {
        out.extend_from_slice(b",\"metrics\":");
        write_json(
            &mut out,
            &Timers {
                timer_parse_ns: eval_start.duration_since(parse_start).as_nanos(),
                timer_eval_ns: eval_ns.as_nanos(),
                timer_handler_ns: start.elapsed().as_nanos(),
            },
        )?;
    }
    out.push(b'}');
    Ok(api::json_bytes(StatusCode::OK, out))
}

/// A UUID as a JSON string.
fn push_uuid(out: &mut Vec<u8>, id: Uuid) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push(b'"');
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
    out.push(b'"');
}

/// A value's JSON appended to `out`.
fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), ApiError> {
    serde_json::to_writer(out, value).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot write JSON: {e}"),
        )
    })
}

/// `GET /v1/policies`.
pub async fn list(State(app): State<Arc<App>>) -> Response {
    let snap = app.store.snapshot();
    let mut policies: Vec<Value> = snap
        .policies
        .values()
        .map(|l| l.describe(snap.failure_of(&l.name)))
        .collect();
    // Files that never loaded are listed too, with their error.
    for f in snap.failures.iter().filter(|f| f.policy.is_none()) {
        policies.push(json!({
            "name": null,
            "revision": null,
            "file": f.file.display().to_string(),
            "facts": [],
            "methods": [],
            "paths": [],
            "loaded_at": null,
            "error": f.to_json(),
        }));
    }
    api::json_response(StatusCode::OK, &json!({ "policies": policies }))
}

/// `GET /v1/policies/{name}`: the listing entry, its source and its model (the
/// `NAME.model.yaml` beside the file, or null).
pub async fn show(
    State(app): State<Arc<App>>,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let inner = || -> Result<Response, ApiError> {
        let Path(name) = name.map_err(|e| ApiError::bad_request(e.body_text()))?;
        let loaded = find(&app, &name)?;
        let snap = app.store.snapshot();
        let mut v = loaded.describe(snap.failure_of(&name));
        let model = loaded
            .file
            .file_stem()
            .and_then(|s| s.to_str())
            .map(|s| loaded.file.with_file_name(format!("{s}.model.yaml")))
            .and_then(|p| std::fs::read_to_string(p).ok());
        if let Some(o) = v.as_object_mut() {
            o.insert("source".into(), json!(loaded.engine.policy().source()));
            o.insert("model".into(), json!(model));
        }
        Ok(api::json_response(StatusCode::OK, &v))
    };
    match inner() {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// `GET /health/live`.
pub async fn live() -> Response {
    api::json_response(StatusCode::OK, &json!({}))
}

/// `GET /health/ready` and `GET /health`.
pub async fn ready(State(app): State<Arc<App>>) -> Response {
    let snap = app.store.load();
    if snap.failures.is_empty() {
        return api::json_response(StatusCode::OK, &json!({}));
    }
    let errors: Vec<Value> = snap
        .failures
        .iter()
        .map(|f| {
            json!({
                "policy": f.policy,
                "file": f.file.display().to_string(),
                "message": f.message,
            })
        })
        .collect();
    api::json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({
            "code": "unavailable",
            "message": "a policy's newest file failed to load (its last good revision still serves)",
            "errors": errors,
        }),
    )
}

/// `GET /metrics`.
pub async fn metrics(State(app): State<Arc<App>>) -> Response {
    match app.metrics.encode() {
        Ok(text) => api::text_response(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            text,
        ),
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "cannot encode the metrics",
        )
        .into_response(),
    }
}
