//! The playground page (`regain serve --playground`, `regain playground`): a single
//! page served at `/`, embedded in the binary (web/: plain HTML, CSS and JavaScript, no
//! build step). It talks to the authoring endpoints of the same server; the routes here
//! add only what the page itself needs:
//!
//! - `GET /`, `/app.js`, `/style.css`: the page;
//! - `GET /playground/seeds`: the seed example (policy, profile, model) and the shipped
//!   policies' models by policy name;
//! - `POST /playground/charts/simulation`: the charts of a simulation report (the body is
//!   the JSON of `/v1/simulate`), drawn by the HTML reports' chart functions.

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

/// The page, embedded at build time.
const INDEX: &str = include_str!("../../web/index.html");
/// The page's script.
const APP_JS: &str = include_str!("../../web/app.js");
/// The page's styles.
const STYLE: &str = include_str!("../../web/style.css");

/// The seed example: the shipped Alipay-style policy, its model and a profile.
const SEED_SOURCE: &str = include_str!("../../policies/alipay.regain");
const SEED_MODEL: &str = include_str!("../../policies/alipay.model.yaml");
const SEED_PROFILE: &str = r#"{
  "phone": {"bound": true, "active": false, "sim_changed_days": 400, "owner_verified": true},
  "device": {"trusted": false},
  "email": {"bound": true, "verified": true, "changed_days": 900},
  "questions": {"set": 3},
  "identity": {"verified": true},
  "bank_card": {"bound": true},
  "account": {"risk": "low"}
}"#;

/// The shipped policies' models, by `policy NAME` (a loaded policy of that name gets
/// its model in the simulation tab).
const MODELS: [(&str, &str); 4] = [
    ("alipay_password_reset", SEED_MODEL),
    (
        "bank_online_banking_recovery",
        include_str!("../../policies/bank.model.yaml"),
    ),
    (
        "consumer_account_recovery",
        include_str!("../../policies/consumer.model.yaml"),
    ),
    (
        "entra_sspr",
        include_str!("../../policies/entra_sspr.model.yaml"),
    ),
];

/// The playground's routes (stateless).
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/app.js", get(app_js))
        .route("/style.css", get(style))
        .route("/playground/seeds", get(seeds))
        .route("/playground/charts/simulation", post(simulation_charts))
}

fn text(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    text("text/html; charset=utf-8", INDEX)
}

async fn app_js() -> Response {
    text("text/javascript; charset=utf-8", APP_JS)
}

async fn style() -> Response {
    text("text/css; charset=utf-8", STYLE)
}

/// The shipped policies' models by policy name.
fn model_names() -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (name, model) in MODELS {
        out.insert(name.to_string(), json!(model));
    }
    out
}

async fn seeds() -> Response {
    axum::Json(json!({
        "seed": {"source": SEED_SOURCE, "profile": SEED_PROFILE, "model": SEED_MODEL},
        "models": model_names(),
    }))
    .into_response()
}

fn bad(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"code": "bad_request", "message": message, "errors": []})),
    )
        .into_response()
}

/// `{"charts": [{"id", "svg"}]}` for a simulation report's JSON.
async fn simulation_charts(body: Bytes) -> Response {
    #[cfg(feature = "report")]
    {
        let report: crate::simulate::Report = match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return bad(format!("not a simulation report: {e}")),
        };
        let charts: Vec<serde_json::Value> = crate::report::simulation_charts(&report)
            .into_iter()
            .map(|(id, svg)| json!({"id": id, "svg": svg}))
            .collect();
        axum::Json(json!({ "charts": charts })).into_response()
    }
    #[cfg(not(feature = "report"))]
    {
        let _ = body;
        bad("this regain was built without the `report` feature".into())
    }
}
