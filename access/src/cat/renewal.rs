//! The `catr` claim: how a token near its end is renewed. Its map holds the type (0 automatic,
//! 1 cookie, 2 header, 3 redirect), `expadd` (the new token's lifetime, seconds), `deadline`
//! (how many seconds before `exp` renewal starts; CTA-5007 implementations disagree on its
//! unit: seconds, as Eyevinn's reference does, is what we read; without one the window is
//! 60 s), cookie and header names and their extra parameters, and the redirect status.

use ciborium::value::Value;

use crate::cbor;
use crate::Refusal;

/// Default renewal window before `exp`, seconds.
pub const DEFAULT_DEADLINE: u64 = 60;
/// Default cookie and header name of a renewed token.
pub const DEFAULT_NAME: &str = "CTA-Common-Access-Token";

/// How a renewed token reaches the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The same way the token came: a header gets a header, a cookie a cookie, a query a
    /// redirect (or, in manifests, the renewed token in every URL).
    Automatic,
    Cookie,
    Header,
    Redirect,
}

/// A parsed `catr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    pub delivery: Delivery,
    /// Lifetime of a renewed token, seconds.
    pub expadd: u64,
    /// Seconds before `exp` from which a request renews.
    pub deadline: u64,
    pub cookie_name: Option<String>,
    pub header_name: Option<String>,
    pub cookie_params: Vec<String>,
    pub header_params: Vec<String>,
    /// Redirect status (301, 302, 303, 307, 308; 302 when not given).
    pub status: u16,
}

impl Renewal {
    pub fn parse(value: &Value) -> Result<Renewal, Refusal> {
        let mut delivery = None;
        let mut expadd = None;
        let mut r = Renewal {
            delivery: Delivery::Automatic,
            expadd: 0,
            deadline: DEFAULT_DEADLINE,
            cookie_name: None,
            header_name: None,
            cookie_params: Vec::new(),
            header_params: Vec::new(),
            status: 302,
        };
        let texts = |v: &Value, what| -> Result<Vec<String>, Refusal> {
            cbor::array(v, what)?
                .iter()
                .map(|t| cbor::text(t, what).map(str::to_owned))
                .collect()
        };
        for (key, v) in cbor::map(value, "catr")? {
            match cbor::int(key, "catr key")? {
                0 => {
                    delivery = Some(match cbor::int(v, "catr type")? {
                        0 => Delivery::Automatic,
                        1 => Delivery::Cookie,
                        2 => Delivery::Header,
                        3 => Delivery::Redirect,
                        other => return Err(Refusal::Unsupported(format!("catr type {other}"))),
                    })
                }
                1 => expadd = Some(cbor::time(v, "catr expadd")?),
                2 => r.deadline = cbor::time(v, "catr deadline")?,
                3 => r.cookie_name = Some(token_name(cbor::text(v, "catr cookie name")?)?),
                4 => r.header_name = Some(token_name(cbor::text(v, "catr header name")?)?),
                5 => r.cookie_params = texts(v, "catr cookie parameters")?,
                6 => r.header_params = texts(v, "catr header parameters")?,
                7 => {
                    r.status = match cbor::int(v, "catr status")? {
                        s @ (301 | 302 | 303 | 307 | 308) => s as u16,
                        other => {
                            return Err(Refusal::Malformed(format!(
                                "catr status {other} is not a redirect"
                            )))
                        }
                    }
                }
                _ => {}
            }
        }
        r.delivery = delivery.ok_or_else(|| Refusal::Malformed("catr has no type".into()))?;
        r.expadd = expadd.ok_or_else(|| Refusal::Malformed("catr has no expadd".into()))?;
        if r.expadd == 0 {
            return Err(Refusal::Malformed("catr expadd is 0".into()));
        }
        if r.cookie_params
            .iter()
            .chain(&r.header_params)
            .any(|p| !header_safe(p))
        {
            return Err(Refusal::Malformed(
                "catr cookie or header parameters hold characters a header cannot carry".into(),
            ));
        }
        Ok(r)
    }

    /// Whether a token expiring at `exp` is due for renewal at `now`.
    pub fn due(&self, exp: u64, now: u64) -> bool {
        now < exp && now >= exp.saturating_sub(self.deadline)
    }
}

/// Cookie and header names are tokens (RFC 9110): nothing a response could be split with.
fn token_name(name: &str) -> Result<String, Refusal> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(Refusal::Malformed(format!(
            "catr name {:?} is not a header or cookie name",
            name.chars().take(64).collect::<String>()
        )))
    }
}

fn header_safe(s: &str) -> bool {
    s.len() <= 256 && s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b';')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catr(entries: Vec<(i64, Value)>) -> Result<Renewal, Refusal> {
        Renewal::parse(&Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (cbor::int_value(k), v))
                .collect(),
        ))
    }

    #[test]
    fn window_is_deadline_seconds_before_exp() {
        let r = catr(vec![
            (0, cbor::int_value(1)),
            (1, cbor::int_value(120)),
            (2, cbor::int_value(30)),
        ])
        .unwrap();
        assert_eq!(r.delivery, Delivery::Cookie);
        assert!(!r.due(1000, 969));
        assert!(r.due(1000, 970));
        assert!(r.due(1000, 999));
        assert!(!r.due(1000, 1000));
    }

    #[test]
    fn type_and_expadd_are_required_and_names_are_safe() {
        assert!(catr(vec![(1, cbor::int_value(60))]).is_err());
        assert!(catr(vec![(0, cbor::int_value(0))]).is_err());
        assert!(catr(vec![(0, cbor::int_value(9)), (1, cbor::int_value(60))]).is_err());
        assert!(catr(vec![
            (0, cbor::int_value(1)),
            (1, cbor::int_value(60)),
            (3, Value::Text("a\r\nb".into()))
        ])
        .is_err());
        assert!(catr(vec![
            (0, cbor::int_value(3)),
            (1, cbor::int_value(60)),
            (7, cbor::int_value(200))
        ])
        .is_err());
        let r = catr(vec![
            (0, cbor::int_value(3)),
            (1, cbor::int_value(60)),
            (7, cbor::int_value(307)),
        ])
        .unwrap();
        assert_eq!(
            (r.delivery, r.status, r.deadline),
            (Delivery::Redirect, 307, DEFAULT_DEADLINE)
        );
    }
}
