//! The operational endpoints: `/healthz` (alive), `/readyz` (503 while draining or when the
//! media root cannot be reached) and `/metrics` (Prometheus text exposition).

use http::{Method, Response};

use crate::daemon::Daemon;
use crate::http::body::PartsBody;
use crate::http::response::{plain, problem_response};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

pub fn health(method: &Method) -> Response<PartsBody> {
    plain("ok\n".into(), "text/plain", method)
}

pub async fn ready(
    daemon: &Daemon,
    state: &AppState,
    path: &str,
    method: &Method,
) -> Response<PartsBody> {
    let not_ready = |detail: String| {
        problem_response(&Problem::new(ProblemKind::NotReady, detail), path, method)
    };
    if daemon.is_draining() {
        return not_ready("draining before shutdown".into());
    }
    match state.origins.reachable(&state.config.media_root).await {
        Ok(()) => plain("ready\n".into(), "text/plain", method),
        Err(e) => not_ready(format!("the media root cannot be reached: {e}")),
    }
}

/// The metrics exposition; with `access.metrics_key` set, only to its bearer.
pub async fn metrics(
    state: &AppState,
    req: &http::request::Parts,
    path: &str,
    method: &Method,
) -> Response<PartsBody> {
    if let Some(key) = state.config.access.metrics_key.as_deref() {
        if !crate::access::admin::bearer_ok(req, key) {
            let p = Problem::new(
                ProblemKind::AdminUnauthorized,
                "/metrics needs Authorization: Bearer <access.metrics_key>",
            );
            return problem_response(&p, path, method);
        }
    }
    state.media.update_gauges().await;
    state.responses.update_gauges().await;
    state.metrics.process_memory.update();
    plain(state.metrics.render(), "text/plain; version=0.0.4", method)
}
