//! The `catu` claim: conditions on the parts of the request URI. A `catu` is a map from a
//! URI part (scheme 0, host 1, port 2, path 3, query 4, parent path 5, filename 6, stem 7,
//! extension 8) to a map of match conditions (exact 0, prefix 1, suffix 2, contains 3,
//! regex 4, SHA-256 -1, SHA-512/256 -2); every condition must hold. Conditions are compiled
//! once, when the token is verified, so a request only compares strings.

use ciborium::value::Value;
use regex::{Regex, RegexBuilder};
use ring::digest;

use crate::cbor;
use crate::{Refusal, RequestFacts};

/// Longest regex pattern accepted, in bytes.
pub const MAX_REGEX_PATTERN: usize = 512;
/// Compiled size limit for a regex (its automaton), in bytes. The regex crate matches in
/// linear time, so with both caps a hostile pattern costs bounded time and memory.
pub const MAX_REGEX_COMPILED: usize = 256 * 1024;

/// A part of the URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Scheme,
    Host,
    Port,
    Path,
    Query,
    ParentPath,
    Filename,
    Stem,
    Extension,
}

impl Part {
    fn from_key(key: i64) -> Option<Part> {
        use Part::*;
        Some(match key {
            0 => Scheme,
            1 => Host,
            2 => Port,
            3 => Path,
            4 => Query,
            5 => ParentPath,
            6 => Filename,
            7 => Stem,
            8 => Extension,
            _ => return None,
        })
    }

    pub fn key(self) -> i64 {
        self as i64
    }

    pub fn name(self) -> &'static str {
        use Part::*;
        match self {
            Scheme => "scheme",
            Host => "host",
            Port => "port",
            Path => "path",
            Query => "query",
            ParentPath => "parent path",
            Filename => "filename",
            Stem => "stem",
            Extension => "extension",
        }
    }

    /// This part of the request's URI. The parent path of `/a/b/c.ts` is `/a/b`, its
    /// filename `c.ts`, its stem `c` and its extension `.ts` (with the dot; empty when the
    /// filename has none).
    fn of<'a>(self, facts: &RequestFacts<'a>, port: &'a str) -> &'a str {
        let path = facts.path;
        let (parent, filename) = match path.rfind('/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path),
        };
        let dot = filename.rfind('.').filter(|&i| i > 0);
        match self {
            Part::Scheme => facts.scheme,
            Part::Host => facts.host,
            Part::Port => port,
            Part::Path => path,
            Part::Query => facts.query,
            Part::ParentPath => parent,
            Part::Filename => filename,
            Part::Stem => dot.map_or(filename, |i| &filename[..i]),
            Part::Extension => dot.map_or("", |i| &filename[i..]),
        }
    }
}

/// One match condition.
#[derive(Debug, Clone)]
enum Condition {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Regex(Regex),
    Sha256(Vec<u8>),
    Sha512_256(Vec<u8>),
}

impl Condition {
    fn parse(key: i64, value: &Value) -> Result<Condition, Refusal> {
        let text = |what| cbor::text(value, what).map(str::to_owned);
        Ok(match key {
            0 => Condition::Exact(text("catu exact match")?),
            1 => Condition::Prefix(text("catu prefix match")?),
            2 => Condition::Suffix(text("catu suffix match")?),
            3 => Condition::Contains(text("catu contains match")?),
            4 => {
                // The pattern, alone or first in an array (the rest names capture groups).
                let pattern = match value {
                    Value::Array(items) => {
                        cbor::text(items.first().unwrap_or(&Value::Null), "catu regex pattern")?
                    }
                    other => cbor::text(other, "catu regex pattern")?,
                };
                Condition::Regex(compile(pattern)?)
            }
            -1 => Condition::Sha256(cbor::bytes(value, "catu sha-256 match")?.to_vec()),
            -2 => Condition::Sha512_256(cbor::bytes(value, "catu sha-512/256 match")?.to_vec()),
            other => return Err(Refusal::Unsupported(format!("catu match type {other}"))),
        })
    }

    fn holds(&self, s: &str) -> bool {
        match self {
            Condition::Exact(v) => s == v,
            Condition::Prefix(v) => s.starts_with(v.as_str()),
            Condition::Suffix(v) => s.ends_with(v.as_str()),
            Condition::Contains(v) => s.contains(v.as_str()),
            Condition::Regex(r) => r.is_match(s),
            Condition::Sha256(h) => digest::digest(&digest::SHA256, s.as_bytes()).as_ref() == h,
            // Implementations disagree on "sha512-256": FIPS SHA-512/256 (the name), the
            // first 32 bytes of SHA-512 (Fastly's) or all 64 (Akamai's). All three are
            // accepted; each is a hash of the part, so none is weaker than a SHA-256 match.
            Condition::Sha512_256(h) => match h.len() {
                32 => {
                    digest::digest(&digest::SHA512_256, s.as_bytes()).as_ref() == h
                        || digest::digest(&digest::SHA512, s.as_bytes()).as_ref()[..32] == h[..]
                }
                64 => digest::digest(&digest::SHA512, s.as_bytes()).as_ref() == h,
                _ => false,
            },
        }
    }
}

/// Compiles a `catu` regex under the size caps. Like the other implementations (Eyevinn's,
/// Akamai's, Fastly's), a regex matches anywhere in the part unless it anchors itself.
fn compile(pattern: &str) -> Result<Regex, Refusal> {
    if pattern.len() > MAX_REGEX_PATTERN {
        return Err(Refusal::Malformed(format!(
            "catu regex is {} bytes; at most {MAX_REGEX_PATTERN} are accepted",
            pattern.len()
        )));
    }
    RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_COMPILED)
        .dfa_size_limit(MAX_REGEX_COMPILED)
        .nest_limit(32)
        .build()
        .map_err(|e| Refusal::Malformed(format!("catu regex cannot be used: {e}")))
}

/// A parsed `catu`.
#[derive(Debug, Clone, Default)]
pub struct UriRules {
    rules: Vec<(Part, Condition)>,
}

impl UriRules {
    pub fn parse(value: &Value) -> Result<UriRules, Refusal> {
        let mut rules = Vec::new();
        for (part_key, conditions) in cbor::map(value, "catu")? {
            let key = cbor::int(part_key, "catu URI part")?;
            let part = Part::from_key(key)
                .ok_or_else(|| Refusal::Unsupported(format!("catu URI part {key}")))?;
            for (match_key, match_value) in cbor::map(conditions, "catu match map")? {
                let condition =
                    Condition::parse(cbor::int(match_key, "catu match type")?, match_value)?;
                rules.push((part, condition));
            }
        }
        Ok(UriRules { rules })
    }

    /// Checks every condition against the request.
    pub fn check(&self, facts: &RequestFacts<'_>) -> Result<(), Refusal> {
        // The port is compared as decimal text; made only when a rule asks for it.
        let port = if self.rules.iter().any(|(p, _)| *p == Part::Port) {
            facts.port.to_string()
        } else {
            String::new()
        };
        for (part, condition) in &self.rules {
            let value = part.of(facts, &port);
            if !condition.holds(value) {
                return Err(Refusal::WrongUri(format!(
                    "{} {value:?} does not match the token's catu",
                    part.name()
                )));
            }
        }
        Ok(())
    }

    /// A `catu` limiting the path to a prefix (what the edge writes into derived tokens).
    pub fn path_prefix(prefix: &str) -> Value {
        Value::Map(vec![(
            cbor::int_value(Part::Path.key()),
            Value::Map(vec![(cbor::int_value(1), Value::Text(prefix.into()))]),
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(path: &str) -> RequestFacts<'_> {
        RequestFacts {
            scheme: "https",
            host: "cdn.example.com",
            port: 443,
            path,
            query: "a=1",
            method: "GET",
            client_ip: None,
            country: None,
            alpn: "h2",
            now: 0,
        }
    }

    fn rules(entries: Vec<(i64, i64, Value)>) -> Result<UriRules, Refusal> {
        let mut map: Vec<(Value, Value)> = Vec::new();
        for (part, kind, v) in entries {
            map.push((
                cbor::int_value(part),
                Value::Map(vec![(cbor::int_value(kind), v)]),
            ));
        }
        UriRules::parse(&Value::Map(map))
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn every_part_and_match_type_accepts_and_refuses() {
        let f = facts("/vod/demo/v1/3.m4s");
        let cases: Vec<(i64, i64, Value, bool)> = vec![
            (0, 0, t("https"), true),
            (0, 0, t("http"), false),
            (1, 2, t(".example.com"), true),
            (1, 2, t(".example.org"), false),
            (2, 0, t("443"), true),
            (2, 0, t("80"), false),
            (3, 1, t("/vod/demo/"), true),
            (3, 1, t("/vod/other/"), false),
            (4, 0, t("a=1"), true),
            (4, 0, t("a=2"), false),
            (5, 0, t("/vod/demo/v1"), true),
            (5, 0, t("/vod/demo"), false),
            (6, 0, t("3.m4s"), true),
            (7, 0, t("3"), true),
            (7, 0, t("3.m4s"), false),
            (8, 0, t(".m4s"), true),
            (8, 0, t(".ts"), false),
            (3, 3, t("/demo/"), true),
            (3, 3, t("/other/"), false),
            (3, 4, t(r"/vod/[a-z]+/v\d/\d+\.m4s"), true),
            (
                3,
                4,
                Value::Array(vec![t(r"/vod/([a-z]+)/.*"), Value::Null]),
                true,
            ),
            (3, 4, t(r"^/vod/[0-9]+/"), false),
            (
                3,
                -1,
                Value::Bytes(
                    digest::digest(&digest::SHA256, b"/vod/demo/v1/3.m4s")
                        .as_ref()
                        .to_vec(),
                ),
                true,
            ),
            (3, -1, Value::Bytes(vec![0; 32]), false),
            (
                3,
                -2,
                Value::Bytes(
                    digest::digest(&digest::SHA512_256, b"/vod/demo/v1/3.m4s")
                        .as_ref()
                        .to_vec(),
                ),
                true,
            ),
            (3, -2, Value::Bytes(vec![0; 32]), false),
        ];
        for (part, kind, value, ok) in cases {
            let r = rules(vec![(part, kind, value.clone())]).unwrap();
            assert_eq!(
                r.check(&f).is_ok(),
                ok,
                "part {part} match {kind} {value:?}"
            );
        }
    }

    #[test]
    fn a_regex_searches_unless_anchored() {
        let r = rules(vec![(3, 4, t("/vod/demo"))]).unwrap();
        assert!(r.check(&facts("/vod/demo/x")).is_ok());
        let r = rules(vec![(3, 4, t("^/vod/demo$"))]).unwrap();
        assert!(r.check(&facts("/vod/demo/x")).is_err());
    }

    #[test]
    fn hostile_regexes_are_refused_quickly() {
        let long = "a".repeat(MAX_REGEX_PATTERN + 1);
        assert!(rules(vec![(3, 4, t(&long))]).is_err());
        // compiles to far more than the size limit
        assert!(rules(vec![(3, 4, t("(((a{100}){100}){100})"))]).is_err());
        assert!(rules(vec![(3, 4, t("(unclosed"))]).is_err());
    }

    #[test]
    fn unknown_parts_and_match_types_are_unsupported() {
        assert!(matches!(
            rules(vec![(9, 0, t("x"))]),
            Err(Refusal::Unsupported(_))
        ));
        assert!(matches!(
            rules(vec![(3, 5, t("x"))]),
            Err(Refusal::Unsupported(_))
        ));
        assert!(matches!(
            rules(vec![(3, 0, Value::Integer(1.into()))]),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn filename_without_a_dot_has_no_extension() {
        let r = rules(vec![(8, 0, t(""))]).unwrap();
        assert!(r.check(&facts("/vod/demo/README")).is_ok());
        let r = rules(vec![(7, 0, t(".hidden"))]).unwrap();
        assert!(r.check(&facts("/x/.hidden")).is_ok());
    }
}
