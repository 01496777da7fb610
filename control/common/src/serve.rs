//! What wraps every service's router: request ids, Prometheus metrics per operation,
//! problem documents for unknown URLs and methods, `/healthz`, `/readyz` and `/metrics`.
//! The same wrapper serves one service alone or the three together on one port.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

use crate::ids;
use crate::problem::{Problem, ProblemType};

/// The request id header, taken from the caller when usable and always answered.
pub const REQUEST_ID: &str = "x-request-id";

/// Something `/readyz` asks.
#[async_trait::async_trait]
pub trait ReadyCheck: Send + Sync {
    /// A name for the answer body.
    fn name(&self) -> &str;
    async fn ready(&self) -> bool;
}

/// A database is ready when it answers.
pub struct DbReady(pub String, pub crate::db::Db);

#[async_trait::async_trait]
impl ReadyCheck for DbReady {
    fn name(&self) -> &str {
        &self.0
    }
    async fn ready(&self) -> bool {
        self.1.ping().await
    }
}

/// Request metrics of the control services.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl HttpMetrics {
    pub fn new(registry: &Registry) -> Result<HttpMetrics, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "edgepack_control_requests_total",
                "Control API requests by operation (route template) and status.",
            ),
            &["route", "method", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "edgepack_control_request_duration_seconds",
                "Control API request latency by operation.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route", "method"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        Ok(HttpMetrics { requests, duration })
    }
}

#[derive(Clone)]
struct Shared {
    metrics: HttpMetrics,
    registry: Registry,
    checks: Arc<Vec<Box<dyn ReadyCheck>>>,
}

/// Whether a caller's request id can be echoed: 1 to 64 visible ASCII characters.
fn usable_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && b.len() <= 64 && b.iter().all(|c| c.is_ascii_graphic())
}

async fn around(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = req.method().as_str().to_owned();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .filter(|v| usable_request_id(v))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&ids::random_hex(12))
                .unwrap_or(HeaderValue::from_static("unknown"))
        });
    // The handler runs in a task of its own, so a caller that goes away mid-request does not
    // cancel it halfway through a database transaction: every write runs to its end.
    let mut response = match tokio::spawn(next.run(req)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, %route, "control request handler failed");
            Problem::new(ProblemType::Internal, "the request handler failed").into_response()
        }
    };
    if response.status().is_server_error() {
        tracing::warn!(request_id = ?id, %route, %method, status = %response.status(), "control request failed");
    }
    response.headers_mut().insert(REQUEST_ID, id);
    let status = response.status().as_u16().to_string();
    shared
        .metrics
        .requests
        .with_label_values(&[&route, &method, &status])
        .inc();
    shared
        .metrics
        .duration
        .with_label_values(&[&route, &method])
        .observe(started.elapsed().as_secs_f64());
    response
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(shared): State<Shared>) -> Response {
    let mut body = String::new();
    let mut all = true;
    for check in shared.checks.iter() {
        let ok = check.ready().await;
        all &= ok;
        body.push_str(&format!(
            "{}: {}\n",
            check.name(),
            if ok { "ready" } else { "not ready" }
        ));
    }
    if all {
        (StatusCode::OK, body).into_response()
    } else {
        Problem::new(ProblemType::NotReady, body.trim_end().replace('\n', "; ")).into_response()
    }
}

async fn metrics_text(State(shared): State<Shared>) -> Response {
    let mut out = Vec::new();
    let families = shared.registry.gather();
    if prometheus::TextEncoder::new()
        .encode(&families, &mut out)
        .is_err()
    {
        return Problem::new(ProblemType::Internal, "metrics could not be encoded").into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        out,
    )
        .into_response()
}

async fn no_such_operation(req: Request) -> Problem {
    Problem::new(
        ProblemType::NoSuchOperation,
        format!("no operation at {}", req.uri().path()),
    )
}

async fn method_not_allowed(req: Request) -> Problem {
    Problem::new(
        ProblemType::MethodNotAllowed,
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
}

/// The whole application: `services` merged, with health, readiness, metrics and the
/// request wrapper around everything.
pub fn app(
    services: Vec<Router>,
    registry: Registry,
    metrics: HttpMetrics,
    checks: Vec<Box<dyn ReadyCheck>>,
) -> Router {
    let shared = Shared {
        metrics,
        registry,
        checks: Arc::new(checks),
    };
    let mut router = Router::new();
    for s in services {
        router = router.merge(s);
    }
    router
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz).with_state(shared.clone()))
        .route("/metrics", get(metrics_text).with_state(shared.clone()))
        .fallback(no_such_operation)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared, around))
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
