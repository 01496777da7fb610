//! W3C ClearKey licenses (EME, "Clear Key"): the JSON request a CDM sends
//! (`{"kids":["<b64url>"],"type":"temporary"}`) and the JSON Web Key Set answer
//! (`{"keys":[{"kty":"oct","kid":"<b64url>","k":"<b64url>"}],"type":"temporary"}`).

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::key::{ContentKeyPair, KeyId};

/// Most key ids one request may ask for; a CDM asks for one per key.
pub const MAX_KIDS: usize = 64;

#[derive(Debug, Deserialize)]
struct Request {
    kids: Vec<String>,
    #[serde(default, rename = "type")]
    session_type: Option<String>,
}

/// A parsed license request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseRequest {
    pub kids: Vec<KeyId>,
    /// `temporary` or `persistent-license`; echoed in the answer.
    pub session_type: String,
}

/// Parses a license request body.
pub fn parse_request(body: &[u8]) -> Result<LicenseRequest> {
    let req: Request = serde_json::from_slice(body)
        .map_err(|e| Error::malformed("ClearKey license request", e.to_string()))?;
    if req.kids.is_empty() || req.kids.len() > MAX_KIDS {
        return Err(Error::malformed(
            "ClearKey license request",
            format!("expected 1 to {MAX_KIDS} kids, got {}", req.kids.len()),
        ));
    }
    let kids = req
        .kids
        .iter()
        .map(|k| decode_kid(k))
        .collect::<Result<Vec<_>>>()?;
    let session_type = match req.session_type.as_deref() {
        None | Some("temporary") => "temporary".to_owned(),
        Some("persistent-license") => "persistent-license".to_owned(),
        Some(other) => {
            return Err(Error::malformed(
                "ClearKey license request",
                format!("unknown session type {other:?}"),
            ))
        }
    };
    Ok(LicenseRequest { kids, session_type })
}

fn decode_kid(text: &str) -> Result<KeyId> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(|_| Error::malformed("ClearKey kid", "not base64url"))?;
    let kid: [u8; 16] = bytes
        .try_into()
        .map_err(|_| Error::malformed("ClearKey kid", "not 16 bytes"))?;
    Ok(KeyId(kid))
}

#[derive(Serialize)]
struct Jwk {
    kty: &'static str,
    kid: String,
    k: String,
}

#[derive(Serialize)]
struct Response<'a> {
    keys: Vec<Jwk>,
    #[serde(rename = "type")]
    session_type: &'a str,
}

/// The JSON Web Key Set answering `request` with `keys` (only those asked for).
pub fn license_response(request: &LicenseRequest, keys: &[ContentKeyPair]) -> Vec<u8> {
    let keys = keys
        .iter()
        .filter(|p| request.kids.contains(&p.kid))
        .map(|p| Jwk {
            kty: "oct",
            kid: URL_SAFE_NO_PAD.encode(p.kid.0),
            k: URL_SAFE_NO_PAD.encode(p.key.bytes()),
        })
        .collect();
    let response = Response {
        keys,
        session_type: &request.session_type,
    };
    serde_json::to_vec(&response).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::ContentKey;

    #[test]
    fn request_and_response_round_trip() {
        let kid = KeyId([0xfb; 16]);
        let body = format!(
            r#"{{"kids":["{}"],"type":"temporary"}}"#,
            URL_SAFE_NO_PAD.encode(kid.0)
        );
        let req = parse_request(body.as_bytes()).unwrap();
        assert_eq!(req.kids, vec![kid]);
        let other = ContentKeyPair {
            kid: KeyId([1; 16]),
            key: ContentKey([2; 16]),
        };
        let pair = ContentKeyPair {
            kid,
            key: ContentKey([0x3e; 16]),
        };
        let out = license_response(&req, &[other, pair]);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["type"], "temporary");
        assert_eq!(v["keys"].as_array().unwrap().len(), 1);
        assert_eq!(v["keys"][0]["kty"], "oct");
        assert_eq!(v["keys"][0]["kid"], "-_v7-_v7-_v7-_v7-_v7-w");
        assert_eq!(v["keys"][0]["k"], URL_SAFE_NO_PAD.encode([0x3e; 16]));
    }

    #[test]
    fn padded_kids_are_accepted() {
        let body = format!(r#"{{"kids":["{}"]}}"#, URL_SAFE.encode([9u8; 16]));
        assert_eq!(
            parse_request(body.as_bytes()).unwrap().kids,
            vec![KeyId([9; 16])]
        );
    }

    #[test]
    fn bad_requests_are_errors() {
        for body in [
            &b"not json"[..],
            br#"{"kids":[]}"#,
            br#"{"kids":["!!!"]}"#,
            br#"{"kids":["AAAA"]}"#,
            br#"{"kids":["AAAAAAAAAAAAAAAAAAAAAA"],"type":"weird"}"#,
            br#"{"kids":"x"}"#,
        ] {
            assert!(
                parse_request(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
