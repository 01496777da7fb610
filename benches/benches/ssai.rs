//! Criterion benches of server-side ad insertion (the `ssai` crate): what reading an ad
//! server's answers costs the edge per break. `cargo bench -p edgepack-benches --bench ssai`
//! for figures.
//!
//! - `vast_wrapper_chain_3_deep`: a break's whole answer chain: three wrapper documents (each
//!   with its impressions, error URLs and linear tracking, as ad networks send them) and the
//!   inline document they end in (a 2-ad pod, 3 media files and every tracking event per ad)
//!   read, the wrappers followed by a `Chain::new(5)` and each pod ad resolved with every
//!   wrapper's URLs merged in;
//! - `vmap_parse`: `ssai/testdata/vmap_every_offset.xml` (five breaks, every `timeOffset`
//!   form, one with an embedded VAST answer);
//! - `vast_parse_pod`: `ssai/testdata/vast4_inline_pod.xml` (a 2-ad pod and a buffet ad);
//! - `stitch_hls_2h_10_breaks`: a session's media playlist: a 2-hour CMAF content playlist
//!   (1,800 segments of 4 s, its map and two `cbcs` key lines, as the packager writes it)
//!   with 10 breaks of a 2-ad pod (4 segments each) spliced in, every boundary's
//!   discontinuity, map and keys written;
//! - `interstitials_hls_2h_10_breaks`: the same playlist in the guided mode (a date anchor
//!   and 10 `EXT-X-DATERANGE` interstitials).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ssai::chain::{pick, Chain, ResolvedAd};
use ssai::hls::{AdSegments, Break};
use ssai::interstitials::Interstitial;

const VMAP: &str = include_str!("../../ssai/testdata/vmap_every_offset.xml");
const POD: &str = include_str!("../../ssai/testdata/vast4_inline_pod.xml");

/// Every linear tracking event of VAST 4 (those the edge fires and those only players see).
const EVENTS: [&str; 14] = [
    "creativeView",
    "start",
    "firstQuartile",
    "midpoint",
    "thirdQuartile",
    "complete",
    "mute",
    "unmute",
    "pause",
    "resume",
    "rewind",
    "skip",
    "playerExpand",
    "playerCollapse",
];

/// A tracking URL as ad servers write them: an event, ids, a cache buster and a session macro.
fn beacon(host: &str, event: &str, ad: &str) -> String {
    format!(
        "https://{host}/v1/track?event={event}&ad={ad}&cr=cr-{ad}&cb=[CACHEBUSTING]\
         &ts=[TIMESTAMP]&sid=[session.id]&pod=[avail.index]&sig=4f1c0e9a7b3d2e68"
    )
}

fn tracking_events(host: &str, ad: &str, events: &[&str]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&format!(
            "              <Tracking event=\"{e}\"><![CDATA[{}]]></Tracking>\n",
            beacon(host, e, ad)
        ));
    }
    out
}

/// Wrapper `level` (1 outermost) of a chain: points at the next server, with its own
/// impressions, error URLs and tracking.
fn wrapper(level: usize) -> String {
    let host = format!("ads{level}.network{level}.example");
    let ad = format!("w{level}");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<VAST version="4.1" xmlns="http://www.iab.com/VAST">
  <Ad id="{ad}-8812">
    <Wrapper followAdditionalWrappers="true" allowMultipleAds="true" fallbackOnNoAd="false">
      <AdSystem version="7.2">network-{level}</AdSystem>
      <VASTAdTagURI><![CDATA[https://ads{next}.network{next}.example/vast/4?sid=[session.id]&dur=[avail.duration]&w={level}&cb=[CACHEBUSTING]]]></VASTAdTagURI>
      <Impression id="imp-a"><![CDATA[https://{host}/v1/imp?ad={ad}&sid=[session.id]&cb=[CACHEBUSTING]]]></Impression>
      <Impression id="imp-b"><![CDATA[https://measure.example/pixel?net={level}&ad={ad}&ts=[TIMESTAMP]]]></Impression>
      <Impression id="imp-c"><![CDATA[https://verify.example/v?p=net{level}&c=[CACHEBUSTING]]]></Impression>
      <Error><![CDATA[https://{host}/v1/err?ad={ad}&code=[ERRORCODE]&sid=[session.id]]]></Error>
      <Error><![CDATA[https://measure.example/err?net={level}&code=[ERRORCODE]]]></Error>
      <Creatives>
        <Creative id="{ad}-cr" sequence="1">
          <Linear>
            <TrackingEvents>
{tracking}            </TrackingEvents>
            <VideoClicks>
              <ClickTracking><![CDATA[https://{host}/v1/click?ad={ad}]]></ClickTracking>
            </VideoClicks>
          </Linear>
        </Creative>
      </Creatives>
      <Extensions>
        <Extension type="waterfall"><Position>{level}</Position></Extension>
      </Extensions>
    </Wrapper>
  </Ad>
</VAST>
"#,
        next = level + 1,
        tracking = tracking_events(&host, &ad, &EVENTS[..6]),
    )
}

fn pod_ad(n: usize, seconds: u32) -> String {
    let host = "ads4.network4.example";
    let ad = format!("pod-{n}");
    let files: String = [(640, 360, 800), (1280, 720, 2500), (1920, 1080, 5000)]
        .iter()
        .map(|(w, h, kbps)| {
            format!(
                "              <MediaFile id=\"{ad}-{h}\" delivery=\"progressive\" type=\"video/mp4\" width=\"{w}\" height=\"{h}\" bitrate=\"{kbps}\" codec=\"avc1.64001f\" scalable=\"true\" maintainAspectRatio=\"true\"><![CDATA[https://media.advertiser.example/creatives/{ad}/{h}p_{kbps}k.mp4]]></MediaFile>\n"
            )
        })
        .collect();
    format!(
        r#"  <Ad id="{ad}" sequence="{n}">
    <InLine>
      <AdSystem version="4.3">network-4</AdSystem>
      <AdTitle>Spot {n}</AdTitle>
      <AdServingId>a8f2c9e1-{n}</AdServingId>
      <Impression id="imp"><![CDATA[https://{host}/v1/imp?ad={ad}&sid=[session.id]&cb=[CACHEBUSTING]]]></Impression>
      <Impression id="3p"><![CDATA[https://measure.example/pixel?ad={ad}&ts=[TIMESTAMP]]]></Impression>
      <Error><![CDATA[https://{host}/v1/err?ad={ad}&code=[ERRORCODE]]]></Error>
      <Creatives>
        <Creative id="{ad}-cr" adId="{ad}-adid" sequence="1">
          <UniversalAdId idRegistry="ad-id.org">EDGE000{n}000H</UniversalAdId>
          <Linear skipoffset="00:00:05">
            <Duration>00:00:{seconds:02}.000</Duration>
            <TrackingEvents>
{tracking}              <Tracking event="progress" offset="00:00:05"><![CDATA[{progress}]]></Tracking>
              <Tracking event="progress" offset="50%"><![CDATA[{progress}&at=50]]></Tracking>
            </TrackingEvents>
            <VideoClicks>
              <ClickThrough><![CDATA[https://advertiser.example/landing?ad={ad}]]></ClickThrough>
              <ClickTracking><![CDATA[https://{host}/v1/click?ad={ad}]]></ClickTracking>
            </VideoClicks>
            <MediaFiles>
{files}            </MediaFiles>
          </Linear>
        </Creative>
      </Creatives>
    </InLine>
  </Ad>
"#,
        tracking = tracking_events(host, &ad, &EVENTS),
        progress = beacon(host, "progress", &ad),
    )
}

/// The document at the end of the chain: a pod of two ads.
fn inline_pod() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VAST version=\"4.3\" xmlns=\"http://www.iab.com/VAST\">\n{}{}</VAST>\n",
        pod_ad(1, 15),
        pod_ad(2, 30)
    )
}

/// The chain read and resolved: the pod's ads with every wrapper's URLs.
fn resolve_chain(wrappers: &[String], inline: &str) -> Vec<ResolvedAd> {
    let outer: Vec<ssai::vast::Vast> = wrappers
        .iter()
        .map(|w| ssai::vast::parse(w).expect("a wrapper document"))
        .collect();
    let inline = ssai::vast::parse(inline).expect("the inline pod");
    let mut chain = Chain::new(5);
    for v in &outer {
        let w = v.ads[0].wrapper().expect("a wrapper");
        chain.follow(w).expect("within the limit");
    }
    pick(&inline)
        .into_iter()
        .map(|ad| {
            chain
                .resolve(ad, ad.inline().expect("an inline ad"))
                .expect("a linear ad")
        })
        .collect()
}

/// A 2-hour CMAF media playlist as the packager writes it (4 s segments, `cbcs` keys).
fn two_hour_playlist() -> String {
    let mut p = String::from(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../keys/d3922132909c88b88c733489c3aaadb2.key\",KEYFORMAT=\"identity\",KEYFORMATVERSIONS=\"1\"\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"https://edge.example/vod/movie/license/clearkey\",KEYID=0xd3922132909c88b88c733489c3aaadb2,KEYFORMAT=\"org.w3.clearkey\",KEYFORMATVERSIONS=\"1\"\n",
    );
    for n in 1..=1800 {
        p.push_str(&format!("#EXTINF:4.00000,\n{n}.m4s\n"));
    }
    p.push_str("#EXT-X-ENDLIST\n");
    p
}

/// 10 breaks of a 2-ad pod, 4 segments each, every 180 content segments (12 minutes).
fn ten_breaks() -> Vec<Break> {
    let title = "ad-edgepack-test_tone-one-9ddb318a2522ba3e-8cb9665c.mp4";
    (0..10)
        .map(|b| Break {
            before_segment: b * 180,
            ads: (0..2)
                .map(|a| AdSegments {
                    map_uri: Some(format!("../ad/{b}-{a}/{title}/v2/init.mp4")),
                    key_lines: vec!["#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../keys/d3922132909c88b88c733489c3aaadb2.key\",KEYFORMAT=\"identity\",KEYFORMATVERSIONS=\"1\"".into()],
                    segments: (1..=4)
                        .map(|n| (4.0, format!("../ad/{b}-{a}/{title}/v2/{n}.m4s")))
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let content = two_hour_playlist();
    let breaks = ten_breaks();
    let stitched = ssai::hls::stitch(&content, &breaks).expect("the bench playlist");
    assert_eq!(stitched.matches("#EXT-X-DISCONTINUITY").count(), 10 * 2 + 9);
    c.bench_function("stitch_hls_2h_10_breaks", |b| {
        b.iter(|| ssai::hls::stitch(black_box(&content), black_box(&breaks)))
    });
    let interstitials: Vec<Interstitial> = (0..10u64)
        .map(|b| Interstitial {
            id: format!("break-{}", b + 1),
            at_ms: b * 720_000,
            asset_list: format!("../assets/{}.json", b + 1),
            planned_s: Some(32.0),
        })
        .collect();
    c.bench_function("interstitials_hls_2h_10_breaks", |b| {
        b.iter(|| {
            ssai::interstitials::media_playlist(black_box(&content), black_box(&interstitials))
        })
    });

    let wrappers: Vec<String> = (1..=3).map(wrapper).collect();
    let inline = inline_pod();
    // The documents are what the bench means them to be.
    let resolved = resolve_chain(&wrappers, &inline);
    assert_eq!(resolved.len(), 2);
    assert_eq!(resolved[0].impressions.len(), 3 * 3 + 2);
    assert_eq!(resolved[0].media_files.len(), 3);
    assert_eq!(resolved[1].tracking.len(), 3 * 6 + EVENTS.len() + 2);
    c.bench_function("vast_wrapper_chain_3_deep", |b| {
        b.iter(|| resolve_chain(black_box(&wrappers), black_box(&inline)))
    });
    c.bench_function("vmap_parse", |b| {
        b.iter(|| ssai::vmap::parse(black_box(VMAP)).expect("the test VMAP"))
    });
    c.bench_function("vast_parse_pod", |b| {
        b.iter(|| ssai::vast::parse(black_box(POD)).expect("the test pod"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
