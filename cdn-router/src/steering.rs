//! The steering answer: which pathways a session should use, in order, for how long, and where
//! to ask next. Written as the HLS steering manifest (draft-pantos-hls-rfc8216bis, 4.4.6.6 and
//! 7.2: `VERSION`, `TTL`, `RELOAD-URI`, `PATHWAY-PRIORITY`, `PATHWAY-CLONES`) or the DASH one
//! (ETSI TS 103 998 / DASH-IF Content Steering: the same keys, and `SERVICE-LOCATION-PRIORITY`,
//! which dash.js releases before 4.7.2 read).

use serde::Serialize;

use crate::health::Status;
use crate::order::order;
use crate::pathway::{Pathway, PathwayId};
use crate::query::SteeringQuery;

/// How long an answer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtlPolicy {
    /// Seconds when every pathway is up.
    pub healthy_s: u64,
    /// Seconds while any pathway is down or ramping, so players follow changes sooner.
    pub degraded_s: u64,
}

/// A pathway made by the player from another one by replacing the host and adding query
/// parameters (HLS `PATHWAY-CLONES`): keeps a multivariant playlist to one pathway's
/// variants while every CDN is still named.
#[derive(Debug, Clone, PartialEq)]
pub struct PathwayClone {
    pub base_id: PathwayId,
    pub id: PathwayId,
    pub host: Option<String>,
    pub params: Vec<(String, String)>,
}

/// What one steering request is answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub priority: Vec<PathwayId>,
    pub ttl_s: u64,
    /// The pathway the player reports having left, if any (a failover it made).
    pub left: Option<PathwayId>,
}

/// Decides the answer for `session` from the pathways' health.
pub fn decide(
    session: &str,
    query: &SteeringQuery,
    pathways: &[Pathway],
    statuses: &[(PathwayId, Status)],
    ttl: &TtlPolicy,
) -> Decision {
    let degraded = statuses.iter().any(|(_, s)| *s != Status::Up);
    Decision {
        priority: order(session, pathways, statuses),
        ttl_s: if degraded {
            ttl.degraded_s
        } else {
            ttl.healthy_s
        },
        left: query
            .left()
            .filter(|id| pathways.iter().any(|p| &p.id == *id))
            .cloned(),
    }
}

/// The id under which HLS players are offered a pathway that came back from an outage for
/// the `returns`-th time: `{id}.r{returns}`, a clone of the pathway itself. hls.js keeps a
/// pathway it saw fail out for five minutes, by id, whatever the steering server says; under
/// a fresh id the CDN that recovered is taken back as soon as the steering answer says so.
/// `None` for a pathway that never failed (or whose id would grow past 64 characters).
pub fn readmission_id(id: &PathwayId, returns: u32) -> Option<PathwayId> {
    if returns == 0 {
        return None;
    }
    PathwayId::new(&format!("{id}.r{returns}"))
}

/// The pathway a readmission id stands for (`cdn-a.r2` → `cdn-a`), or the id itself.
pub fn readmitted_base(id: &PathwayId) -> PathwayId {
    id.as_str()
        .rsplit_once(".r")
        .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|(base, _)| PathwayId::new(base))
        .unwrap_or_else(|| id.clone())
}

/// Which steering manifest to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Hls,
    Dash,
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "VERSION")]
    version: u32,
    #[serde(rename = "TTL")]
    ttl: u64,
    #[serde(rename = "RELOAD-URI")]
    reload_uri: &'a str,
    #[serde(rename = "PATHWAY-PRIORITY")]
    pathway_priority: Vec<&'a str>,
    #[serde(
        rename = "SERVICE-LOCATION-PRIORITY",
        skip_serializing_if = "Option::is_none"
    )]
    service_location_priority: Option<Vec<&'a str>>,
    #[serde(rename = "PATHWAY-CLONES", skip_serializing_if = "Vec::is_empty")]
    pathway_clones: Vec<Clone<'a>>,
}

#[derive(Serialize)]
struct Clone<'a> {
    #[serde(rename = "BASE-ID")]
    base_id: &'a str,
    #[serde(rename = "ID")]
    id: &'a str,
    #[serde(rename = "URI-REPLACEMENT")]
    uri_replacement: Replacement<'a>,
}

#[derive(Serialize)]
struct Replacement<'a> {
    #[serde(rename = "HOST", skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(rename = "PARAMS", skip_serializing_if = "serde_json::Map::is_empty")]
    params: serde_json::Map<String, serde_json::Value>,
}

/// The steering manifest for `decision`, telling the player to ask `reload_uri` next.
pub fn document(
    decision: &Decision,
    reload_uri: &str,
    clones: &[PathwayClone],
    dialect: Dialect,
) -> String {
    let priority: Vec<&str> = decision.priority.iter().map(PathwayId::as_str).collect();
    let doc = Document {
        version: 1,
        ttl: decision.ttl_s,
        reload_uri,
        service_location_priority: (dialect == Dialect::Dash).then(|| priority.clone()),
        pathway_priority: priority,
        pathway_clones: clones
            .iter()
            .map(|c| Clone {
                base_id: c.base_id.as_str(),
                id: c.id.as_str(),
                uri_replacement: Replacement {
                    host: c.host.as_deref(),
                    params: c
                        .params
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                        .collect(),
                },
            })
            .collect(),
    };
    // Serialising plain strings and numbers into a String cannot fail.
    serde_json::to_string(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn id(s: &str) -> PathwayId {
        PathwayId::new(s).unwrap()
    }
    fn pathways() -> Vec<Pathway> {
        ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(i, p)| Pathway {
                id: id(p),
                base_url: format!("http://cdn-{p}.test:8081"),
                weight: 1,
                priority: i as u32 + 1,
            })
            .collect()
    }
    const TTL: TtlPolicy = TtlPolicy {
        healthy_s: 300,
        degraded_s: 5,
    };

    #[test]
    fn a_dark_pathway_leaves_the_answer_and_the_ttl_shortens() {
        let q = parse("session=s1&served=a&_HLS_pathway=a").unwrap();
        let all_up = decide("s1", &q, &pathways(), &[], &TTL);
        assert_eq!(all_up.priority, [id("a"), id("b"), id("c")]);
        assert_eq!((all_up.ttl_s, all_up.left), (300, None));
        let a_down = decide("s1", &q, &pathways(), &[(id("a"), Status::Down)], &TTL);
        assert_eq!(a_down.priority, [id("b"), id("c")]);
        assert_eq!(a_down.ttl_s, 5);
    }

    #[test]
    fn a_player_that_left_its_pathway_is_seen() {
        let q = parse("served=a&_HLS_pathway=b").unwrap();
        assert_eq!(decide("s", &q, &pathways(), &[], &TTL).left, Some(id("a")));
        let unknown = parse("served=zz&_HLS_pathway=b").unwrap();
        assert_eq!(decide("s", &unknown, &pathways(), &[], &TTL).left, None);
    }

    #[test]
    fn the_hls_document_has_the_draft_keys_and_no_dash_ones() {
        let d = decide("s", &SteeringQuery::default(), &pathways(), &[], &TTL);
        let clone = PathwayClone {
            base_id: id("a"),
            id: id("b"),
            host: Some("cdn-b.test".into()),
            params: vec![("cat".into(), "tok\"en".into())],
        };
        let hls: serde_json::Value =
            serde_json::from_str(&document(&d, "/steer?session=s", &[clone], Dialect::Hls))
                .unwrap();
        assert_eq!(hls["VERSION"], 1);
        assert_eq!(hls["TTL"], 300);
        assert_eq!(hls["RELOAD-URI"], "/steer?session=s");
        assert_eq!(hls["PATHWAY-PRIORITY"], serde_json::json!(["a", "b", "c"]));
        assert!(hls.get("SERVICE-LOCATION-PRIORITY").is_none());
        let c = &hls["PATHWAY-CLONES"][0];
        assert_eq!(c["BASE-ID"], "a");
        assert_eq!(c["ID"], "b");
        assert_eq!(c["URI-REPLACEMENT"]["HOST"], "cdn-b.test");
        assert_eq!(c["URI-REPLACEMENT"]["PARAMS"]["cat"], "tok\"en");
    }

    #[test]
    fn a_pathway_that_came_back_gets_a_fresh_id_that_maps_back() {
        assert_eq!(readmission_id(&id("cdn-a"), 0), None);
        let r2 = readmission_id(&id("cdn-a"), 2).unwrap();
        assert_eq!(r2.as_str(), "cdn-a.r2");
        assert_eq!(readmitted_base(&r2), id("cdn-a"));
        assert_eq!(readmitted_base(&id("cdn-a")), id("cdn-a"));
        assert_eq!(readmitted_base(&id("x.r")), id("x.r"));
        assert_eq!(readmitted_base(&id("x.rb")), id("x.rb"));
        assert_eq!(readmission_id(&id(&"x".repeat(63)), 1), None);
    }

    #[test]
    fn the_dash_document_repeats_the_order_for_older_dash_js() {
        let d = decide("s", &SteeringQuery::default(), &pathways(), &[], &TTL);
        let dash: serde_json::Value =
            serde_json::from_str(&document(&d, "r", &[], Dialect::Dash)).unwrap();
        assert_eq!(dash["PATHWAY-PRIORITY"], dash["SERVICE-LOCATION-PRIORITY"]);
        assert!(dash.get("PATHWAY-CLONES").is_none());
    }
}
