//! `regain serve`: the HTTP decision service (design/serve.md), behind the `serve`
//! feature. Decisions, the policy listing, hot reload, health, Prometheus metrics, the
//! decision log, bearer-token auth, optional TLS, graceful shutdown and the authoring
//! endpoints, on tokio + axum (hyper) with tower layers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = regain::serve::Config::new(vec!["policies".into()]);
//! let server = regain::serve::start(config).await?;
//! eprintln!("listening on http://{}", server.addr());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! `regain serve` builds its runtime with [`share::install`], so that its HTTP thread
//! yields the core to a waiting client thread; a program that embeds the server can
//! do the same.

pub mod api;
pub mod author;
pub mod decide;
pub mod ids;
pub mod log;
pub mod metrics;
pub mod playground;
pub mod share;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use api::ApiError;
use log::{DecisionLog, LogTarget};
use metrics::Metrics;
use store::{Failure, Store};

/// How long shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The default `--max-body`: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take (bodies included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's settings (the flags of `regain serve`).
#[derive(Clone, Debug)]
pub struct Config {
    /// Policy files or folders.
    pub paths: Vec<PathBuf>,
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub addr: SocketAddr,
    /// How often files are re-read.
    pub poll: Duration,
    /// The bearer token clients must send, when set.
    pub token: Option<String>,
    /// Where decisions are logged, when set.
    pub decision_log: Option<LogTarget>,
    /// Facts written to the decision log's `profile`.
    pub log_fields: Vec<String>,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// PEM certificate chain and private key, for HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Serve the playground page at `/`.
    pub playground: bool,
}

impl Config {
    /// The defaults of `regain serve PATH...`.
    pub fn new(paths: Vec<PathBuf>) -> Config {
        Config {
            paths,
            addr: SocketAddr::from(([127, 0, 0, 1], 8181)),
            poll: Duration::from_secs(2),
            token: None,
            decision_log: None,
            log_fields: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            tls: None,
            playground: false,
        }
    }
}

/// Why the server did not start.
#[derive(Debug)]
pub enum StartError {
    /// Policies that do not load (each with its diagnostics when it does not check).
    Policies(Vec<Failure>),
    /// Anything else: the address, the TLS files, the decision log.
    Other(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Policies(fs) => {
                let lines: Vec<&str> = fs.iter().map(|f| f.message.as_str()).collect();
                write!(f, "policies do not load: {}", lines.join("; "))
            }
            StartError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StartError {}

/// What every handler shares.
pub struct App {
    /// The policies.
    pub store: Store,
    /// The metrics.
    pub metrics: Metrics,
    /// The decision log, when on.
    pub log: Option<DecisionLog>,
    /// The largest request body.
    pub max_body: usize,
    /// sha256 of the bearer token, when one is required.
    token_hash: Option<[u8; 32]>,
    /// Authoring requests running at once.
    pub authoring: Arc<Semaphore>,
    /// Large decision requests being answered on the blocking pool at once (one per
    /// core).
    pub heavy: Arc<Semaphore>,
    /// Set once shutdown began.
    shutting_down: AtomicBool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// Diagnostics as the JSON objects the API answers.
pub fn diagnostics_json(d: &crate::Diagnostics) -> Vec<Value> {
    // The library's one machine-readable shape (the CLI's `check --format json`):
    // `code`, `severity`, `message`, `help`, `location` and the flat positions.
    d.views()
        .into_iter()
        .filter_map(|v| serde_json::to_value(v).ok())
        .collect()
}

/// The routes, with their layers, for `app`.
pub fn router(app: Arc<App>, playground: bool) -> Router {
    let v1 = Router::new()
        .route("/v1/policies", get(decide::list))
        .route("/v1/policies/{name}", get(decide::show))
        .route("/v1/policies/{name}/decide", post(decide::decide))
        .route("/v1/check", post(author::check))
        .route("/v1/eval", post(author::eval))
        .route("/v1/analyze", post(author::analyze))
        .route("/v1/graph", post(author::graph))
        .route("/v1/simulate", post(author::simulate))
        .route("/v1/diff", post(author::diff))
        .route("/v1/fmt", post(author::fmt))
        .route("/metrics", get(decide::metrics))
        .layer(middleware::from_fn_with_state(app.clone(), auth));
    let health = Router::new()
        .route("/health/live", get(decide::live))
        .route("/health/ready", get(decide::ready))
        .route("/health", get(decide::ready));
    let mut r = Router::new().merge(v1).merge(health);
    if playground {
        r = r.merge(playground::router().with_state(()));
    }
    r.fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(app)
}

/// Count and time every request; answer 503 once shutdown began. A thread of a runtime
/// with [`share::install`]'s hooks that has run a whole [`share::SLICE`] without sleeping
/// first gives the core away.
async fn observe(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    share::before_request(start);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = if app.shutting_down.load(Ordering::Relaxed) {
        let mut r = ApiError::unavailable("the server is shutting down").into_response();
        r.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        r
    } else {
        next.run(req).await
    };
    app.metrics.http(
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

/// `Authorization: Bearer <token>`, compared in constant time (of sha256 digests, so
/// the token's length does not show either).
async fn auth(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let Some(expected) = &app.token_hash else {
        return next.run(req).await;
    };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| -> [u8; 32] { Sha256::digest(t.trim().as_bytes()).into() });
    let ok = given.is_some_and(|g| bool::from(g.ct_eq(expected)));
    if ok {
        next.run(req).await
    } else {
        let mut r = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer <token>` with the server's token",
        )
        .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        r
    }
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    log_thread: Option<std::thread::JoinHandle<()>>,
    reload: tokio::sync::mpsc::Sender<()>,
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (policies, metrics).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Ask for a reload now (as SIGHUP does).
    pub fn reload(&self) {
        let _ = self.reload.try_send(());
    }

    /// Stop accepting, let requests in flight finish (at most [`SHUTDOWN_GRACE`]),
    /// flush the decision log.
    pub async fn shutdown(self) {
        self.app.shutting_down.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        let _ = self.task.await;
        // The log thread ends when the last sender is gone: drop the app's.
        let Server {
            app, log_thread, ..
        } = self;
        drop(app);
        if let Some(t) = log_thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

fn tls_acceptor(cert: &PathBuf, key: &PathBuf) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("cannot read certificates from `{}`: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in `{}`", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read a private key from `{}`: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Load the policies (every one must check and compile), bind, and serve in the
/// background until [`Server::shutdown`]. Reloads every `config.poll` and on SIGHUP.
pub async fn start(config: Config) -> Result<Server, StartError> {
    let metrics = Metrics::new();
    let (log, log_thread) = match &config.decision_log {
        Some(target) => {
            let (l, t) = log::start(target, metrics.log_dropped.clone())
                .map_err(|e| StartError::Other(format!("cannot open the decision log: {e}")))?;
            (Some(l), Some(t))
        }
        None => (None, None),
    };
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key).map_err(StartError::Other)?),
        None => None,
    };
    let store = Store::new(config.paths.clone(), config.log_fields.clone());
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let app = Arc::new(App {
        store,
        metrics,
        log,
        max_body: config.max_body,
        token_hash: config
            .token
            .as_ref()
            .map(|t| Sha256::digest(t.trim().as_bytes()).into()),
        authoring: Arc::new(Semaphore::new(cores)),
        heavy: Arc::new(Semaphore::new(cores)),
        shutting_down: AtomicBool::new(false),
    });
    let loader = app.clone();
    let failures = tokio::task::spawn_blocking(move || loader.store.reload(&loader.metrics))
        .await
        .map_err(|e| StartError::Other(format!("loading the policies failed: {e}")))?;
    if !failures.is_empty() {
        return Err(StartError::Policies(failures));
    }
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| StartError::Other(format!("cannot listen on {}: {e}", config.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Other(format!("cannot listen on {}: {e}", config.addr)))?;
    let (stop, stopped) = watch::channel(false);
    let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(reloader(
        app.clone(),
        config.poll,
        reload_rx,
        stopped.clone(),
    ));
    #[cfg(unix)]
    tokio::spawn(sighup(reload_tx.clone(), stopped.clone()));
    let routes = router(app.clone(), config.playground);
    let task = tokio::spawn(accept_loop(listener, routes, tls, stopped));
    Ok(Server {
        addr,
        app,
        stop,
        task,
        log_thread,
        reload: reload_tx,
    })
}

async fn reloader(
    app: Arc<App>,
    every: Duration,
    mut now: tokio::sync::mpsc::Receiver<()>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(()) = now.recv() => {}
            _ = stopped.changed() => return,
        }
        let a = app.clone();
        let _ = tokio::task::spawn_blocking(move || a.store.reload(&a.metrics)).await;
    }
}

#[cfg(unix)]
async fn sighup(reload: tokio::sync::mpsc::Sender<()>, mut stopped: watch::Receiver<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    loop {
        tokio::select! {
            r = hup.recv() => {
                if r.is_none() { return; }
                let _ = reload.try_send(());
            }
            _ = stopped.changed() => return,
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    routes: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(routes.clone());
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(64 * 1024);
            match tls {
                None => {
                    let conn = http.serve_connection(TokioIo::new(tcp), service);
                    let _ = watcher.watch(conn).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// Wait for SIGTERM or SIGINT (Ctrl-C).
pub fn terminated() -> impl std::future::Future<Output = ()> {
    // The handlers are installed now, not at the first poll: a SIGTERM that arrives right
    // after the caller prints "listening" must not kill the process.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
