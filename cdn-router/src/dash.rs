//! An MPD rewritten to name every pathway (DASH Content Steering, ETSI TS 103 998): one
//! MPD-level `BaseURL` per CDN with its `serviceLocation` (the pathway id), and DVB's
//! `dvb:priority` / `dvb:weight` (ETSI TS 103 285 10.8) for players that know only those, then
//! a `ContentSteering` element with the steering server, the session's first pathway
//! (`defaultServiceLocation`) and `queryBeforeStart`. The MPD's own relative URLs (segment
//! templates, subtitle `BaseURL`s) resolve against the chosen `BaseURL`.

use crate::error::ManifestError;
use crate::pathway::PathwayId;

/// The DVB DASH extensions namespace (`dvb:priority`, `dvb:weight`).
pub const DVB_NS: &str = "urn:dvb:dash:dash-extensions:2014-1";

/// One pathway as an MPD `BaseURL`.
#[derive(Debug, Clone, PartialEq)]
pub struct DashPathway {
    pub id: PathwayId,
    /// The absolute URL of the MPD's directory on this CDN (`https://cdn-a.example/vod/demo/`).
    pub base_url: String,
    pub priority: u32,
    pub weight: u32,
}

/// How the MPD is steered.
#[derive(Debug, Clone, PartialEq)]
pub struct DashSteering<'a> {
    /// The steering request, with the session in its query.
    pub server_uri: &'a str,
    /// `defaultServiceLocation`: the pathway to start on.
    pub default: &'a PathwayId,
    /// Whether the player asks the steering server before it starts.
    pub query_before_start: bool,
    /// The `BaseURL`s, in this order.
    pub pathways: &'a [DashPathway],
}

/// `mpd` with every pathway in it.
pub fn steer_mpd(mpd: &str, s: &DashSteering<'_>) -> Result<String, ManifestError> {
    if s.pathways.is_empty() {
        return Err(ManifestError::NoPathways);
    }
    let start = mpd
        .find("<MPD")
        .filter(|&i| mpd[i + 4..].starts_with([' ', '\n', '\t', '\r', '>']))
        .ok_or(ManifestError::NotMpd("no <MPD> element"))?;
    let tag_end = start
        + mpd[start..]
            .find('>')
            .ok_or(ManifestError::NotMpd("the <MPD> start tag does not end"))?;
    if mpd[..tag_end].ends_with('/') {
        return Err(ManifestError::NotMpd("an empty <MPD/>"));
    }
    let mut out = String::with_capacity(mpd.len() + 160 * (s.pathways.len() + 1));
    out.push_str(&mpd[..tag_end]);
    if !mpd[start..tag_end].contains("xmlns:dvb=") {
        out.push_str(&format!(" xmlns:dvb=\"{DVB_NS}\""));
    }
    out.push('>');
    for p in s.pathways {
        out.push_str(&format!(
            "\n  <BaseURL serviceLocation=\"{}\" dvb:priority=\"{}\" dvb:weight=\"{}\">{}</BaseURL>",
            p.id,
            p.priority,
            p.weight,
            escape(&p.base_url)
        ));
    }
    out.push_str(&format!(
        "\n  <ContentSteering defaultServiceLocation=\"{}\" queryBeforeStart=\"{}\">{}</ContentSteering>",
        s.default,
        s.query_before_start,
        escape(s.server_uri)
    ));
    out.push_str(&mpd[tag_end + 1..]);
    Ok(out)
}

/// Text and attribute-value escaping.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../testdata/demo_manifest.mpd");

    fn steer() -> String {
        let ps: Vec<DashPathway> = [("cdn-a", 1, 10), ("cdn-b", 1, 5), ("cdn-c", 2, 1)]
            .iter()
            .map(|(id, priority, weight)| DashPathway {
                id: PathwayId::new(id).unwrap(),
                base_url: format!("http://{id}.test:8081/vod/demo/"),
                priority: *priority,
                weight: *weight,
            })
            .collect();
        let default = PathwayId::new("cdn-b").unwrap();
        steer_mpd(
            DEMO,
            &DashSteering {
                server_uri: "/vod/demo/steering/dash.json?session=s1&served=cdn-b",
                default: &default,
                query_before_start: true,
                pathways: &ps,
            },
        )
        .unwrap()
    }

    #[test]
    fn dash_mpd_reads_the_base_urls_and_the_periods_are_untouched() {
        let text = steer();
        let mpd = dash_mpd::parse(&text).unwrap();
        let original = dash_mpd::parse(DEMO).unwrap();
        let bases: Vec<(&str, Option<&str>)> = mpd
            .base_url
            .iter()
            .map(|b| (b.base.as_str(), b.serviceLocation.as_deref()))
            .collect();
        assert_eq!(
            bases,
            [
                ("http://cdn-a.test:8081/vod/demo/", Some("cdn-a")),
                ("http://cdn-b.test:8081/vod/demo/", Some("cdn-b")),
                ("http://cdn-c.test:8081/vod/demo/", Some("cdn-c")),
            ]
        );
        assert_eq!(mpd.base_url[2].priority, Some(2));
        assert_eq!(mpd.base_url[0].weight, Some(10));
        assert_eq!(mpd.periods.len(), original.periods.len());
        assert_eq!(
            mpd.periods[0].adaptations.len(),
            original.periods[0].adaptations.len()
        );
    }

    #[test]
    fn the_content_steering_element_is_escaped_and_names_the_default() {
        let text = steer();
        assert!(text.contains(
            "<ContentSteering defaultServiceLocation=\"cdn-b\" queryBeforeStart=\"true\">/vod/demo/steering/dash.json?session=s1&amp;served=cdn-b</ContentSteering>"
        ), "{text}");
        assert_eq!(text.matches(&format!("xmlns:dvb=\"{DVB_NS}\"")).count(), 1);
        // After the BaseURLs, before the first Period.
        let cs = text.find("<ContentSteering").unwrap();
        assert!(cs > text.rfind("serviceLocation=").unwrap());
        assert!(cs < text.find("<Period").unwrap());
    }

    #[test]
    fn what_is_not_an_mpd_is_refused() {
        let ps = [DashPathway {
            id: PathwayId::new("a").unwrap(),
            base_url: "http://a/".into(),
            priority: 1,
            weight: 1,
        }];
        let d = PathwayId::new("a").unwrap();
        let s = DashSteering {
            server_uri: "/s",
            default: &d,
            query_before_start: false,
            pathways: &ps,
        };
        for bad in [
            "",
            "<MPDX/>",
            "<MPD",
            "<MPD/>",
            "<?xml version=\"1.0\"?><x/>",
        ] {
            assert!(steer_mpd(bad, &s).is_err(), "{bad:?}");
        }
        assert!(steer_mpd("<MPD>", &s).is_ok());
    }
}
