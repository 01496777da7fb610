//! VAST documents of every version read into ads; broken ones refused with the element and line.

use super::*;
use crate::error::ParseError;
use crate::time::Offset;

const POD: &str = include_str!("../../testdata/vast4_inline_pod.xml");
const WRAPPER: &str = include_str!("../../testdata/vast3_wrapper.xml");
const V2: &str = include_str!("../../testdata/vast2_inline.xml");
const NO_AD: &str = include_str!("../../testdata/vast_no_ad.xml");

#[test]
fn a_vast_4_pod_with_a_buffet_ad() {
    let v = parse(POD).unwrap();
    assert_eq!(v.version, "4.2");
    assert_eq!(v.ads.len(), 3);
    let seq: Vec<Option<u32>> = v.ads.iter().map(|a| a.sequence).collect();
    assert_eq!(seq, [Some(1), Some(2), None]);
    let first = v.ads[0].inline().unwrap();
    assert_eq!(first.ad_title.as_deref(), Some("First of two"));
    assert_eq!(
        first.impressions,
        ["https://ads.example/imp?ad=1&s=[session.id]"]
    );
    assert_eq!(
        first.errors,
        ["https://ads.example/error?ad=1&code=[ERRORCODE]"]
    );
    let (creative, linear) = first.linear().unwrap();
    assert_eq!(creative.ad_id.as_deref(), Some("a1"));
    assert_eq!(
        creative.universal_ad_ids,
        [UniversalAdId {
            registry: "ad-id.org".into(),
            value: "EDGE0001000H".into()
        }]
    );
    assert_eq!(linear.duration_ms, Some(10_000));
    assert_eq!(linear.skip_offset, Some(Offset::Time(5_000)));
    assert_eq!(
        linear.click_through.as_deref(),
        Some("https://advertiser.example/")
    );
    let events: Vec<&Event> = linear.tracking.iter().map(|t| &t.event).collect();
    assert_eq!(
        events,
        [
            &Event::Start,
            &Event::FirstQuartile,
            &Event::Midpoint,
            &Event::ThirdQuartile,
            &Event::Complete,
            &Event::Progress(Offset::Time(2_500)),
            &Event::Other("pause".into()),
        ]
    );
    let at: Vec<Option<u64>> = events.iter().map(|e| e.at_ms(10_000)).collect();
    assert_eq!(
        at,
        [
            Some(0),
            Some(2_500),
            Some(5_000),
            Some(7_500),
            Some(10_000),
            Some(2_500),
            None
        ]
    );
    // Media files: the Mezzanine is not one; the range bitrate is its middle.
    assert_eq!(linear.media_files.len(), 3);
    assert_eq!(linear.media_files[0].codec.as_deref(), Some("avc1.64001e"));
    assert_eq!(linear.media_files[1].bitrate_kbps, Some(2_500));
    assert_eq!(linear.media_files[2].delivery, Delivery::Streaming);
    assert_eq!(linear.media_files[2].mime_type, "application/x-mpegurl");
    // The companion-only creative has no linear; the VAST 4.0 idValue is read.
    assert!(first.creatives[1].linear.is_none());
    let second = v.ads[1].inline().unwrap();
    assert_eq!(second.creatives[0].ad_id.as_deref(), Some("a2"));
    assert_eq!(
        second.creatives[0].universal_ad_ids[0].value,
        "EDGE0002000H"
    );
    assert_eq!(second.linear().unwrap().1.duration_ms, Some(6_000));
}

#[test]
fn a_vast_3_wrapper() {
    let v = parse(WRAPPER).unwrap();
    let w = v.ads[0].wrapper().unwrap();
    assert_eq!(w.tag_uri, "https://ads.example/vast?level=2&s=[session.id]");
    assert!(w.follow_additional_wrappers && w.allow_multiple_ads && !w.fallback_on_no_ad);
    assert_eq!(w.impressions.len(), 1);
    let l = w.creatives[0].linear.as_ref().unwrap();
    assert_eq!(l.duration_ms, None);
    assert_eq!(l.tracking.len(), 2);
}

#[test]
fn a_vast_2_inline_without_namespaces_or_cdata() {
    let v = parse(V2).unwrap();
    let i = v.ads[0].inline().unwrap();
    let l = i.linear().unwrap().1;
    assert_eq!(l.duration_ms, Some(30_000));
    assert_eq!(l.tracking[0].url, "https://ads.example/t?e=start&v=2");
    // The media file without a size cannot be chosen for a rendition: dropped.
    assert_eq!(l.media_files.len(), 1);
}

#[test]
fn an_answer_with_no_ad_keeps_its_error_url() {
    let v = parse(NO_AD).unwrap();
    assert!(v.ads.is_empty());
    assert_eq!(
        v.errors,
        ["https://ads.example/error?empty=1&code=[ERRORCODE]"]
    );
}

fn refusal(doc: &str) -> String {
    parse(doc).unwrap_err().to_string()
}

#[test]
fn what_cannot_be_played_is_refused_naming_the_element_and_line() {
    assert_eq!(
        refusal("<VMAP/>"),
        "line 1: <VMAP> is not a VAST document (the root must be <VAST>)"
    );
    assert!(refusal("<VAST/>").contains("<VAST> has no version"));
    assert!(refusal("<VAST version=\"5.0\"/>").contains("2.0 to 4.3"));
    assert_eq!(
        refusal("<VAST version=\"4.0\">\n<Ad id=\"x\"/>\n</VAST>"),
        "line 2: <Ad> has neither <InLine> nor <Wrapper>"
    );
    assert_eq!(
        refusal("<VAST version=\"3.0\"><Ad><Wrapper>\n</Wrapper></Ad></VAST>"),
        "line 1: <Wrapper> has no VASTAdTagURI"
    );
    let no_duration = "<VAST version=\"4.0\"><Ad><InLine><Creatives><Creative>\n<Linear></Linear></Creative></Creatives></InLine></Ad></VAST>";
    assert_eq!(refusal(no_duration), "line 2: <Linear> has no <Duration>");
    let bad_duration = "<VAST version=\"4.0\"><Ad><InLine><Creatives><Creative><Linear>\n\n<Duration>ten seconds</Duration></Linear></Creative></Creatives></InLine></Ad></VAST>";
    assert_eq!(
        refusal(bad_duration),
        "line 3: <Duration> \"ten seconds\" is not HH:MM:SS(.mmm)"
    );
    assert!(
        refusal("<VAST version=\"4.0\"><Ad sequence=\"one\"><InLine/></Ad></VAST>")
            .contains("sequence=\"one\"")
    );
    assert!(matches!(
        parse("<VAST version=\"4.0\"><Ad>"),
        Err(ParseError::Xml { .. })
    ));
}

#[test]
fn a_document_with_too_many_ads_is_refused() {
    let ad = "<Ad><InLine><Impression>https://x/</Impression></InLine></Ad>";
    let doc = format!("<VAST version=\"4.0\">{}</VAST>", ad.repeat(MAX_ADS + 1));
    assert!(refusal(&doc).contains("ads read from one document"));
    let doc = format!("<VAST version=\"4.0\">{}</VAST>", ad.repeat(MAX_ADS));
    assert_eq!(parse(&doc).unwrap().ads.len(), MAX_ADS);
}
