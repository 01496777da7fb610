//! Tokens and regions: each CDN gets its own token in its URLs, a viewer's token carries
//! over to the CDN tokens and the steering URL, and a CDN limited to regions is named only
//! for viewers there.

use std::collections::BTreeSet;

use access::cat::{Key, KeySet, Policy};
use access::RequestFacts;
use m3u8_rs::MasterPlaylist;

use super::fake_cdn::{three_cdns, FakeCdn};
use super::support::{
    config, content_steering, entries, fast, local, master, param, priority, problem, steer,
    steer_with, uris_by_pathway,
};
use crate::common::access::{access_config, now, token};
use crate::common::{get, request, start_with};

const CDN_C_SECRET: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
const CDN_B_AKAMAI_KEY: &str = "52a152a152a152a152a152a152a1";

/// A GET of `path` as the CDN `uri` names sees it.
fn facts<'a>(uri: &'a http::Uri, path: &'a str) -> RequestFacts<'a> {
    RequestFacts {
        scheme: "http",
        host: uri.host().unwrap(),
        port: uri.port_u16().unwrap(),
        path,
        query: "",
        method: "GET",
        client_ip: None,
        country: None,
        alpn: "http/1.1",
        now: now(),
    }
}

fn cdn_c_keys() -> KeySet {
    KeySet::new(vec![Key::hmac(
        b"cdn-c",
        &hex::decode(CDN_C_SECRET).unwrap(),
    )
    .unwrap()])
    .unwrap()
}

/// The three CDNs' entries: cdn-a signs nothing, cdn-b checks Akamai tokens, cdn-c CATs.
fn signing_cdns(cdns: &[FakeCdn; 3]) -> Vec<String> {
    let akamai = format!("signing = {{ scheme = \"akamai\", key_hex = \"{CDN_B_AKAMAI_KEY}\" }}");
    let cat = format!(
        "signing = {{ scheme = \"cat\", kid = \"cdn-c\", secret_hex = \"{CDN_C_SECRET}\" }}"
    );
    entries(cdns, ["", &akamai, &cat])
}

#[tokio::test(flavor = "multi_thread")]
async fn each_cdn_gets_its_own_token_in_its_urls() {
    let cdns = three_cdns().await;
    let node = start_with(config(&fast(0), &signing_cdns(&cdns))).await;
    let akamai = access::akamai::EdgeAuthKey::from_hex(CDN_B_AKAMAI_KEY, None).unwrap();
    let mut sids = BTreeSet::new();
    for _ in 0..2 {
        let m = master(&get(node.addr, "/vod/demo/master.m3u8").await.text());
        let session = param(&content_steering(&m).0, "session").unwrap();
        sids.insert(session.clone());
        let uris = uris_by_pathway(&m);
        assert!(uris.len() >= 3 * 8, "{uris:?}");
        for (id, url) in uris {
            let uri: http::Uri = url.parse().unwrap_or_else(|e| panic!("{url}: {e}"));
            let path = uri.path();
            assert!(path.starts_with("/vod/demo/"), "{url}");
            match id.as_str() {
                // No signing, no viewer token: the URL as built.
                "cdn-a" => assert_eq!(uri.query(), None, "{url}"),
                "cdn-b" => {
                    let t = param(&url, "__token__").unwrap_or_else(|| panic!("{url}"));
                    let fields = access::akamai::verify(
                        &t,
                        std::slice::from_ref(&akamai),
                        &facts(&uri, path),
                        0,
                    )
                    .unwrap_or_else(|e| panic!("{url}: {e:?}"));
                    assert_eq!(fields.id.as_deref(), Some(session.as_str()), "{url}");
                    assert_eq!(fields.acl.as_deref(), Some("/vod/demo/*"), "{url}");
                    assert!(fields.exp > now(), "{url}");
                    let elsewhere = facts(&uri, "/vod/other/master.m3u8");
                    assert!(
                        access::akamai::verify(&t, std::slice::from_ref(&akamai), &elsewhere, 0)
                            .is_err(),
                        "{url}"
                    );
                }
                "cdn-c" => {
                    let t = param(&url, "cat").unwrap_or_else(|| panic!("{url}"));
                    let token = access::cat::verify(&t, &cdn_c_keys())
                        .unwrap_or_else(|e| panic!("{url}: {e:?}"));
                    let c = &token.claims;
                    assert_eq!(token.kid, b"cdn-c");
                    assert_eq!(c.sid.as_deref(), Some(session.as_str()), "{url}");
                    assert!(c.exp.is_some_and(|e| e > now()), "{url}");
                    let policy = Policy::default();
                    token
                        .check(&facts(&uri, path), &policy)
                        .unwrap_or_else(|e| panic!("{url}: {e:?}"));
                    // Its catu is the asset's path prefix, its catm GET and HEAD.
                    let elsewhere = facts(&uri, "/vod/other/video_180p-v1/media.m3u8");
                    assert!(token.check(&elsewhere, &policy).is_err(), "{url}");
                    let mut post = facts(&uri, path);
                    post.method = "POST";
                    assert!(token.check(&post, &policy).is_err(), "{url}");
                    // Sealed with cdn-c's key, not another.
                    let other =
                        KeySet::new(vec![Key::hmac(b"cdn-c", &[7u8; 32]).unwrap()]).unwrap();
                    assert!(access::cat::verify(&t, &other).is_err());
                }
                other => panic!("pathway {other}"),
            }
        }
    }
    assert_eq!(sids.len(), 2, "each session its own tokens");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_token_carries_over_to_the_cdn_tokens_and_the_steering_url() {
    let cdns = three_cdns().await;
    let mut c = crate::common::access::config(access_config(None));
    c.delivery = config(&fast(0), &signing_cdns(&cdns)).delivery;
    let node = start_with(c).await;
    let exp = now() + 600;
    let t = token("demo", "alice", 600, |b| b.sid("viewer-session-1").exp(exp));
    let r = get(node.addr, &format!("/vod/demo/master.m3u8?cat={t}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let m = master(&r.text());
    let (server, _) = content_steering(&m);
    // The viewer's session names the steering session, and the steering URL carries a token
    // so the steering request passes access control.
    assert_eq!(
        param(&server, "session").as_deref(),
        Some("viewer-session-1")
    );
    assert!(param(&server, "cat").is_some(), "{server}");
    let answer = steer(node.addr, &local(&server, node.addr)).await;
    let reload = answer["RELOAD-URI"].as_str().unwrap();
    assert!(param(reload, "cat").is_some(), "{reload}");
    steer(node.addr, &local(reload, node.addr)).await;
    let bare = get(
        node.addr,
        "/vod/demo/steering/hls.json?session=viewer-session-1",
    )
    .await;
    assert_eq!(problem(&bare), (401, "token-missing".to_owned()));

    let viewer_keys = KeySet::new(vec![crate::common::access::key()]).unwrap();
    for (id, url) in uris_by_pathway(&m) {
        match id.as_str() {
            // An unsigned CDN gets the viewer's own token (one for this asset).
            "cdn-a" => {
                let t = param(&url, "cat").unwrap_or_else(|| panic!("{url}"));
                let claims = access::cat::verify(&t, &viewer_keys).unwrap().claims;
                assert_eq!(claims.sub.as_deref(), Some("alice"));
            }
            // A CAT-signing CDN gets its own, with the viewer's claims.
            "cdn-c" => {
                let t = param(&url, "cat").unwrap_or_else(|| panic!("{url}"));
                let claims = access::cat::verify(&t, &cdn_c_keys()).unwrap().claims;
                assert_eq!(claims.sub.as_deref(), Some("alice"), "{url}");
                assert_eq!(claims.sid.as_deref(), Some("viewer-session-1"), "{url}");
                assert_eq!(claims.exp, Some(exp), "no longer than the viewer's own");
            }
            "cdn-b" => {
                let t = param(&url, "__token__").unwrap_or_else(|| panic!("{url}"));
                assert!(t.contains("id=viewer-session-1"), "{url}");
                assert!(t.contains(&format!("exp={exp}")), "{url}");
            }
            other => panic!("pathway {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cdn_limited_to_regions_is_named_only_for_viewers_there() {
    let cdns = three_cdns().await;
    let settings = format!(
        "{}steering_base_url = \"https://steer.example.com/edge\"\n",
        fast(0)
    );
    let node = start_with(config(
        &settings,
        &entries(&cdns, ["", "", "regions = [\"fr\", \"BE\"]"]),
    ))
    .await;
    let named = |m: &MasterPlaylist| -> BTreeSet<String> {
        uris_by_pathway(m).into_iter().map(|(id, _)| id).collect()
    };
    let elsewhere = master(&get(node.addr, "/vod/demo/master.m3u8").await.text());
    assert_eq!(
        named(&elsewhere),
        BTreeSet::from(["cdn-a".into(), "cdn-b".into()])
    );
    let fr = request(
        node.addr,
        "GET",
        "/vod/demo/master.m3u8",
        &[("x-country-code", "FR")],
        false,
    )
    .await;
    let fr = master(&fr.text());
    assert_eq!(named(&fr).len(), 3);
    // steering_base_url names where players ask.
    let (server, _) = content_steering(&fr);
    assert!(
        server.starts_with("https://steer.example.com/edge/vod/demo/steering/hls.json?session="),
        "{server}"
    );
    let path = "/vod/demo/steering/hls.json?session=r1";
    let answer = steer(node.addr, path).await;
    assert!(!priority(&answer).contains(&"cdn-c".to_owned()), "{answer}");
    let reload = answer["RELOAD-URI"].as_str().unwrap();
    assert!(reload.starts_with("https://steer.example.com/edge/vod/demo/steering/hls.json?"));
    let answer = steer_with(node.addr, path, &[("x-country-code", "BE")]).await;
    assert_eq!(priority(&answer).len(), 3, "{answer}");
}
