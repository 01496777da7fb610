//! The checking client: raw HTTP calls (so malformed requests can be sent on purpose), the
//! answer read as status, headers and JSON, and small assertions that name what was wrong.

use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;

/// The outcome of one named check.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub failure: Option<String>,
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

pub struct Check {
    base: String,
    key: String,
    http: reqwest::Client,
}

/// A request to send.
pub struct Req<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<Vec<u8>>,
    pub content_type: Option<&'a str>,
    pub headers: Vec<(&'a str, String)>,
    /// Send the API key.
    pub auth: bool,
}

impl<'a> Req<'a> {
    pub fn new(method: Method, path: &'a str) -> Req<'a> {
        Req {
            method,
            path,
            body: None,
            content_type: None,
            headers: Vec::new(),
            auth: true,
        }
    }
    pub fn json(mut self, v: &Value) -> Req<'a> {
        self.body = Some(serde_json::to_vec(v).unwrap_or_default());
        self.content_type = Some("application/json");
        self
    }
    pub fn raw(mut self, body: &[u8], content_type: &'a str) -> Req<'a> {
        self.body = Some(body.to_vec());
        self.content_type = Some(content_type);
        self
    }
    pub fn header(mut self, name: &'a str, value: String) -> Req<'a> {
        self.headers.push((name, value));
        self
    }
    pub fn anonymous(mut self) -> Req<'a> {
        self.auth = false;
        self
    }
}

pub type CheckResult = Result<(), String>;

impl Check {
    pub fn new(base: &str, key: &str) -> Result<Check, String> {
        let remote = control_common::client::Remote::new(base, None, Duration::from_secs(10))?;
        Ok(Check {
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            http: remote.http().clone(),
        })
    }

    pub async fn send(&self, r: Req<'_>) -> Result<Answer, String> {
        let url = format!("{}{}", self.base, r.path);
        let mut req = self.http.request(r.method.clone(), &url);
        if r.auth {
            req = req.bearer_auth(&self.key);
        }
        if let Some(ct) = r.content_type {
            req = req.header(http::header::CONTENT_TYPE, ct);
        }
        for (n, v) in &r.headers {
            req = req.header(*n, v.as_str());
        }
        if let Some(b) = r.body {
            req = req.body(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{} {url}: {e}", r.method))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("{} {url}: {e}", r.method))?;
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "{} {url}: {status} with a body that is not JSON ({e}): {}",
                    r.method,
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                )
            })?
        };
        Ok(Answer {
            status,
            headers,
            json,
        })
    }
}

/// The answer has `status`.
pub fn status(a: &Answer, want: u16) -> CheckResult {
    if a.status.as_u16() != want {
        return Err(format!(
            "status {} where {want} was due; body {}",
            a.status,
            short(&a.json)
        ));
    }
    Ok(())
}

/// The answer is a problem document of type `slug` with `status`.
pub fn problem(a: &Answer, want_status: u16, slug: &str) -> CheckResult {
    status(a, want_status)?;
    let ct = a
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/problem+json") {
        return Err(format!("content type {ct:?}, not application/problem+json"));
    }
    let t = a.json["type"].as_str().unwrap_or("");
    if !t.ends_with(&format!("/{slug}")) {
        return Err(format!("problem type {t:?} where .../{slug} was due"));
    }
    if a.json["status"].as_u64() != Some(u64::from(want_status)) {
        return Err(format!(
            "the problem's status member is {}",
            a.json["status"]
        ));
    }
    if a.json["title"].as_str().is_none_or(str::is_empty) {
        return Err("the problem has no title".into());
    }
    Ok(())
}

/// `v[field]` equals `want`.
pub fn field(v: &Value, name: &str, want: &Value) -> CheckResult {
    if &v[name] != want {
        return Err(format!("{name} is {} where {want} was due", v[name]));
    }
    Ok(())
}

pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 300 {
        format!("{}...", &s[..300])
    } else {
        s
    }
}

/// A fresh id for resources a suite makes.
pub fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", control_common::ids::random_hex(6))
}

/// Collects named checks.
#[derive(Default)]
pub struct Suite {
    pub outcomes: Vec<Outcome>,
}

impl Suite {
    pub fn record(&mut self, name: &str, result: CheckResult) -> bool {
        let ok = result.is_ok();
        self.outcomes.push(Outcome {
            name: name.to_owned(),
            failure: result.err(),
        });
        ok
    }
}

/// The error answers every JSON write operation promises: malformed JSON, unknown fields,
/// a wrong content type, an oversized body and a missing API key.
pub async fn bad_bodies(
    check: &Check,
    suite: &mut Suite,
    what: &str,
    method: Method,
    path: &str,
    good: &Value,
) {
    let r = check
        .send(Req::new(method.clone(), path).raw(b"{\"oops\": ", "application/json"))
        .await;
    suite.record(
        &format!("{what}: malformed JSON is 400 bad-request"),
        r.and_then(|a| problem(&a, 400, "bad-request")),
    );
    let mut unknown = good.clone();
    unknown["surprise_field"] = Value::from(1);
    let r = check
        .send(Req::new(method.clone(), path).json(&unknown))
        .await;
    suite.record(
        &format!("{what}: an unknown field is 400 bad-request"),
        r.and_then(|a| problem(&a, 400, "bad-request")),
    );
    let text = serde_json::to_vec(good).unwrap_or_default();
    let r = check
        .send(Req::new(method.clone(), path).raw(&text, "text/plain"))
        .await;
    suite.record(
        &format!("{what}: a body that is not application/json is 415"),
        r.and_then(|a| problem(&a, 415, "unsupported-media-type")),
    );
    let mut big = good.clone();
    big["padding"] = Value::from("x".repeat(300 * 1024));
    let r = check.send(Req::new(method.clone(), path).json(&big)).await;
    suite.record(
        &format!("{what}: a 300 kB body is 413"),
        r.and_then(|a| problem(&a, 413, "body-too-large")),
    );
    let r = check
        .send(Req::new(method.clone(), path).json(good).anonymous())
        .await;
    suite.record(
        &format!("{what}: no API key is 401"),
        r.and_then(|a| problem(&a, 401, "api-key-invalid")),
    );
    let r = check
        .send(
            Req::new(method, path)
                .json(good)
                .anonymous()
                .header("authorization", "Bearer not-a-key-0123456789".into()),
        )
        .await;
    suite.record(
        &format!("{what}: an unknown API key is 401"),
        r.and_then(|a| problem(&a, 401, "api-key-invalid")),
    );
}
