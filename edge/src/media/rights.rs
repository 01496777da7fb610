//! Where and when an asset may play, as its catalog entry says (`[catalog]`): an availability
//! window and a list of territories. Checked on every request for the asset, token or not,
//! after the title is resolved (the token, when there is one, carries the territories too,
//! and the access gate checks those).
//!
//! The viewer's country comes from the request header the CDN in front sets
//! (`catalog.country_header`). A restricted asset refuses a request without one: an unknown
//! country is not a listed one.

use http::HeaderMap;

use crate::problem::{Problem, ProblemKind};

/// What the catalog allows for one asset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights {
    /// Unix seconds from which it plays, if bounded.
    pub starts_at: Option<i64>,
    /// Unix seconds from which it no longer plays, if bounded.
    pub ends_at: Option<i64>,
    /// ISO 3166-1 alpha-2 countries where it plays; empty: everywhere.
    pub territories: Vec<String>,
}

impl Rights {
    /// Whether this allows everything (nothing to check).
    pub fn is_open(&self) -> bool {
        self.starts_at.is_none() && self.ends_at.is_none() && self.territories.is_empty()
    }

    /// Whether a request at `now` (Unix seconds) from `country` may have the asset.
    pub fn check(&self, now: i64, country: Option<&str>) -> Result<(), Problem> {
        if let Some(start) = self.starts_at {
            if now < start {
                return Err(Problem::new(
                    ProblemKind::AssetNotAvailable,
                    format!("the asset plays from {start} (Unix seconds); it is {now}"),
                ));
            }
        }
        if let Some(end) = self.ends_at {
            if now >= end {
                return Err(Problem::new(
                    ProblemKind::AssetNotAvailable,
                    format!("the asset stopped playing at {end} (Unix seconds); it is {now}"),
                ));
            }
        }
        if self.territories.is_empty() {
            return Ok(());
        }
        let listed = country.is_some_and(|c| {
            // `FR` and `FR-75` are both France.
            let alpha2 = c.split('-').next().unwrap_or(c).trim();
            self.territories
                .iter()
                .any(|t| t.eq_ignore_ascii_case(alpha2))
        });
        if listed {
            Ok(())
        } else {
            Err(Problem::new(
                ProblemKind::TerritoryNotAllowed,
                match country {
                    Some(c) => format!("the asset does not play in {c:?}"),
                    None => "the asset plays only in some countries, and the request says of none"
                        .to_owned(),
                },
            ))
        }
    }

    /// [`Rights::check`] for a request with `headers`, the country in `country_header`.
    pub fn check_request(
        &self,
        now: i64,
        headers: &HeaderMap,
        country_header: &str,
    ) -> Result<(), Problem> {
        let country = headers
            .get(country_header)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty());
        self.check(now, country)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: Option<i64>, end: Option<i64>) -> Rights {
        Rights {
            starts_at: start,
            ends_at: end,
            territories: vec![],
        }
    }

    #[test]
    fn the_window_is_closed_at_its_start_and_open_at_its_end() {
        let r = window(Some(100), Some(200));
        assert_eq!(
            r.check(99, None).unwrap_err().kind,
            ProblemKind::AssetNotAvailable
        );
        assert!(r.check(100, None).is_ok());
        assert!(r.check(199, None).is_ok());
        assert_eq!(
            r.check(200, None).unwrap_err().kind,
            ProblemKind::AssetNotAvailable
        );
        assert!(window(None, None).is_open());
        assert!(window(None, None).check(i64::MIN, None).is_ok());
    }

    #[test]
    fn territories_need_a_listed_country() {
        let r = Rights {
            territories: vec!["FR".into(), "be".into()],
            ..Rights::default()
        };
        assert!(!r.is_open());
        assert!(r.check(0, Some("fr")).is_ok());
        assert!(r.check(0, Some("BE")).is_ok());
        assert!(r.check(0, Some("FR-75")).is_ok(), "a subdivision of France");
        for refused in [Some("DE"), Some(""), None] {
            assert_eq!(
                r.check(0, refused).unwrap_err().kind,
                ProblemKind::TerritoryNotAllowed,
                "{refused:?}"
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-country-code", "BE".parse().unwrap());
        assert!(r.check_request(0, &headers, "X-Country-Code").is_ok());
        assert!(r
            .check_request(0, &HeaderMap::new(), "X-Country-Code")
            .is_err());
    }
}
