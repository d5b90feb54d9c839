//! The authoring endpoints (design/serve.md): check, eval, analyze, graph, simulate,
//! diff and fmt of a policy source sent in the request. Each compiles per request on
//! the blocking pool, bounded: the graph's node limit, [`TIME_LIMIT`] per request,
//! [`MAX_TRIALS`] simulation trials, and at most as many running at once as there are
//! cores (a request over time is answered `413 too_large`; its work stops at its own
//! bounds and holds its slot until then).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::decision::EvalView;
use crate::graph::paths::{self, PathsView};
use crate::graph::{dot, svg};
use crate::{Engine, Policy};

use super::api::{self, ApiError};
use super::App;

/// The longest an authoring request may take.
pub const TIME_LIMIT: Duration = Duration::from_secs(5);
/// The most simulation trials one request may ask for.
pub const MAX_TRIALS: u64 = 1_000_000;
/// Trials when the request does not say.
pub const DEFAULT_TRIALS: u64 = 100_000;
/// Above this many graph nodes the graph is drawn as paths unless `view: "mdd"`.
pub const MDD_MAX_NODES: usize = 300;

/// Run `f` on the blocking pool within the time limit and the concurrency bound.
async fn bounded<F>(app: &App, f: F) -> Response
where
    F: FnOnce() -> Result<Response, ApiError> + Send + 'static,
{
    let work = api::on_pool(&app.authoring, f);
    match tokio::time::timeout(TIME_LIMIT, work).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => e.into_response(),
        Err(_) => ApiError::too_large(format!(
            "the request took longer than {} s (the authoring endpoints' bound)",
            TIME_LIMIT.as_secs()
        ))
        .into_response(),
    }
}

/// Read and parse the body, then run `f` bounded.
async fn handle<T, F>(app: Arc<App>, body: Body, f: F) -> Response
where
    T: DeserializeOwned + Send + 'static,
    F: FnOnce(T) -> Result<Response, ApiError> + Send + 'static,
{
    let bytes = match api::read_body(body, app.max_body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let req: T = match api::parse(&bytes) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    bounded(&app, move || f(req)).await
}

fn policy(source: &str) -> Result<Policy, ApiError> {
    Policy::parse(source).map_err(|d| ApiError::invalid_policy(&d))
}

fn engine(policy: &Policy) -> Result<Engine, ApiError> {
    Engine::new(policy).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_policy",
            format!("the policy does not compile: {e}"),
        )
    })
}

fn ok<T: serde::Serialize>(v: &T) -> Result<Response, ApiError> {
    Ok(api::json_response(StatusCode::OK, v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    source: String,
}

/// `POST /v1/check` → `{ok, diagnostics, summary}` (200 even with errors).
pub async fn check(State(app): State<Arc<App>>, body: Body) -> Response {
    handle(app, body, |r: Source| {
        let (diags, summary) = match Policy::parse(&r.source) {
            Ok(p) => {
                let ir = p.ir();
                let summary = json!({
                    "facts": ir.facts.len(),
                    "methods": ir.methods.len(),
                    "deny": ir.denies.len(),
                    "paths": ir.paths.len(),
                });
                (p.warnings(), summary)
            }
            Err(d) => (d, Value::Null),
        };
        ok(&json!({
            "ok": !diags.has_errors(),
            "diagnostics": super::diagnostics_json(&diags),
            "summary": summary,
        }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvalReq {
    source: String,
    profile: Box<RawValue>,
    #[serde(default)]
    explain: bool,
}

/// `POST /v1/eval` → as `regain eval --format json` (+ `explain`).
pub async fn eval(State(app): State<Arc<App>>, body: Body) -> Response {
    handle(app, body, |r: EvalReq| {
        let policy = policy(&r.source)?;
        let engine = engine(&policy)?;
        let profile = engine
            .profile_from_json(r.profile.get())
            .map_err(|e| ApiError::invalid_profile(&e))?;
        let d = engine.evaluate(&profile);
        let e = r
            .explain
            .then(|| crate::explain::explain(&policy, profile.values()));
        ok(&EvalView {
            decision: d,
            explain: e.as_ref(),
        })
    })
    .await
}

/// `POST /v1/analyze` → as `regain analyze --format json`.
pub async fn analyze(State(app): State<Arc<App>>, body: Body) -> Response {
    handle(app, body, |r: Source| {
        let policy = policy(&r.source)?;
        let engine = engine(&policy)?;
        ok(&crate::analyze::analyze(&engine))
    })
    .await
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum GraphFormat {
    Dot,
    Json,
    Svg,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum GraphView {
    Paths,
    Mdd,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GraphReq {
    source: String,
    format: GraphFormat,
    #[serde(default)]
    view: Option<GraphView>,
}

/// `POST /v1/graph` → DOT text, SVG (drawn by regain) or the graph's JSON, as `regain
/// graph --format dot|svg|json [--view paths|mdd]` prints them.
pub async fn graph(State(app): State<Arc<App>>, body: Body) -> Response {
    handle(app, body, |r: GraphReq| {
        let policy = policy(&r.source)?;
        let compiled = Engine::new(&policy);
        let ir = policy.ir();
        let nodes = compiled.as_ref().ok().map(|e| e.graph().stats().nodes);
        let view = r.view.unwrap_or(match nodes {
            Some(n) if n <= MDD_MAX_NODES => GraphView::Mdd,
            _ => GraphView::Paths,
        });
        let paths_view = |engine: Option<&Engine>| match engine {
            Some(e) => crate::analyze::paths_view(e),
            None => PathsView::new(ir, policy.source(), None),
        };
        match (r.format, view) {
            (GraphFormat::Dot, GraphView::Paths) => Ok(api::text_response(
                "text/vnd.graphviz; charset=utf-8",
                paths::to_dot(&paths_view(compiled.as_ref().ok())),
            )),
            (GraphFormat::Svg, GraphView::Paths) => Ok(api::text_response(
                "image/svg+xml",
                paths::to_svg(&paths_view(compiled.as_ref().ok())),
            )),
            (format, _) => {
                let e = compiled.map_err(|e| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_policy",
                        format!("the policy does not compile: {e}"),
                    )
                })?;
                Ok(match format {
                    GraphFormat::Dot => api::text_response(
                        "text/vnd.graphviz; charset=utf-8",
                        dot::to_dot(e.graph(), ir),
                    ),
                    GraphFormat::Svg => {
                        api::text_response("image/svg+xml", svg::mdd_svg(e.graph(), ir))
                    }
                    GraphFormat::Json => {
                        api::json_response(StatusCode::OK, &dot::to_json(e.graph(), ir))
                    }
                })
            }
        }
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulateReq {
    source: String,
    model: String,
    #[serde(default)]
    trials: Option<u64>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    exact: bool,
}

/// `POST /v1/simulate` → as `regain simulate --format json`.
pub async fn simulate(State(app): State<Arc<App>>, body: Body) -> Response {
    handle(app, body, |r: SimulateReq| {
        let trials = r.trials.unwrap_or(DEFAULT_TRIALS);
        if trials > MAX_TRIALS {
            return Err(ApiError::too_large(format!(
                "{trials} trials; at most {MAX_TRIALS} per request"
            )));
        }
        let policy = policy(&r.source)?;
        let engine = engine(&policy)?;
        let model = crate::simulate::Model::from_yaml(&policy, &r.model).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the model is not valid: {e}"),
            )
        })?;
        let sim_err = |e: crate::simulate::SimError| match e {
            crate::simulate::SimError::TooLarge(m) => ApiError::too_large(m),
            other => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", other.to_string()),
        };
        let report = if r.exact {
            crate::simulate::exact::exact(&engine, &model)
        } else {
            let opts = crate::simulate::Options {
                trials,
                seed: r.seed.unwrap_or(1),
                threads: 1,
                shard: None,
            };
            crate::simulate::simulate(&engine, &model, opts, &|_| {})
        }
        .map_err(sim_err)?;
        ok(&report)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffReq {
    old: String,
    new: String,
}

/// `POST /v1/diff` → as `regain diff --format json`.
pub async fn diff(State(app): State<Arc<App>>, body: Body) -> Response {
    handle(app, body, |r: DiffReq| {
        let named = |which: &str, src: &str| {
            Policy::parse_named(which, src).map_err(|d| {
                let mut e = ApiError::invalid_policy(&d);
                e.message = format!("`{which}`: {}", e.message);
                e
            })
        };
        let old = named("old", &r.old)?;
        let new = named("new", &r.new)?;
        let d = crate::analyze::diff::diff(&old, &new, crate::CompileOptions::default())
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_policy", e.to_string()))?;
        ok(&d)
    })
    .await
}

/// `POST /v1/fmt` → `{"source": formatted}`.
pub async fn fmt(State(app): State<Arc<App>>, body: Body) -> Response {
    handle(app, body, |r: Source| match crate::fmt::format(&r.source) {
        Ok(formatted) => ok(&json!({ "source": formatted })),
        Err(items) => Err(ApiError::invalid_policy(&crate::Diagnostics {
            name: "<policy>".into(),
            source: r.source.as_str().into(),
            items,
        })),
    })
    .await
}
