//! The entitlement contract's suite: grants (idempotent), the decision allowed and denied
//! with reasons, sessions read and listed without tokens, idempotency keys, renewal, ending,
//! revocation, and every error answer. It needs a product that exists in the catalog the
//! service uses, and an asset in that product.

use http::Method;
use serde_json::{json, Value};

use crate::http_check::{bad_bodies, field, fresh, problem, status, Check, Outcome, Req, Suite};

fn reason_types(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|x| x["type"].as_str())
                .map(|t| t.rsplit('/').next().unwrap_or(t).to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The session has a token the edge can use: a Common Access Token (read here without its
/// key) whose `sid` is the session, whose `sub` is the account, which expires, and which the
/// manifest URLs carry.
fn has_token(a: &Value) -> Result<(), String> {
    let token = a["token"].as_str().unwrap_or("");
    let (_, claims) = access::cat::inspect(token)
        .map_err(|r| format!("the token is not a Common Access Token: {r:?}"))?;
    let claims = claims.map_err(|r| format!("the token's claims do not parse: {r:?}"))?;
    let want = |name: &str, field: &str| -> Result<(), String> {
        let got = claims.text_of(name);
        if got.as_deref() != a[field].as_str() {
            return Err(format!(
                "the token's {name} is {got:?}, the session's {field} {}",
                a[field]
            ));
        }
        Ok(())
    };
    want("sid", "id")?;
    want("sub", "account")?;
    if claims.uint_of("4").is_none() {
        return Err("the token has no exp".into());
    }
    for m in ["hls", "hls_ts", "dash"] {
        let url = a["manifests"][m].as_str().unwrap_or("");
        if !url.starts_with("http") || !url.contains(token) {
            return Err(format!("manifests.{m} is {url:?}, without the token"));
        }
    }
    Ok(())
}

pub async fn run(check: &Check, product: &str, asset: &str) -> Vec<Outcome> {
    let mut s = Suite::default();
    let account = fresh("conf-account");
    let grant = fresh("conf-grant");
    let grant_path = format!("/v1/grants/{grant}");
    let grant_body = json!({"account": account, "product": product, "source": "conformance"});

    let r = check
        .send(Req::new(Method::PUT, &grant_path).json(&grant_body))
        .await;
    let revision = r.as_ref().ok().map(|a| a.json["revision"].clone());
    s.record(
        "PUT a new grant is 201 with the grant",
        r.and_then(|a| {
            status(&a, 201)?;
            field(&a.json, "account", &json!(account))?;
            field(&a.json, "product", &json!(product))
        }),
    );
    let r = check
        .send(Req::new(Method::PUT, &grant_path).json(&grant_body))
        .await;
    s.record(
        "PUT the same grant again is 200 and keeps its revision",
        r.and_then(|a| {
            status(&a, 200)?;
            field(
                &a.json,
                "revision",
                revision.as_ref().unwrap_or(&Value::Null),
            )
        }),
    );
    let r = check.send(Req::new(Method::GET, &grant_path)).await;
    s.record(
        "GET a grant",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "source", &json!("conformance"))
        }),
    );
    let r = check
        .send(Req::new(
            Method::GET,
            &format!("/v1/grants?account={account}"),
        ))
        .await;
    s.record(
        "GET /v1/grants?account= lists the account's grants",
        r.and_then(|a| {
            status(&a, 200)?;
            let n = a.json["items"].as_array().map_or(0, Vec::len);
            if n != 1 {
                return Err(format!("{n} grants listed"));
            }
            Ok(())
        }),
    );
    let r = check
        .send(
            Req::new(Method::PUT, &format!("/v1/grants/{}", fresh("conf-grant"))).json(&json!({
                "account": account, "product": "conf-no-such-product", "source": "conformance"
            })),
        )
        .await;
    s.record(
        "PUT a grant of a product that does not exist is 422",
        r.and_then(|a| problem(&a, 422, "reference-unknown")),
    );
    let r = check
        .send(Req::new(Method::PUT, &grant_path).json(&json!({
            "account": account, "product": product, "source": "conformance",
            "starts_at": 100, "ends_at": 50
        })))
        .await;
    s.record(
        "PUT a grant that ends before it starts is 400",
        r.and_then(|a| problem(&a, 400, "bad-request")),
    );
    bad_bodies(
        check,
        &mut s,
        "PUT grant",
        Method::PUT,
        &grant_path,
        &grant_body,
    )
    .await;

    let request = json!({"account": account, "device": "conformance-device", "asset": asset, "country": "FR"});
    let r = check
        .send(Req::new(Method::POST, "/v1/playback-sessions").json(&request))
        .await;
    let session = r
        .as_ref()
        .ok()
        .map(|a| a.json.clone())
        .unwrap_or(Value::Null);
    let session_id = session["id"].as_str().unwrap_or("missing").to_owned();
    s.record(
        "POST /v1/playback-sessions for an entitled account is 201 with a token and manifests",
        r.and_then(|a| {
            status(&a, 201)?;
            has_token(&a.json)?;
            field(&a.json, "state", &json!("active"))?;
            field(&a.json, "account", &json!(account))?;
            field(&a.json, "product", &json!(product))
        }),
    );
    let session_path = format!("/v1/playback-sessions/{session_id}");
    let r = check.send(Req::new(Method::GET, &session_path)).await;
    s.record(
        "GET a session gives it without its token",
        r.and_then(|a| {
            status(&a, 200)?;
            if !a.json["token"].is_null() {
                return Err("the token is in the answer".into());
            }
            field(&a.json, "state", &json!("active"))
        }),
    );
    let r = check
        .send(Req::new(
            Method::GET,
            &format!("/v1/playback-sessions?account={account}"),
        ))
        .await;
    s.record(
        "GET /v1/playback-sessions?account= lists the session",
        r.and_then(|a| {
            status(&a, 200)?;
            let ids: Vec<&str> = a.json["items"]
                .as_array()
                .map(|v| v.iter().filter_map(|i| i["id"].as_str()).collect())
                .unwrap_or_default();
            if ids != [session_id.as_str()] {
                return Err(format!("ids {ids:?}"));
            }
            Ok(())
        }),
    );

    // Idempotency keys.
    let key = fresh("conf-key");
    let first = check
        .send(
            Req::new(Method::POST, "/v1/playback-sessions")
                .json(&request)
                .header("idempotency-key", key.clone()),
        )
        .await;
    let again = check
        .send(
            Req::new(Method::POST, "/v1/playback-sessions")
                .json(&request)
                .header("idempotency-key", key.clone()),
        )
        .await;
    s.record(
        "the same Idempotency-Key and body give the same session",
        first.and_then(|f| {
            let a = again?;
            status(&f, 201)?;
            if a.status.as_u16() != 201 && a.status.as_u16() != 200 {
                return Err(format!("the repeat answered {}", a.status));
            }
            field(&a.json, "id", &f.json["id"])?;
            field(&a.json, "token", &f.json["token"])
        }),
    );
    let mut other = request.clone();
    other["device"] = json!("another-device");
    let r = check
        .send(
            Req::new(Method::POST, "/v1/playback-sessions")
                .json(&other)
                .header("idempotency-key", key),
        )
        .await;
    s.record(
        "the same Idempotency-Key with another body is 409",
        r.and_then(|a| problem(&a, 409, "idempotency-conflict")),
    );

    // Denials.
    let stranger =
        json!({"account": fresh("conf-stranger"), "device": "d", "asset": asset, "country": "FR"});
    let r = check
        .send(Req::new(Method::POST, "/v1/playback-sessions").json(&stranger))
        .await;
    s.record(
        "an account without a grant is denied: 403 with reason not-entitled",
        r.and_then(|a| {
            problem(&a, 403, "playback-denied")?;
            let t = reason_types(&a.json);
            if !t.contains(&"not-entitled".to_string()) {
                return Err(format!("reasons {t:?}"));
            }
            Ok(())
        }),
    );
    let r = check
        .send(
            Req::new(Method::POST, "/v1/playback-sessions").json(&json!({
                "account": account, "device": "d", "asset": "conf-no-such-asset"
            })),
        )
        .await;
    s.record(
        "an unknown asset is denied: 403 with reason asset-unknown",
        r.and_then(|a| {
            problem(&a, 403, "playback-denied")?;
            let t = reason_types(&a.json);
            if t != ["asset-unknown"] {
                return Err(format!("reasons {t:?}"));
            }
            Ok(())
        }),
    );
    bad_bodies(
        check,
        &mut s,
        "POST playback session",
        Method::POST,
        "/v1/playback-sessions",
        &request,
    )
    .await;

    // Renewal, revocation, ending.
    let r = check
        .send(Req::new(Method::POST, &format!("{session_path}/renewal")))
        .await;
    s.record(
        "renewing an active session gives a new token",
        r.and_then(|a| {
            status(&a, 200)?;
            has_token(&a.json)?;
            if a.json["token"] == session["token"] {
                return Err("the same token came back".into());
            }
            field(&a.json, "id", &json!(session_id))
        }),
    );
    let r = check
        .send(Req::new(
            Method::POST,
            &format!("{session_path}/revocation"),
        ))
        .await;
    s.record(
        "revoking a session is 200 with state revoked",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "state", &json!("revoked"))
        }),
    );
    let r = check
        .send(Req::new(
            Method::POST,
            &format!("{session_path}/revocation"),
        ))
        .await;
    s.record(
        "revoking it again is 200 (idempotent)",
        r.and_then(|a| status(&a, 200)),
    );
    let r = check
        .send(Req::new(Method::POST, &format!("{session_path}/renewal")))
        .await;
    s.record(
        "renewing a revoked session is 409 session-not-active",
        r.and_then(|a| problem(&a, 409, "session-not-active")),
    );
    let r = check
        .send(Req::new(Method::POST, "/v1/playback-sessions").json(&request))
        .await;
    let second = r
        .as_ref()
        .ok()
        .and_then(|a| a.json["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let r = check
        .send(Req::new(
            Method::DELETE,
            &format!("/v1/playback-sessions/{second}"),
        ))
        .await;
    s.record(
        "ending a session is 200 with state ended",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "state", &json!("ended"))
        }),
    );
    let r = check
        .send(Req::new(
            Method::GET,
            "/v1/playback-sessions/conf-no-such-session",
        ))
        .await;
    s.record(
        "GET an unknown session is 404",
        r.and_then(|a| problem(&a, 404, "not-found")),
    );

    // Withdrawal: the next decision is a denial.
    let r = check.send(Req::new(Method::DELETE, &grant_path)).await;
    s.record("DELETE a grant is 204", r.and_then(|a| status(&a, 204)));
    let r = check
        .send(Req::new(Method::POST, "/v1/playback-sessions").json(&request))
        .await;
    s.record(
        "after the grant is withdrawn, the next session is denied",
        r.and_then(|a| {
            problem(&a, 403, "playback-denied")?;
            let t = reason_types(&a.json);
            if !t.contains(&"not-entitled".to_string()) {
                return Err(format!("reasons {t:?}"));
            }
            Ok(())
        }),
    );
    let r = check.send(Req::new(Method::GET, &grant_path)).await;
    s.record(
        "GET a withdrawn grant is 404",
        r.and_then(|a| problem(&a, 404, "not-found")),
    );
    s.outcomes
}
