//! Where a token is read from: the configured headers, cookies and query parameters, in that
//! order (a renewed token arrives as a header or cookie while the URL still carries the old
//! one). Names decide the scheme: `__token__` and `hdnts` hold Akamai tokens, the others CATs.
//! This runs on every protected request, so the names are parsed once ([`Names`]) and a
//! token is borrowed from the request, not copied, unless it was percent-encoded.

use std::borrow::Cow;
use std::sync::Arc;

use http::header::HeaderName;
use http::request::Parts;
use percent_encoding::percent_decode_str;

use crate::access::config::{is_akamai_name, AccessConfig};

/// How a token reached us, and so how a renewal or a manifest passes it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carrier {
    Header(Arc<str>),
    Cookie(Arc<str>),
    Query(Arc<str>),
}

impl Carrier {
    pub fn name(&self) -> &str {
        match self {
            Carrier::Header(n) | Carrier::Cookie(n) | Carrier::Query(n) => n,
        }
    }
}

/// The configured carrier names, parsed once.
#[derive(Debug, Clone)]
pub struct Names {
    headers: Vec<(HeaderName, Arc<str>)>,
    cookies: Vec<Arc<str>>,
    queries: Vec<Arc<str>>,
}

impl Names {
    pub fn new(config: &AccessConfig) -> Result<Names, String> {
        let headers = config
            .header_names
            .iter()
            .map(|n| {
                HeaderName::from_bytes(n.as_bytes())
                    .map(|h| (h, Arc::from(n.as_str())))
                    .map_err(|_| format!("access.header_names: {n:?} is not a header name"))
            })
            .collect::<Result<_, _>>()?;
        let arcs = |v: &[String]| v.iter().map(|n| Arc::from(n.as_str())).collect();
        Ok(Names {
            headers,
            cookies: arcs(&config.cookie_names),
            queries: arcs(&config.query_names),
        })
    }
}

/// A token as presented.
#[derive(Debug, Clone)]
pub struct Presented<'a> {
    pub carrier: Carrier,
    pub akamai: bool,
    pub text: Cow<'a, str>,
}

/// Most tokens looked at per request (a request with dozens of token cookies is hostile).
const MAX_CANDIDATES: usize = 4;

/// A query value, decoded only when it holds percent-escapes.
fn query_value(value: &str) -> Cow<'_, str> {
    if value.contains('%') {
        percent_decode_str(value).decode_utf8_lossy()
    } else {
        Cow::Borrowed(value)
    }
}

/// The tokens a request carries, in the order they are tried.
pub fn presented<'a>(names: &Names, req: &'a Parts) -> Vec<Presented<'a>> {
    let mut out = Vec::with_capacity(1);
    for (header, name) in &names.headers {
        for value in req.headers.get_all(header) {
            if let Ok(text) = value.to_str() {
                out.push(Presented {
                    carrier: Carrier::Header(name.clone()),
                    akamai: is_akamai_name(name),
                    text: Cow::Borrowed(text.trim()),
                });
            }
        }
    }
    for value in req.headers.get_all(http::header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if let Some(n) = names.cookies.iter().find(|n| n.as_ref() == name) {
                out.push(Presented {
                    carrier: Carrier::Cookie(n.clone()),
                    akamai: is_akamai_name(n),
                    text: Cow::Borrowed(value.trim_matches('"')),
                });
            }
        }
    }
    if let Some(query) = req.uri.query() {
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if let Some(n) = names.queries.iter().find(|n| n.as_ref() == name) {
                out.push(Presented {
                    carrier: Carrier::Query(n.clone()),
                    akamai: is_akamai_name(n),
                    text: query_value(value),
                });
            }
        }
    }
    out.truncate(MAX_CANDIDATES);
    out
}

/// The query without the parameter `name` (what `catu` query matches see).
pub fn query_without<'a>(query: Option<&'a str>, name: Option<&str>) -> Cow<'a, str> {
    let Some(query) = query else {
        return Cow::Borrowed("");
    };
    let Some(name) = name else {
        return Cow::Borrowed(query);
    };
    let is_token = |pair: &str| pair.split_once('=').map_or(pair, |(n, _)| n) == name;
    let mut pairs = query.split('&').filter(|p| !p.is_empty());
    // The common cases, without copying: only the token, or no token at all.
    match (pairs.next(), pairs.next()) {
        (Some(only), None) if is_token(only) => return Cow::Borrowed(""),
        (None, _) => return Cow::Borrowed(""),
        _ => {}
    }
    if !query.split('&').any(is_token) {
        return Cow::Borrowed(query);
    }
    Cow::Owned(
        query
            .split('&')
            .filter(|p| !p.is_empty() && !is_token(p))
            .collect::<Vec<_>>()
            .join("&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn header_then_cookie_then_query() {
        let names = Names::new(&AccessConfig::default()).unwrap();
        let p = parts(
            "/vod/a/master.m3u8?x=1&cat=QQ&__token__=exp%3D1~hmac%3Dab",
            &[
                ("cta-common-access-token", "HH"),
                ("cookie", "a=b; Common-Access-Token=CC"),
            ],
        );
        let found = presented(&names, &p);
        let got: Vec<_> = found
            .iter()
            .map(|p| (p.carrier.clone(), p.akamai, p.text.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Carrier::Header("CTA-Common-Access-Token".into()),
                    false,
                    "HH".into()
                ),
                (
                    Carrier::Cookie("Common-Access-Token".into()),
                    false,
                    "CC".into()
                ),
                (Carrier::Query("cat".into()), false, "QQ".into()),
                (
                    Carrier::Query("__token__".into()),
                    true,
                    "exp=1~hmac=ab".into()
                ),
            ]
        );
        assert!(
            matches!(found[2].text, Cow::Borrowed(_)),
            "an unescaped token is not copied"
        );
    }

    #[test]
    fn the_token_parameter_is_left_out_of_the_query() {
        assert_eq!(query_without(Some("a=1&cat=x&b=2"), Some("cat")), "a=1&b=2");
        assert_eq!(query_without(Some("cat=x"), Some("cat")), "");
        assert_eq!(query_without(Some("a=1"), Some("cat")), "a=1");
        assert_eq!(query_without(Some("a=1&b=2"), Some("cat")), "a=1&b=2");
        assert_eq!(query_without(None, Some("cat")), "");
        assert_eq!(query_without(Some(""), Some("cat")), "");
    }
}
