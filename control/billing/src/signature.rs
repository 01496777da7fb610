//! The `Stripe-Signature` scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=...]`, where the
//! MAC is over `"{t}.{raw body}"` with the endpoint's secret. Any `v1` may match any
//! configured secret (rotation); other schemes (`v0`) are ignored; the timestamp must be
//! within the tolerance of now, either way, which bounds how long a captured request can be
//! replayed (event ids bound it further).

use ring::hmac;

/// Longest header looked at.
const MAX_HEADER: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header is malformed: {0}")]
    Malformed(&'static str),
    #[error("the timestamp is {0} s away from now, over the tolerance")]
    OutOfTolerance(i64),
    #[error("no v1 signature matches a configured secret")]
    NoMatch,
}

/// The parsed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub timestamp: i64,
    pub v1: Vec<Vec<u8>>,
}

pub fn parse(header: &str) -> Result<Header, SignatureError> {
    if header.len() > MAX_HEADER {
        return Err(SignatureError::Malformed("too long"));
    }
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed("a part without ="))?;
        match k {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::Malformed("two timestamps"));
                }
                let ok = !v.is_empty() && v.len() <= 12 && v.bytes().all(|b| b.is_ascii_digit());
                timestamp = Some(
                    v.parse::<i64>()
                        .ok()
                        .filter(|_| ok)
                        .ok_or(SignatureError::Malformed("t is not a time"))?,
                );
            }
            "v1" => {
                if v1.len() >= 8 {
                    return Err(SignatureError::Malformed("too many signatures"));
                }
                v1.push(hex::decode(v).map_err(|_| SignatureError::Malformed("v1 is not hex"))?);
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed("no t"))?;
    if v1.is_empty() {
        return Err(SignatureError::Malformed("no v1"));
    }
    Ok(Header { timestamp, v1 })
}

/// The MAC of `body` at `timestamp` under `secret`, hex (what a sender puts in `v1`).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    hex::encode(ctx.sign().as_ref())
}

/// Checks a delivery; returns its timestamp.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[String],
    now: i64,
    tolerance: i64,
) -> Result<i64, SignatureError> {
    let h = parse(header.ok_or(SignatureError::Missing)?)?;
    let skew = now.saturating_sub(h.timestamp);
    if skew.abs() > tolerance {
        return Err(SignatureError::OutOfTolerance(skew));
    }
    let mut message = Vec::with_capacity(body.len() + 16);
    message.extend_from_slice(h.timestamp.to_string().as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    for secret in secrets {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        // ring compares in constant time.
        if h.v1
            .iter()
            .any(|sig| hmac::verify(&key, &message, sig).is_ok())
        {
            return Ok(h.timestamp);
        }
    }
    Err(SignatureError::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_0123456789abcdef";

    fn header(secret: &str, t: i64, body: &[u8]) -> String {
        format!("t={t},v1={},v0=ignored", sign(secret, t, body))
    }

    #[test]
    fn a_signed_delivery_verifies_within_the_tolerance() {
        let body = br#"{"id":"evt_1"}"#;
        let h = header(SECRET, 1000, body);
        let secrets = vec![SECRET.to_string()];
        assert_eq!(verify(Some(&h), body, &secrets, 1200, 300), Ok(1000));
        assert_eq!(
            verify(Some(&h), body, &secrets, 1400, 300),
            Err(SignatureError::OutOfTolerance(400))
        );
        assert_eq!(
            verify(Some(&h), b"{\"id\":\"evt_2\"}", &secrets, 1000, 300),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(None, body, &secrets, 1000, 300),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn a_rotated_secret_still_verifies() {
        let body = b"{}";
        let h = header("whsec_old_secret_0123456", 10, body);
        let secrets = vec![SECRET.to_string(), "whsec_old_secret_0123456".to_string()];
        assert!(verify(Some(&h), body, &secrets, 10, 300).is_ok());
    }

    #[test]
    fn malformed_headers_are_named() {
        for bad in [
            "",
            "t=1",
            "v1=00",
            "t=x,v1=00",
            "t=1,v1=zz",
            "t=1,t=2,v1=00",
            "junk",
        ] {
            assert!(
                matches!(parse(bad), Err(SignatureError::Malformed(_))),
                "{bad:?}"
            );
        }
    }
}
