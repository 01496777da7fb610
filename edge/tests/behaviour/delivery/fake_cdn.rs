//! The fake CDNs in front of the node: small HTTP servers on 127.0.0.2, .3 and .4 that a
//! test switches between answering, failing with 500 and going dark, and that count the
//! probes they get.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The three CDNs' ids, in the order [`three_cdns`] starts them.
pub(super) const IDS: [&str; 3] = ["cdn-a", "cdn-b", "cdn-c"];

/// How a test CDN behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Health {
    /// 200 to everything, `/healthz` included.
    Answering,
    /// 500 to everything.
    Failing,
    /// Every connection dropped: open ones at once, new ones as they come.
    Dark,
}

struct CdnState {
    health: Mutex<Health>,
    /// True while dark: open connections watch it and end.
    dark: watch::Sender<bool>,
    probes: AtomicUsize,
    /// When it last failed a probe (a 500 to `/healthz`, a connection dropped), so a test
    /// can tell how long the node held a CDN out after its last failure.
    last_failure: Mutex<Option<Instant>>,
}

/// A CDN in front of the node, as far as the probes see it.
pub(super) struct FakeCdn {
    addr: SocketAddr,
    state: Arc<CdnState>,
    accept: JoinHandle<()>,
}

impl Drop for FakeCdn {
    fn drop(&mut self) {
        self.accept.abort();
        self.state.dark.send_replace(true);
    }
}

impl FakeCdn {
    async fn start(ip: &str) -> FakeCdn {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(CdnState {
            health: Mutex::new(Health::Answering),
            dark: watch::channel(false).0,
            probes: AtomicUsize::new(0),
            last_failure: Mutex::new(None),
        });
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                if *shared.health.lock().unwrap() == Health::Dark {
                    drop(stream);
                    shared.failed();
                    continue;
                }
                let mut dark = shared.dark.subscribe();
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    let conn =
                        http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = conn => {}
                        _ = dark.wait_for(|d| *d) => {}
                    }
                });
            }
        });
        FakeCdn {
            addr,
            state,
            accept,
        }
    }

    pub(super) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(super) fn set(&self, health: Health) {
        *self.state.health.lock().unwrap() = health;
        if health == Health::Dark {
            self.state.failed();
        }
        self.state.dark.send_replace(health == Health::Dark);
    }

    /// How long ago it last failed a probe.
    pub(super) fn since_last_failure(&self) -> Duration {
        self.state
            .last_failure
            .lock()
            .unwrap()
            .expect("a failure")
            .elapsed()
    }

    pub(super) fn probes(&self) -> usize {
        self.state.probes.load(Ordering::SeqCst)
    }
}

impl CdnState {
    fn failed(&self) {
        *self.last_failure.lock().unwrap() = Some(Instant::now());
    }
}

async fn answer(
    state: Arc<CdnState>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match *state.health.lock().unwrap() {
        Health::Answering => 200,
        _ => 500,
    };
    if req.uri().path() == "/healthz" {
        state.probes.fetch_add(1, Ordering::SeqCst);
        if status != 200 {
            state.failed();
        }
    }
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::from_static(b"ok\n")))
        .unwrap())
}

/// cdn-a, cdn-b and cdn-c on 127.0.0.2, .3 and .4.
pub(super) async fn three_cdns() -> [FakeCdn; 3] {
    [
        FakeCdn::start("127.0.0.2").await,
        FakeCdn::start("127.0.0.3").await,
        FakeCdn::start("127.0.0.4").await,
    ]
}

pub(super) fn base_of(cdns: &[FakeCdn; 3], id: &str) -> String {
    let i = IDS
        .iter()
        .position(|x| *x == id)
        .unwrap_or_else(|| panic!("unknown pathway {id:?}"));
    cdns[i].base_url()
}
