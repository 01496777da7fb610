//! A test ad server: answers each path with a set status, body and delay, and records every
//! request (path, query and the headers the edge sends).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What a path answers.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub delay: Duration,
    /// Answer `status` this many times, then 200.
    pub fail_times: usize,
}

impl Answer {
    /// A file's bytes (a creative), answered every time.
    pub fn file(bytes: Vec<u8>) -> Answer {
        Answer {
            status: 200,
            body: Bytes::from(bytes),
            delay: Duration::ZERO,
            fail_times: usize::MAX,
        }
    }

    pub fn vast(body: &str) -> Answer {
        Answer {
            status: 200,
            body: Bytes::from(body.to_owned()),
            delay: Duration::ZERO,
            fail_times: usize::MAX,
        }
    }
}

/// One request it got.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub path_and_query: String,
    pub headers: HashMap<String, String>,
}

#[derive(Default)]
struct State {
    answers: Mutex<HashMap<String, Answer>>,
    seen: Mutex<Vec<Seen>>,
}

pub(super) struct AdServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for AdServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl AdServer {
    pub async fn start() -> AdServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(&state, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        AdServer {
            addr,
            state,
            accept,
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, path: &str, answer: Answer) {
        self.state
            .answers
            .lock()
            .unwrap()
            .insert(path.to_owned(), answer);
    }

    /// Requests of paths starting with `prefix`.
    pub fn seen(&self, prefix: &str) -> Vec<Seen> {
        self.state
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path_and_query.starts_with(prefix))
            .cloned()
            .collect()
    }
}

/// `body` with `{session}` replaced by the request's session, as a real ad server writes
/// per-request tracking URLs.
fn fill_session(body: Bytes, session: Option<&str>) -> Bytes {
    match (std::str::from_utf8(&body), session) {
        (Ok(text), Some(s)) if text.contains("{session}") => {
            Bytes::from(text.replace("{session}", s))
        }
        _ => body,
    }
}

/// The `sid` query parameter of `query`.
fn sid(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("sid="))
        .map(str::to_owned)
}

async fn answer(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let session = sid(req.uri().query());
    state.seen.lock().unwrap().push(Seen {
        path_and_query: req
            .uri()
            .path_and_query()
            .map_or(path.clone(), |p| p.to_string()),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
    });
    let found = {
        let mut answers = state.answers.lock().unwrap();
        answers.get_mut(&path).map(|a| {
            let now = a.clone();
            if a.fail_times != usize::MAX && a.fail_times > 0 {
                a.fail_times -= 1;
            }
            now
        })
    };
    let Some(a) = found else {
        return Response::builder()
            .status(404)
            .body(Full::new(Bytes::new()))
            .unwrap();
    };
    if !a.delay.is_zero() {
        tokio::time::sleep(a.delay).await;
    }
    let status = if a.fail_times == 0 { 200 } else { a.status };
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Full::new(fill_session(a.body, session.as_deref())))
        .unwrap()
}
