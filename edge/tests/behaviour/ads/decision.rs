//! Break decisions: what a break gets from an ad server, and how every way an ad server
//! fails is answered (never an error the request sees: a skipped break or a failed ad).

use std::time::{Duration, Instant};

use edge::ads::config::AdsConfig;
use edge::ads::decision::{Decider, Device, Skip};
use ssai::chain::ErrorCode;
use ssai::vast::Event;

use super::ad_server::{AdServer, Answer};

const POD: &str = include_str!("../../../../ssai/testdata/vast4_inline_pod.xml");

/// A VAST 4 wrapper pointing at `next`, with its own impression, error and start URLs.
fn wrapper(next: &str, name: &str) -> String {
    format!(
        r#"<VAST version="4.0"><Ad id="{name}"><Wrapper>
  <AdSystem>{name}</AdSystem>
  <VASTAdTagURI><![CDATA[{next}]]></VASTAdTagURI>
  <Impression><![CDATA[https://beacons.example/imp?w={name}]]></Impression>
  <Error><![CDATA[https://beacons.example/error?w={name}&code=[ERRORCODE]]]></Error>
  <Creatives><Creative><Linear><TrackingEvents>
    <Tracking event="start"><![CDATA[https://beacons.example/start?w={name}]]></Tracking>
  </TrackingEvents></Linear></Creative></Creatives>
</Wrapper></Ad></VAST>"#
    )
}

fn decider(more: impl FnOnce(&mut AdsConfig)) -> Decider {
    let mut c = AdsConfig {
        request_timeout_ms: 400,
        deadline_ms: 1500,
        allow_private_addresses: true,
        ..AdsConfig::default()
    };
    more(&mut c);
    Decider::new(&c).unwrap()
}

fn device() -> Device<'static> {
    Device {
        ip: Some("192.0.2.7"),
        user_agent: Some("hls.js test player"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inline_pod_comes_back_in_sequence_with_the_device_headers() {
    let ads = AdServer::start().await;
    ads.set("/vast", Answer::vast(POD));
    let d = decider(|_| {})
        .decide(&ads.url("/vast?s=1"), &device())
        .await;
    assert_eq!(d.skipped, None);
    let ids: Vec<_> = d.ads.iter().map(|a| a.ad_id.clone().unwrap()).collect();
    assert_eq!(ids, ["pod-1", "pod-2"]);
    assert_eq!(d.requests, 1);
    let seen = ads.seen("/vast");
    assert_eq!(
        seen[0].headers.get("x-device-ip").map(String::as_str),
        Some("192.0.2.7")
    );
    assert_eq!(
        seen[0]
            .headers
            .get("x-device-user-agent")
            .map(String::as_str),
        Some("hls.js test player")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_levels_of_wrappers_end_in_the_ad_with_every_servers_tracking() {
    let ads = AdServer::start().await;
    ads.set("/w1", Answer::vast(&wrapper(&ads.url("/w2"), "w1")));
    ads.set("/w2", Answer::vast(&wrapper(&ads.url("/inline"), "w2")));
    ads.set("/inline", Answer::vast(POD));
    let d = decider(|_| {}).decide(&ads.url("/w1"), &device()).await;
    assert_eq!(d.skipped, None);
    assert_eq!(d.ads.len(), 1, "a wrapper's answer gives one ad");
    let ad = &d.ads[0];
    assert_eq!(
        ad.impressions[..2],
        [
            "https://beacons.example/imp?w=w1",
            "https://beacons.example/imp?w=w2"
        ]
    );
    let starts = ad
        .tracking
        .iter()
        .filter(|t| t.event == Event::Start)
        .count();
    assert_eq!(starts, 3);
    assert_eq!(d.requests, 3);
    // The device headers go to every server on the way.
    assert_eq!(
        ads.seen("/inline")[0]
            .headers
            .get("x-device-ip")
            .map(String::as_str),
        Some("192.0.2.7")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_six_deep_chain_and_a_loop_end_in_error_302_reported_to_every_wrapper() {
    let ads = AdServer::start().await;
    for i in 1..=6 {
        ads.set(
            &format!("/c{i}"),
            Answer::vast(&wrapper(
                &ads.url(&format!("/c{}", i + 1)),
                &format!("c{i}"),
            )),
        );
    }
    ads.set("/c7", Answer::vast(POD));
    let d = decider(|_| {}).decide(&ads.url("/c1"), &device()).await;
    assert!(d.ads.is_empty());
    assert!(matches!(d.skipped, Some(Skip::Error(_))), "{:?}", d.skipped);
    assert_eq!(d.failures.len(), 1);
    assert_eq!(d.failures[0].code, ErrorCode::WrapperLimit);
    assert_eq!(
        d.failures[0].error_urls.len(),
        6,
        "{:?}",
        d.failures[0].error_urls
    );
    assert!(ads.seen("/c7").is_empty(), "the chain went past the limit");
    // With a limit of 6 the same chain plays.
    let d = decider(|c| c.max_wrappers = 6)
        .decide(&ads.url("/c1"), &device())
        .await;
    assert_eq!(d.ads.len(), 1);

    ads.set("/loop-a", Answer::vast(&wrapper(&ads.url("/loop-b"), "a")));
    ads.set("/loop-b", Answer::vast(&wrapper(&ads.url("/loop-a"), "b")));
    let d = decider(|_| {}).decide(&ads.url("/loop-a"), &device()).await;
    assert_eq!(d.failures[0].code, ErrorCode::WrapperLimit);
    assert!(ads.seen("/loop-a").len() <= 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_ad_server_is_a_skipped_break_within_the_limits() {
    let ads = AdServer::start().await;
    ads.set(
        "/slow",
        Answer {
            delay: Duration::from_secs(5),
            ..Answer::vast(POD)
        },
    );
    let at = Instant::now();
    let d = decider(|_| {}).decide(&ads.url("/slow"), &device()).await;
    assert_eq!(d.skipped, Some(Skip::Timeout));
    assert!(
        at.elapsed() < Duration::from_millis(1200),
        "{:?}",
        at.elapsed()
    );
    // A slow wrapper's server: error 301, reported to the wrapper before it.
    ads.set("/w", Answer::vast(&wrapper(&ads.url("/slow"), "w")));
    let d = decider(|_| {}).decide(&ads.url("/w"), &device()).await;
    assert_eq!(d.skipped, Some(Skip::Timeout));
    assert_eq!(d.failures[0].code, ErrorCode::WrapperTimeout);
    assert_eq!(
        d.failures[0].error_urls,
        ["https://beacons.example/error?w=w&code=[ERRORCODE]"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_empty_answers_and_what_is_not_vast_skip_the_break() {
    let ads = AdServer::start().await;
    ads.set(
        "/500",
        Answer {
            status: 500,
            ..Answer::vast("oops")
        },
    );
    let d = decider(|_| {}).decide(&ads.url("/500"), &device()).await;
    assert!(
        matches!(&d.skipped, Some(Skip::Error(w)) if w.contains("500")),
        "{:?}",
        d.skipped
    );

    ads.set(
        "/empty",
        Answer::vast(include_str!("../../../../ssai/testdata/vast_no_ad.xml")),
    );
    let d = decider(|_| {}).decide(&ads.url("/empty"), &device()).await;
    assert_eq!(d.skipped, Some(Skip::Empty));
    assert_eq!(
        d.failures[0].error_urls,
        ["https://ads.example/error?empty=1&code=[ERRORCODE]"]
    );

    ads.set("/blank", Answer::vast(""));
    let d = decider(|_| {}).decide(&ads.url("/blank"), &device()).await;
    assert_eq!(d.skipped, Some(Skip::Empty));

    ads.set("/html", Answer::vast("<html><body>not an ad</body></html>"));
    let d = decider(|_| {}).decide(&ads.url("/html"), &device()).await;
    assert!(
        matches!(&d.skipped, Some(Skip::Error(w)) if w.contains("not VAST")),
        "{:?}",
        d.skipped
    );

    let d = decider(|_| {})
        .decide(&ads.url("/missing"), &device())
        .await;
    assert!(
        matches!(&d.skipped, Some(Skip::Error(w)) if w.contains("404")),
        "{:?}",
        d.skipped
    );

    let huge = format!(
        "<VAST version=\"4.0\">{}</VAST>",
        " ".repeat(ssai::xml::MAX_DOCUMENT_BYTES)
    );
    ads.set("/huge", Answer::vast(&huge));
    let d = decider(|_| {}).decide(&ads.url("/huge"), &device()).await;
    assert!(
        matches!(&d.skipped, Some(Skip::Error(w)) if w.contains("too large")),
        "{:?}",
        d.skipped
    );

    // A wrapper whose server answers nothing usable: 303 to the wrapper.
    ads.set("/w-empty", Answer::vast(&wrapper(&ads.url("/blank"), "we")));
    let d = decider(|_| {})
        .decide(&ads.url("/w-empty"), &device())
        .await;
    assert_eq!(d.failures[0].code, ErrorCode::NoAdsAfterWrapper);
}

#[tokio::test]
async fn an_ad_server_on_a_private_address_is_not_called_unless_allowed() {
    let server = AdServer::start().await;
    let strict = decider(|c| c.allow_private_addresses = false);
    let d = strict.decide(&server.url("/vast"), &device()).await;
    assert!(
        matches!(&d.skipped, Some(Skip::Error(why)) if why.contains("private")),
        "{d:?}"
    );
    assert!(
        server.seen("/").is_empty(),
        "the private ad server was called"
    );
}
