//! A CDN as a steering pathway: an id players see (`PATHWAY-ID`, `serviceLocation`), the base
//! URL its copies of the asset are under, and how much traffic it should take.

use std::fmt;

/// A pathway id: 1 to 64 characters of `A-Z a-z 0-9 . - _`, the set the HLS draft allows for
/// `PATHWAY-ID` (and safe in a DASH `serviceLocation` and in a URL query unescaped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathwayId(String);

impl PathwayId {
    /// The id, if `text` is a valid one.
    pub fn new(text: &str) -> Option<PathwayId> {
        valid_id(text, 64).then(|| PathwayId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PathwayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` is 1 to `max` characters of `A-Z a-z 0-9 . - _`.
pub(crate) fn valid_id(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// One CDN an asset is delivered through.
#[derive(Debug, Clone, PartialEq)]
pub struct Pathway {
    pub id: PathwayId,
    /// Where the CDN serves the same paths as the edge: scheme, host, port and an optional
    /// path prefix, without a trailing slash (`https://cdn-a.example.com`).
    pub base_url: String,
    /// Share of sessions among the pathways of the same priority (0: only as a fallback).
    pub weight: u32,
    /// Lower is preferred; a pathway is used only when every healthy pathway of a lower
    /// priority number is gone.
    pub priority: u32,
}

impl Pathway {
    /// The host of the base URL (what an HLS pathway clone's `HOST` replacement is).
    pub fn host(&self) -> &str {
        host_of(&self.base_url)
    }
}

/// The host of an absolute URL: no scheme, user, port or path; an IPv6 address unbracketed.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.split(':').next().unwrap_or(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pathway_ids_are_the_hls_set() {
        assert!(PathwayId::new("cdn-a.eu_1").is_some());
        for bad in ["", "a b", "a\"", "ä", "a,b", &"x".repeat(65)] {
            assert!(PathwayId::new(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_host_of_a_base_url() {
        let p = |u: &str| Pathway {
            id: PathwayId::new("a").unwrap(),
            base_url: u.into(),
            weight: 1,
            priority: 1,
        };
        assert_eq!(p("https://cdn-a.example.com").host(), "cdn-a.example.com");
        assert_eq!(p("http://cdn-a.test:8081/edge").host(), "cdn-a.test");
        assert_eq!(p("http://[::1]:80").host(), "::1");
        assert_eq!(p("http://u@h:1").host(), "h");
    }
}
