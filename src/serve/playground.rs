//! The playground page (`regain serve --playground`, `regain playground`): a single
//! page served at `/`, embedded in the binary. It talks to the authoring endpoints of
//! the same server.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// The page, embedded at build time.
const INDEX: &str = include_str!("../../web/index.html");

/// The playground's routes (stateless): `GET /` answers the page.
pub fn router() -> Router {
    Router::new().route("/", get(index))
}

async fn index() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
}
