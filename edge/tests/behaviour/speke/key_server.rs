//! The test key server: a small SPEKE v2 / CPIX 2.3 server on a loopback port. It reads
//! every request with an independent XML parser (roxmltree), checks it, and answers with
//! the key filled in, or misbehaves on purpose as its [`Mode`] says.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use drm::KeyId;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub(super) const CPIX_NS: &str = "urn:dashif:org:cpix";
pub(super) const PSKC_NS: &str = "urn:ietf:params:xml:ns:keyprov:pskc";
pub(super) const REFUSAL: &str = "Unsupported CPIX@version";

/// How the key server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// The key asked for, filled into the request document.
    Answer,
    /// HTTP 422 with [`REFUSAL`].
    Refuse,
    /// Nothing, for a minute.
    Silent,
    /// A well-formed answer for a different kid.
    WrongKid,
    /// HTTP 200 with a truncated document.
    Malformed,
    /// HTTP 503.
    Down,
    /// HTTP 200 with 2 MiB of body.
    Huge,
}

/// What the client asked for, as the server read it.
#[derive(Debug, Clone)]
pub(super) struct Asked {
    pub(super) content_id: String,
    pub(super) kid: String,
    pub(super) scheme: String,
    pub(super) systems: Vec<String>,
    pub(super) usage_rule: String,
}

#[derive(Debug, Clone)]
pub(super) struct Recorded {
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

pub(super) struct State {
    mode: Mutex<Mode>,
    delay: Mutex<Duration>,
    requests: AtomicUsize,
    recorded: Mutex<Vec<Recorded>>,
    /// Keys handed out, by kid (UUID form).
    keys: Mutex<HashMap<String, [u8; 16]>>,
}

pub(super) struct KeyServer {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for KeyServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl KeyServer {
    pub(super) async fn start(mode: Mode) -> KeyServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            mode: Mutex::new(mode),
            delay: Mutex::new(Duration::ZERO),
            requests: AtomicUsize::new(0),
            recorded: Mutex::new(Vec::new()),
            keys: Mutex::new(HashMap::new()),
        });
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(state.clone(), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        KeyServer {
            addr,
            state,
            accept,
        }
    }

    pub(super) fn url(&self) -> String {
        format!("http://{}/speke/v2.0/copyProtection", self.addr)
    }

    pub(super) fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub(super) fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    pub(super) fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub(super) fn recorded(&self) -> Vec<Recorded> {
        self.state.recorded.lock().unwrap().clone()
    }

    pub(super) fn key_for(&self, kid: KeyId) -> Option<[u8; 16]> {
        self.state.keys.lock().unwrap().get(&kid.uuid()).copied()
    }
}

pub(super) async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let text = String::from_utf8_lossy(&body).into_owned();
    state.recorded.lock().unwrap().push(Recorded {
        headers: parts.headers.clone(),
        body: text,
    });
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if parts.method != http::Method::POST {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "POST only",
        ));
    }
    let asked = match check_request(&parts.headers, &body) {
        Ok(asked) => asked,
        Err(reason) => {
            let message = format!("Invalid request: {reason}");
            return Ok(reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                "text/plain",
                &message,
            ));
        }
    };
    let mode = *state.mode.lock().unwrap();
    Ok(match mode {
        Mode::Answer => {
            let key = issue_key(&state, &asked.kid);
            reply(
                StatusCode::OK,
                "application/xml",
                &answer(&asked, &asked.kid, key),
            )
        }
        Mode::WrongKid => {
            let other = other_kid(&asked.kid);
            let key = issue_key(&state, &other);
            reply(
                StatusCode::OK,
                "application/xml",
                &answer(&asked, &other, key),
            )
        }
        Mode::Refuse => reply(StatusCode::UNPROCESSABLE_ENTITY, "text/plain", REFUSAL),
        Mode::Silent => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            reply(StatusCode::OK, "application/xml", "")
        }
        Mode::Malformed => {
            let doc = answer(&asked, &asked.kid, issue_key(&state, &asked.kid));
            reply(StatusCode::OK, "application/xml", &doc[..doc.len() / 2])
        }
        Mode::Down => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "key store down",
        ),
        Mode::Huge => reply(StatusCode::OK, "application/xml", &" ".repeat(2 << 20)),
    })
}

pub(super) fn reply(status: StatusCode, content_type: &str, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-speke-version", "2.0")
        .header("x-speke-user-agent", "edgepack-test-key-server")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

/// The key the server holds for a kid: made up on first request, then always the same.
pub(super) fn issue_key(state: &State, kid: &str) -> [u8; 16] {
    let mut keys = state.keys.lock().unwrap();
    let next = keys.len() as u8;
    *keys.entry(kid.to_owned()).or_insert_with(|| {
        let mut key = [0u8; 16];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(29) ^ 0xa5 ^ next ^ kid.as_bytes()[i];
        }
        key
    })
}

/// The same kid with its last hex digit changed.
pub(super) fn other_kid(kid: &str) -> String {
    let mut other = kid.to_owned();
    let last = if kid.ends_with('0') { "1" } else { "0" };
    other.replace_range(kid.len() - 1.., last);
    other
}

pub(super) fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// Checks a SPEKE v2 request: headers, then the CPIX 2.3 document with an independent
/// parser. The reason for a refusal names what is wrong.
pub(super) fn check_request(headers: &HeaderMap, body: &[u8]) -> Result<Asked, String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("content-type") != Some("application/xml") {
        return Err(format!("Content-Type {:?}", header("content-type")));
    }
    if header("x-speke-version") != Some("2.0") {
        return Err("Unsupported SPEKE version".into());
    }
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8".to_string())?;
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(CPIX_NS) || root.tag_name().name() != "CPIX" {
        return Err("root is not cpix:CPIX".into());
    }
    let declared = |uri: &str, prefix: &str| {
        root.namespaces()
            .any(|ns| ns.uri() == uri && ns.name() == Some(prefix))
    };
    if !declared(CPIX_NS, "cpix") || !declared(PSKC_NS, "pskc") {
        return Err("xmlns:cpix / xmlns:pskc missing".into());
    }
    match root.attribute("version") {
        None => return Err("Missing CPIX@version".into()),
        Some("2.3") => {}
        Some(_) => return Err("Unsupported CPIX@version".into()),
    }
    let content_id = root
        .attribute("contentId")
        .filter(|id| !id.is_empty())
        .ok_or("Missing CPIX@contentId")?
        .to_owned();

    let lists: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    let names: Vec<_> = lists.iter().map(|n| n.tag_name().name()).collect();
    if names != ["ContentKeyList", "DRMSystemList", "ContentKeyUsageRuleList"]
        || lists
            .iter()
            .any(|n| n.tag_name().namespace() != Some(CPIX_NS))
    {
        return Err(format!("CPIX children {names:?}"));
    }
    let keys = elements(lists[0], "ContentKey");
    let [key] = keys.as_slice() else {
        return Err(format!("{} ContentKey elements", keys.len()));
    };
    let kid = key
        .attribute("kid")
        .ok_or("ContentKey@kid missing")?
        .to_owned();
    if !is_uuid(&kid) {
        return Err(format!("ContentKey@kid {kid:?} is not a lowercase UUID"));
    }
    let scheme = key
        .attribute("commonEncryptionScheme")
        .ok_or_else(|| format!("Missing ContentKey@commonEncryptionScheme for KID {kid}"))?
        .to_owned();
    if !["cenc", "cbcs"].contains(&scheme.as_str()) {
        return Err(format!("commonEncryptionScheme {scheme:?}"));
    }

    let mut systems = Vec::new();
    for system in elements(lists[1], "DRMSystem") {
        if system.attribute("kid") != Some(kid.as_str()) {
            return Err("DRMSystem@kid differs from ContentKey@kid".into());
        }
        let id = system
            .attribute("systemId")
            .ok_or("DRMSystem@systemId missing")?;
        if !is_uuid(id) || systems.iter().any(|s| s == id) {
            return Err(format!("DRMSystem@systemId {id:?}"));
        }
        let wanted: Vec<_> = system
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        if !wanted.contains(&"HLSSignalingData") {
            return Err(format!("DRMSystem {id} asks for {wanted:?}"));
        }
        systems.push(id.to_owned());
    }
    if systems.is_empty() {
        return Err("empty DRMSystemList".into());
    }

    let rules = elements(lists[2], "ContentKeyUsageRule");
    let [rule] = rules.as_slice() else {
        return Err(format!("{} ContentKeyUsageRule elements", rules.len()));
    };
    if rule.attribute("kid") != Some(kid.as_str()) {
        return Err("ContentKeyUsageRule@kid differs from ContentKey@kid".into());
    }
    let usage_rule = rule
        .attribute("intendedTrackType")
        .ok_or("ContentKeyUsageRule@intendedTrackType missing")?
        .to_owned();
    if elements(*rule, "AudioFilter").is_empty() && elements(*rule, "VideoFilter").is_empty() {
        return Err("ContentKeyUsageRule without a filter".into());
    }
    Ok(Asked {
        content_id,
        kid,
        scheme,
        systems,
        usage_rule,
    })
}

/// The child elements of `node` named `cpix:{name}`.
pub(super) fn elements<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    name: &str,
) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children()
        .filter(|n| n.is_element())
        .filter(|n| n.tag_name().namespace() == Some(CPIX_NS) && n.tag_name().name() == name)
        .collect()
}

/// A key server's answer: the request's key list with the key, each system with a PSSH.
pub(super) fn answer(asked: &Asked, kid: &str, key: [u8; 16]) -> String {
    let mut systems = String::new();
    for system in &asked.systems {
        systems.push_str(&format!(
            "<cpix:DRMSystem kid=\"{kid}\" systemId=\"{system}\"><cpix:PSSH>{}</cpix:PSSH>\
             <cpix:ContentProtectionData>{}</cpix:ContentProtectionData></cpix:DRMSystem>",
            base64(b"\0\0\0\x20pssh\0\0\0\0"),
            base64(b"<cenc:pssh>x</cenc:pssh>"),
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<cpix:CPIX contentId="{}" version="2.3" xmlns:cpix="{CPIX_NS}" xmlns:pskc="{PSKC_NS}">
  <cpix:ContentKeyList>
    <cpix:ContentKey kid="{kid}" commonEncryptionScheme="{}">
      <cpix:Data><pskc:Secret><pskc:PlainValue>{}</pskc:PlainValue></pskc:Secret></cpix:Data>
    </cpix:ContentKey>
  </cpix:ContentKeyList>
  <cpix:DRMSystemList>{systems}</cpix:DRMSystemList>
  <cpix:ContentKeyUsageRuleList>
    <cpix:ContentKeyUsageRule kid="{kid}" intendedTrackType="{}"><cpix:VideoFilter/></cpix:ContentKeyUsageRule>
  </cpix:ContentKeyUsageRuleList>
</cpix:CPIX>
"#,
        escape(&asked.content_id),
        asked.scheme,
        base64(&key),
        escape(&asked.usage_rule),
    )
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_test_servers_base64_is_right() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"0123456789abcdef"), "MDEyMzQ1Njc4OWFiY2RlZg==");
}
