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

#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Decided {
        decision_id: Uuid,
        result: Result_<'a>,
    },
    Failed {
        error: ItemError<'a>,
    },
}

#[derive(Serialize)]
struct Batch<'a> {
    batch_id: Uuid,
    policy: &'a str,
    revision: &'a str,
    results: Vec<Item<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Timers>,
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

/// `POST /v1/policies/{name}/decide`.
pub async fn decide(
    State(app): State<Arc<App>>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<Flags>, QueryRejection>,
    body: Body,
) -> Response {
    let start = Instant::now();
    match decide_inner(&app, name, query, body, start).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn decide_inner(
    app: &App,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<Flags>, QueryRejection>,
    body: Body,
    start: Instant,
) -> Result<Response, ApiError> {
    let flags = flags(query)?;
    let Path(name) = name.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let loaded = find(app, &name)?;
    let bytes = api::read_body(body, app.max_body).await?;
    let parse_start = Instant::now();
    let parsed: DecideBody = api::parse(&bytes)?;
    match (parsed.profile, parsed.profiles) {
        (Some(p), None) => one(app, &loaded, p, &flags, start, parse_start),
        (None, Some(ps)) => batch(app, &loaded, &ps, &flags, start, parse_start),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "give either `profile` or `profiles`, not both",
        )),
        (None, None) => Err(ApiError::bad_request(
            "give `profile` (one profile) or `profiles` (a list of at most 10000)",
        )),
    }
}

fn logged_fields(loaded: &Loaded, p: &Profile) -> Vec<i64> {
    loaded
        .log_fields
        .iter()
        .filter_map(|i| p.values().get(*i).copied())
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
                fields: logged_fields(loaded, &profile),
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

fn batch(
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
    let engine = &loaded.engine;
    let profiles: Vec<Result<Profile, crate::ProfileError>> = raws
        .iter()
        .map(|r| engine.profile_from_json(r.get()))
        .collect();
    let eval_start = Instant::now();
    let mut counts = [0u64; 3];
    let decisions: Vec<Option<&crate::Decision>> = profiles
        .iter()
        .map(|p| {
            p.as_ref().ok().map(|p| {
                let d = engine.evaluate(p);
                let k = match d.kind() {
                    crate::DecisionKind::Allow => 0,
                    crate::DecisionKind::Deny => 1,
                    crate::DecisionKind::Lockout => 2,
                };
                if let Some(c) = counts.get_mut(k) {
                    *c += 1;
                }
                d
            })
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
    let explanations: Vec<Option<crate::explain::Explanation>> = profiles
        .iter()
        .map(|p| match (flags.explain, p) {
            (true, Ok(p)) => Some(crate::explain::explain(engine.policy(), p.values())),
            _ => None,
        })
        .collect();
    let mut entries = Vec::new();
    let mut results = Vec::with_capacity(raws.len());
    for ((p, d), e) in profiles.iter().zip(&decisions).zip(&explanations) {
        match (p, d) {
            (Ok(p), Some(d)) => {
                let id = super::ids::v7(ms);
                let terminal = loaded.terminal(d);
                if app.log.is_some() {
                    entries.push(Entry {
                        decision_id: id,
                        terminal,
                        fields: logged_fields(loaded, p),
                    });
                }
                let result = match e {
                    Some(e) => Result_::Explained(EvalView {
                        decision: d,
                        explain: Some(e),
                    }),
                    None => Result_::Rendered(loaded.rendered(terminal)),
                };
                results.push(Item::Decided {
                    decision_id: id,
                    result,
                });
            }
            (Err(e), _) => results.push(Item::Failed {
                error: ItemError {
                    code: "invalid_profile",
                    message: &e.message,
                    fact: e.fact.as_deref(),
                },
            }),
            (Ok(_), None) => {}
        }
    }
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
    let metrics = flags.metrics.then(|| Timers {
        timer_parse_ns: eval_start.duration_since(parse_start).as_nanos(),
        timer_eval_ns: eval_ns.as_nanos(),
        timer_handler_ns: start.elapsed().as_nanos(),
    });
    // The answer's size is known closely: reserve it once instead of growing by copies.
    let per_item = 64
        + loaded.rendered(None).get().len().max(
            decisions
                .iter()
                .flatten()
                .next()
                .map_or(0, |d| loaded.rendered(loaded.terminal(d)).get().len()),
        );
    Ok(api::json_response_sized(
        StatusCode::OK,
        raws.len() * per_item + 256,
        &Batch {
            batch_id,
            policy: &loaded.name,
            revision: &loaded.revision,
            results,
            metrics,
        },
    ))
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
