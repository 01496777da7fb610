//! The steered multivariant playlist read back by m3u8-rs, and its rules checked line by line.

use super::*;
use m3u8_rs::{MasterPlaylist, Playlist, QuotedOrUnquoted};

const DEMO: &str = include_str!("../../testdata/demo_master.m3u8");
const DEMO_TS: &str = include_str!("../../testdata/demo_ts_master.m3u8");

fn pathways() -> Vec<PathwayUrls> {
    ["cdn-a", "cdn-b", "cdn-c"]
        .iter()
        .map(|id| PathwayUrls {
            id: PathwayId::new(id).unwrap(),
            prefix: format!("http://{id}.test:8081/vod/demo/"),
            query: Some(format!("cat={id}-token")),
        })
        .collect()
}

fn steer(master: &str) -> String {
    let ps = pathways();
    let initial = PathwayId::new("cdn-b").unwrap();
    steer_multivariant(
        master,
        &HlsSteering {
            server_uri: "/vod/demo/steering/hls.json?session=s1&served=cdn-b",
            initial: &initial,
            pathways: &ps,
        },
    )
    .unwrap()
}

fn parsed(text: &str) -> MasterPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(Playlist::MasterPlaylist(m)) => m,
        other => panic!("not a multivariant playlist: {other:?}"),
    }
}

fn other(
    attrs: &Option<std::collections::HashMap<String, QuotedOrUnquoted>>,
    name: &str,
) -> String {
    attrs
        .as_ref()
        .and_then(|a| a.get(name))
        .map(|v| match v {
            QuotedOrUnquoted::Quoted(s) | QuotedOrUnquoted::Unquoted(s) => s.clone(),
        })
        .unwrap_or_default()
}

#[test]
fn every_variant_is_there_once_per_pathway_on_its_cdn_with_its_token() {
    let text = steer(DEMO);
    let mut original = parsed(DEMO);
    let mut m = parsed(&text);
    // m3u8-rs lists I-frame streams among the variants; they are counted below.
    original.variants.retain(|v| !v.is_i_frame);
    m.variants.retain(|v| !v.is_i_frame);
    assert_eq!(m.variants.len(), 3 * original.variants.len());
    for (i, v) in m.variants.iter().enumerate() {
        let p = &pathways()[i / original.variants.len()];
        let pathway = other(&v.other_attributes, "PATHWAY-ID");
        assert_eq!(pathway, p.id.as_str());
        assert!(v.uri.starts_with(&p.prefix), "{}", v.uri);
        assert!(
            v.uri.ends_with(&format!("/media.m3u8?cat={}-token", p.id)),
            "{}",
            v.uri
        );
        // Audio and subtitles are the pathway's own groups.
        let audio = v.audio.as_deref().unwrap();
        assert!(audio.ends_with(&format!("-{}", p.id)), "{audio}");
        let group: Vec<_> = m
            .alternatives
            .iter()
            .filter(|r| r.group_id == audio)
            .collect();
        assert_eq!(group.len(), 2, "the English and French audio of {audio}");
        for r in group {
            assert!(r.uri.as_deref().unwrap().starts_with(&p.prefix));
        }
        // The same stable id on every pathway.
        let stable = other(&v.other_attributes, "STABLE-VARIANT-ID");
        let first = &m.variants[i % original.variants.len()];
        assert_eq!(stable, other(&first.other_attributes, "STABLE-VARIANT-ID"));
        assert!(!stable.is_empty());
    }
    // I-frame streams on every pathway too.
    assert_eq!(text.matches("#EXT-X-I-FRAME-STREAM-INF:").count(), 9);
    assert_eq!(text.matches("STABLE-RENDITION-ID=").count(), 12);
}

#[test]
fn the_steering_tag_names_the_server_and_the_first_pathway() {
    let text = steer(DEMO);
    let tag = text
        .lines()
        .find(|l| l.starts_with("#EXT-X-CONTENT-STEERING:"))
        .unwrap();
    assert_eq!(
        tag,
        "#EXT-X-CONTENT-STEERING:SERVER-URI=\"/vod/demo/steering/hls.json?session=s1&served=cdn-b\",PATHWAY-ID=\"cdn-b\""
    );
    // Before the first variant or rendition, once.
    let steering_at = text.find("#EXT-X-CONTENT-STEERING").unwrap();
    assert!(steering_at < text.find("#EXT-X-MEDIA").unwrap());
    assert_eq!(text.matches("#EXT-X-CONTENT-STEERING").count(), 1);
    // Steering a steered playlist again does not repeat the tag.
    assert_eq!(steer(&text).matches("#EXT-X-CONTENT-STEERING").count(), 1);
}

#[test]
fn a_muxed_audio_rendition_without_uri_keeps_having_none() {
    let text = steer(DEMO_TS);
    let m = parsed(&text);
    let no_uri: Vec<_> = m.alternatives.iter().filter(|r| r.uri.is_none()).collect();
    assert_eq!(no_uri.len(), 3, "one per pathway");
    let ids: Vec<String> = no_uri
        .iter()
        .map(|r| other(&r.other_attributes, "STABLE-RENDITION-ID"))
        .collect();
    assert!(ids.iter().all(|i| i == &ids[0] && !i.is_empty()), "{ids:?}");
}

#[test]
fn uris_resolve_like_a_player_would() {
    let p = PathwayUrls {
        id: PathwayId::new("a").unwrap(),
        prefix: "https://cdn.example/edge/vod/x/".into(),
        query: None,
    };
    assert_eq!(
        url("v1/media.m3u8", &p),
        "https://cdn.example/edge/vod/x/v1/media.m3u8"
    );
    assert_eq!(url("/other/m.m3u8", &p), "https://cdn.example/other/m.m3u8");
    assert_eq!(
        url("http://elsewhere/m.m3u8", &p),
        "http://elsewhere/m.m3u8"
    );
    let q = PathwayUrls {
        query: Some("t=1".into()),
        ..p
    };
    assert_eq!(
        url("m.m3u8?x=2", &q),
        "https://cdn.example/edge/vod/x/m.m3u8?x=2&t=1"
    );
}

#[test]
fn what_is_not_a_multivariant_playlist_is_refused() {
    let ps = pathways();
    let id = PathwayId::new("cdn-a").unwrap();
    let s = HlsSteering {
        server_uri: "/s",
        initial: &id,
        pathways: &ps,
    };
    for bad in [
        "",
        "#EXTM3U\n#EXTINF:4,\n1.m4s\n",
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n",
        "#EXTM3U\n#EXT-X-STREAM-INF:bandwidth\nv.m3u8\n",
        "not a playlist",
    ] {
        assert!(steer_multivariant(bad, &s).is_err(), "{bad:?}");
    }
    let none = HlsSteering { pathways: &[], ..s };
    assert_eq!(
        steer_multivariant(DEMO, &none),
        Err(ManifestError::NoPathways)
    );
}
