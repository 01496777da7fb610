//! The claims set of a CAT, read into typed fields. Registered CWT claims (RFC 8392): iss 1,
//! sub 2, aud 3, exp 4, nbf 5, iat 6, cti 7; CAT claims (CTA-5007-B): catreplay 308, catpor
//! 309, catv 310, catnip 311, catu 312, catm 313, catalpn 314, catgeoiso3166 316, catr 323;
//! `crit` (45, the composite-claims numbering Akamai uses) lists claims that must be
//! understood; and `sid` (a text key, ours) carries a session across renewals.
//!
//! Claims that restrict access but that this edge cannot evaluate (`cath`, `catgeocoord`,
//! `catgeoalt`, `geohash`, `cattpk`, `catdpop`, `cnf`, `catif`, `cattprint`) refuse the token:
//! ignoring them would grant more than the issuer meant. Other unknown claims are ignored.

use ciborium::value::Value;

use crate::cat::nip::IpRules;
use crate::cat::renewal::Renewal;
use crate::cat::uri::UriRules;
use crate::cbor;
use crate::Refusal;

pub const ISS: i64 = 1;
pub const SUB: i64 = 2;
pub const AUD: i64 = 3;
pub const EXP: i64 = 4;
pub const NBF: i64 = 5;
pub const IAT: i64 = 6;
pub const CTI: i64 = 7;
pub const CRIT: i64 = 45;
pub const CATREPLAY: i64 = 308;
pub const CATPOR: i64 = 309;
pub const CATV: i64 = 310;
pub const CATNIP: i64 = 311;
pub const CATU: i64 = 312;
pub const CATM: i64 = 313;
pub const CATALPN: i64 = 314;
pub const CATGEOISO3166: i64 = 316;
pub const CATR: i64 = 323;
/// Our session claim (a text key, so it cannot collide with a registered one).
pub const SID: &str = "sid";

/// Known claims this edge does not evaluate and will not ignore (see the module doc).
const UNENFORCEABLE: [(i64, &str); 9] = [
    (8, "cnf"),
    (282, "geohash"),
    (315, "cath"),
    (317, "catgeocoord"),
    (318, "catgeoalt"),
    (319, "cattpk"),
    (321, "catdpop"),
    (322, "catif"),
    (324, "cattprint"),
];

/// Claims this edge understands (for `crit`).
const UNDERSTOOD: [i64; 16] = [
    ISS,
    SUB,
    AUD,
    EXP,
    NBF,
    IAT,
    CTI,
    CRIT,
    CATREPLAY,
    CATPOR,
    CATV,
    CATNIP,
    CATU,
    CATM,
    CATALPN,
    CATGEOISO3166,
];

/// `catreplay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replay {
    #[default]
    Permitted,
    /// The token may be used once.
    Prohibited,
    /// Reuse is allowed but reported.
    ReuseDetection,
}

/// The claims of a verified token.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Vec<String>,
    pub exp: Option<u64>,
    pub nbf: Option<u64>,
    pub iat: Option<u64>,
    pub cti: Option<Vec<u8>>,
    pub catv: Option<u64>,
    pub catu: Option<UriRules>,
    pub catm: Option<Vec<String>>,
    pub catnip: Option<IpRules>,
    pub catreplay: Replay,
    pub catr: Option<Renewal>,
    pub catalpn: Option<Vec<String>>,
    pub countries: Option<Vec<String>>,
    pub sid: Option<String>,
    /// Every claim as it came, in order, for renewed and derived tokens.
    pub raw: Vec<(Value, Value)>,
}

fn texts(v: &Value, what: &str) -> Result<Vec<String>, Refusal> {
    match v {
        Value::Text(t) => Ok(vec![t.clone()]),
        _ => cbor::array(v, what)?
            .iter()
            .map(|t| match t {
                Value::Bytes(b) => String::from_utf8(b.clone())
                    .map_err(|_| Refusal::Malformed(format!("{what} entry is not UTF-8"))),
                other => cbor::text(other, what).map(str::to_owned),
            })
            .collect(),
    }
}

impl Claims {
    /// Reads the claims set (the COSE payload).
    pub fn parse(payload: &[u8]) -> Result<Claims, Refusal> {
        let value = cbor::decode(payload, "claims set")?;
        let entries = cbor::map(&value, "claims set")?;
        let mut c = Claims::default();
        let mut crit: Vec<Value> = Vec::new();
        for (key, v) in entries {
            let Some(key) = cbor::int_key(key) else {
                if key.as_text() == Some(SID) {
                    c.sid = Some(cbor::text(v, "sid")?.to_owned());
                }
                continue;
            };
            match key {
                ISS => c.iss = Some(cbor::text(v, "iss")?.to_owned()),
                SUB => c.sub = Some(cbor::text(v, "sub")?.to_owned()),
                AUD => c.aud = texts(v, "aud")?,
                EXP => c.exp = Some(cbor::time(v, "exp")?),
                NBF => c.nbf = Some(cbor::time(v, "nbf")?),
                IAT => c.iat = Some(cbor::time(v, "iat")?),
                CTI => c.cti = Some(cbor::bytes(v, "cti")?.to_vec()),
                CRIT => crit = cbor::array(v, "crit")?.to_vec(),
                CATV => {
                    let version = cbor::time(v, "catv")?;
                    if version != 1 {
                        return Err(Refusal::Unsupported(format!("catv {version}")));
                    }
                    c.catv = Some(version);
                }
                CATU => c.catu = Some(UriRules::parse(v)?),
                CATM => {
                    c.catm = Some(
                        texts(v, "catm")?
                            .into_iter()
                            .map(|m| m.to_ascii_uppercase())
                            .collect(),
                    )
                }
                CATNIP => c.catnip = Some(IpRules::parse(v)?),
                CATREPLAY => {
                    c.catreplay = match cbor::int(v, "catreplay")? {
                        0 => Replay::Permitted,
                        1 => Replay::Prohibited,
                        2 => Replay::ReuseDetection,
                        other => return Err(Refusal::Unsupported(format!("catreplay {other}"))),
                    }
                }
                CATR => c.catr = Some(Renewal::parse(v)?),
                CATALPN => c.catalpn = Some(texts(v, "catalpn")?),
                CATGEOISO3166 => {
                    c.countries = Some(
                        texts(v, "catgeoiso3166")?
                            .into_iter()
                            .map(|m| m.to_ascii_uppercase())
                            .collect(),
                    )
                }
                other => {
                    if let Some((_, name)) = UNENFORCEABLE.iter().find(|(k, _)| *k == other) {
                        return Err(Refusal::Unsupported(format!(
                            "claim {name} ({other}) restricts access in a way this edge cannot check"
                        )));
                    }
                }
            }
        }
        for key in &crit {
            let understood = match cbor::int_key(key) {
                Some(k) => UNDERSTOOD.contains(&k) || k == CATR,
                None => key.as_text() == Some(SID),
            };
            let present = entries.iter().any(|(k, _)| k == key);
            if !understood || !present {
                return Err(Refusal::Unsupported(format!(
                    "critical claim {} is {}",
                    cbor::describe(key),
                    if present { "not understood" } else { "absent" }
                )));
            }
        }
        c.raw = entries.to_vec();
        Ok(c)
    }

    /// A claim as a non-negative integer, named by its integer key (`"400"`) or its text key
    /// (`"streams"`): for limits an issuer puts in its tokens.
    pub fn uint_of(&self, name: &str) -> Option<u64> {
        let wanted = match name.parse::<i64>() {
            Ok(k) => cbor::int_value(k),
            Err(_) => Value::Text(name.to_owned()),
        };
        self.raw
            .iter()
            .find(|(k, _)| *k == wanted)
            .and_then(|(_, v)| cbor::time(v, name).ok())
    }

    /// A claim as text, for session and account identities: `sub`, `iss`, `sid`, `aud` (the
    /// first), or `cti` (hex).
    pub fn text_of(&self, name: &str) -> Option<String> {
        match name {
            "sub" => self.sub.clone(),
            "iss" => self.iss.clone(),
            "sid" => self.sid.clone(),
            "aud" => self.aud.first().cloned(),
            "cti" => self.cti.as_ref().map(hex::encode),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entries: Vec<(Value, Value)>) -> Result<Claims, Refusal> {
        Claims::parse(&cbor::encode(&Value::Map(entries)))
    }

    fn k(i: i64) -> Value {
        cbor::int_value(i)
    }

    #[test]
    fn reads_registered_and_cat_claims() {
        let c = parse(vec![
            (k(ISS), Value::Text("issuer".into())),
            (
                k(AUD),
                Value::Array(vec![Value::Text("a".into()), Value::Text("b".into())]),
            ),
            (k(EXP), k(2000)),
            (k(CTI), Value::Bytes(vec![1, 2])),
            (k(CATV), k(1)),
            (k(CATM), Value::Array(vec![Value::Text("get".into())])),
            (k(CATREPLAY), k(1)),
            (Value::Text("sid".into()), Value::Text("s1".into())),
            (k(9999), Value::Text("ignored".into())),
        ])
        .unwrap();
        assert_eq!(c.iss.as_deref(), Some("issuer"));
        assert_eq!(c.aud, ["a", "b"]);
        assert_eq!(c.exp, Some(2000));
        assert_eq!(c.text_of("cti").as_deref(), Some("0102"));
        assert_eq!(c.catm.as_deref(), Some(&["GET".to_owned()][..]));
        assert_eq!(c.catreplay, Replay::Prohibited);
        assert_eq!(c.sid.as_deref(), Some("s1"));
        assert_eq!(c.uint_of("310"), Some(1));
        assert_eq!(c.uint_of("9999"), None, "a text value is not a number");
        assert_eq!(c.uint_of("streams"), None);
    }

    #[test]
    fn refuses_wrong_types_unknown_versions_and_unenforceable_claims() {
        assert!(parse(vec![(k(EXP), Value::Text("soon".into()))]).is_err());
        assert!(parse(vec![(k(EXP), k(-5))]).is_err());
        assert!(matches!(
            parse(vec![(k(CATV), k(2))]),
            Err(Refusal::Unsupported(_))
        ));
        assert!(matches!(
            parse(vec![(k(315), Value::Map(vec![]))]),
            Err(Refusal::Unsupported(_))
        ));
        assert!(matches!(
            parse(vec![(k(CATREPLAY), k(7))]),
            Err(Refusal::Unsupported(_))
        ));
    }

    #[test]
    fn critical_claims_must_be_present_and_understood() {
        assert!(parse(vec![(k(CRIT), Value::Array(vec![k(EXP)])), (k(EXP), k(5))]).is_ok());
        assert!(matches!(
            parse(vec![(k(CRIT), Value::Array(vec![k(EXP)]))]),
            Err(Refusal::Unsupported(_))
        ));
        assert!(matches!(
            parse(vec![(k(CRIT), Value::Array(vec![k(777)])), (k(777), k(1))]),
            Err(Refusal::Unsupported(_))
        ));
    }
}
