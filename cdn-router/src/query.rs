//! The query of a steering request: what the player says (`_HLS_pathway` / `_DASH_pathway`,
//! the pathway it is on; `_HLS_throughput` / `_DASH_throughput`, in bits per second) and the
//! state the edge put in the `RELOAD-URI` (`session`, and `served`: the pathway the last
//! answer put first). Read within fixed bounds; unknown parameters (the access token, cache
//! busters) are left to others.

use crate::error::QueryError;
use crate::pathway::{valid_id, PathwayId};

/// The longest query read.
pub const MAX_QUERY_BYTES: usize = 4096;
/// The most parameters read.
pub const MAX_PARAMETERS: usize = 32;

/// The parameter names of the session state the edge writes into `RELOAD-URI`.
pub const SESSION: &str = "session";
pub const SERVED: &str = "served";
/// The edge's signature over `session` and `served`, so that only what it wrote counts.
pub const STATE: &str = "state";

/// What a steering request says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SteeringQuery {
    /// The session, as the edge named it in the `SERVER-URI` or `RELOAD-URI`.
    pub session: Option<String>,
    /// The pathway the last answer put first.
    pub served: Option<PathwayId>,
    /// The edge's signature of `session` and `served` (hex).
    pub state: Option<String>,
    /// The pathway the player is on.
    pub pathway: Option<PathwayId>,
    /// The throughput the player measured, bits per second.
    pub throughput_bps: Option<u64>,
}

impl SteeringQuery {
    /// Whether the player is on another pathway than the one it was told to use first: it
    /// left that one (or had not moved to it yet).
    pub fn left(&self) -> Option<&PathwayId> {
        match (&self.served, &self.pathway) {
            (Some(served), Some(on)) if served != on => Some(served),
            _ => None,
        }
    }
}

/// Reads `query` (the part after `?`, without it).
pub fn parse(query: &str) -> Result<SteeringQuery, QueryError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong {
            len: query.len(),
            max: MAX_QUERY_BYTES,
        });
    }
    let mut out = SteeringQuery::default();
    for (n, pair) in query.split('&').filter(|p| !p.is_empty()).enumerate() {
        if n >= MAX_PARAMETERS {
            return Err(QueryError::TooManyParameters {
                max: MAX_PARAMETERS,
            });
        }
        let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
        let known = matches!(
            name,
            "_HLS_pathway" | "_DASH_pathway" | "_HLS_throughput" | "_DASH_throughput"
        ) || name == SESSION
            || name == SERVED
            || name == STATE;
        if !known {
            continue;
        }
        let value = decode(raw).ok_or_else(|| QueryError::BadEncoding { name: name.into() })?;
        if value.is_empty() {
            continue;
        }
        match name {
            "_HLS_pathway" | "_DASH_pathway" => {
                out.pathway = last_of_list(&value).map(|v| pathway(name, v)).transpose()?;
            }
            "_HLS_throughput" | "_DASH_throughput" => {
                out.throughput_bps = last_of_list(&value)
                    .map(|v| throughput(name, v))
                    .transpose()?;
            }
            SERVED => out.served = Some(pathway(name, &value)?),
            STATE => {
                if value.len() > 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(QueryError::BadState);
                }
                out.state = Some(value);
            }
            _ => {
                if !valid_id(&value, 128) {
                    return Err(QueryError::BadSession { value });
                }
                out.session = Some(value);
            }
        }
    }
    Ok(out)
}

/// The last entry of a value that may be a list: dash.js sends every service location used
/// since its last request, quoted and comma-separated (`"alpha,beta"`), the current one last;
/// hls.js sends one, unquoted.
fn last_of_list(value: &str) -> Option<&str> {
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    unquoted.rsplit(',').map(str::trim).find(|v| !v.is_empty())
}

fn pathway(name: &str, value: &str) -> Result<PathwayId, QueryError> {
    PathwayId::new(value).ok_or_else(|| QueryError::BadPathway {
        name: name.into(),
        value: value.chars().take(80).collect(),
    })
}

/// A throughput: a non-negative number (players send integers; a fraction is rounded).
fn throughput(name: &str, value: &str) -> Result<u64, QueryError> {
    let bad = || QueryError::BadThroughput {
        name: name.into(),
        value: value.chars().take(80).collect(),
    };
    if value.len() > 24 || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let v: f64 = value.parse().map_err(|_| bad())?;
    Ok(v.round() as u64)
}

/// Percent-decoding; `+` is a space, as in form-encoded queries. `None` for a broken escape
/// or bytes that are not UTF-8.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_hls_js_and_dash_js_send() {
        let q =
            parse("session=ab12&served=cdn-a&_HLS_pathway=cdn-b&_HLS_throughput=2500000").unwrap();
        assert_eq!(q.session.as_deref(), Some("ab12"));
        assert_eq!(q.served.as_ref().unwrap().as_str(), "cdn-a");
        assert_eq!(q.pathway.as_ref().unwrap().as_str(), "cdn-b");
        assert_eq!(q.throughput_bps, Some(2_500_000));
        assert_eq!(q.left().unwrap().as_str(), "cdn-a");
        // dash.js: every location since the last request, quoted, the current one last.
        let d = parse("_DASH_pathway=%22a,b%22&_DASH_throughput=%22900000,12.6%22&cat=x").unwrap();
        assert_eq!(d.pathway.as_ref().unwrap().as_str(), "b");
        assert_eq!(d.throughput_bps, Some(13));
        assert_eq!(d.left(), None);
        let d = parse("_DASH_pathway=%22a,b%20c%22");
        assert!(matches!(d, Err(QueryError::BadPathway { .. })));
    }

    #[test]
    fn empty_and_unknown_parameters_are_nothing() {
        assert_eq!(parse("").unwrap(), SteeringQuery::default());
        assert_eq!(
            parse("_HLS_pathway=&x=%zz&&=").unwrap(),
            SteeringQuery::default()
        );
    }

    #[test]
    fn hostile_queries_are_refused_with_a_reason() {
        assert!(matches!(
            parse(&"a".repeat(5000)),
            Err(QueryError::TooLong { .. })
        ));
        let many = vec!["x=1"; 40].join("&");
        assert!(matches!(
            parse(&many),
            Err(QueryError::TooManyParameters { .. })
        ));
        assert!(matches!(
            parse("session=%4"),
            Err(QueryError::BadEncoding { .. })
        ));
        assert!(matches!(
            parse("session=%ff"),
            Err(QueryError::BadEncoding { .. })
        ));
        assert!(matches!(
            parse("session=a%20b"),
            Err(QueryError::BadSession { .. })
        ));
        for t in ["-1", "1e9", "nan", "inf", "99999999999999999999999999"] {
            assert!(
                matches!(
                    parse(&format!("_HLS_throughput={t}")),
                    Err(QueryError::BadThroughput { .. })
                ),
                "{t}"
            );
        }
    }
}
