//! Playback access seen from outside, on one node with the in-process store: tokens
//! required, checked and written into manifests; every refusal's problem; renewal; keys behind
//! tokens; per-asset access; Akamai tokens. (Two nodes on a real Redis: `access_shared.rs`.)

use access::cat::mint::ClaimsBuilder;
use access::cat::Key;
use edge::access::config::AccessMode;
use edge::Config;

use crate::common::access::*;
use crate::common::{demo_media, request, start_with};

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_needed_and_is_written_into_every_manifest_url() {
    let node = start_with(config(access_config(None))).await;
    let missing = get(node.addr, "/vod/demo/master.m3u8").await;
    assert_eq!(
        (missing.status, problem_type(&missing).as_str()),
        (401, "token-missing")
    );
    let t = token("demo", "alice", 600, |b| b);
    let master = get(node.addr, &format!("/vod/demo/master.m3u8?cat={t}")).await;
    assert_eq!(master.status, 200, "{}", master.text());
    let text = master.text();
    assert!(
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .all(|l| l.contains("?cat=")),
        "{text}"
    );
    assert!(text.contains(".m3u8?cat="), "{text}");
    // A manifest with a viewer's token is theirs: no shared cache may keep it.
    let cc = master.header("cache-control").unwrap_or("");
    assert!(cc.contains("private") && !cc.contains("public"), "{cc}");
    let head = request(
        node.addr,
        "HEAD",
        &format!("/vod/demo/master.m3u8?cat={t}"),
        &[],
        false,
    )
    .await;
    assert_eq!(
        head.header("content-length"),
        Some(master.body.len().to_string().as_str())
    );
    // The media playlist and a segment, with the token the master wrote.
    let media_uri = first_uri(&text);
    let media = get(node.addr, &format!("/vod/demo/{media_uri}")).await;
    assert_eq!(media.status, 200, "{}", media.text());
    let rendition = media_uri.split('/').next().unwrap();
    let segment_uri = first_uri(&media.text());
    let segment = get(node.addr, &format!("/vod/demo/{rendition}/{segment_uri}")).await;
    assert_eq!(segment.status, 200);
    // The written token is the asset's: another asset refuses it.
    let written = segment_uri.split("cat=").nth(1).unwrap();
    let other = get(node.addr, &format!("/vod/other/master.m3u8?cat={written}")).await;
    assert_eq!(
        (other.status, problem_type(&other).as_str()),
        (403, "token-uri-not-allowed")
    );
    // The manifest's ETag does not depend on the token.
    let again = get(
        node.addr,
        &format!(
            "/vod/demo/master.m3u8?cat={}",
            token("demo", "bob", 600, |b| b)
        ),
    )
    .await;
    assert_eq!(again.header("etag"), master.header("etag"));
    assert_ne!(again.body, master.body);
    // A DASH manifest carries it in its templates.
    let mpd = get(node.addr, &format!("/vod/demo/manifest.mpd?cat={t}")).await;
    assert!(mpd.text().contains(".m4s?cat="), "{}", mpd.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_problems_with_the_right_status() {
    let node = start_with(config(access_config(None))).await;
    let cases: Vec<(String, u16, &str)> = vec![
        (
            token("demo", "a", 0, |b| b.exp(now() - 5)),
            401,
            "token-expired",
        ),
        (
            token("demo", "a", 600, |b| b.nbf(now() + 600)),
            401,
            "token-expired",
        ),
        ("not-a-token".into(), 401, "token-malformed"),
        (
            ClaimsBuilder::new()
                .exp(now() + 60)
                .mint(
                    &Key::hmac(b"k1", &[9u8; 32]).unwrap(),
                    &ring::rand::SystemRandom::new(),
                )
                .unwrap(),
            401,
            "token-signature-invalid",
        ),
        (
            token("other", "a", 600, |b| b),
            403,
            "token-uri-not-allowed",
        ),
        (
            token("demo", "a", 600, |b| b.catm(&["POST"])),
            403,
            "token-method-not-allowed",
        ),
        (
            token("demo", "a", 600, |b| b.catnip(&["10.0.0.0/8"])),
            403,
            "token-location-not-allowed",
        ),
        (
            token("demo", "a", 600, |b| b.countries(&["FR"])),
            403,
            "token-location-not-allowed",
        ),
    ];
    for (t, status, kind) in cases {
        let r = get(node.addr, &format!("/vod/demo/master.m3u8?cat={t}")).await;
        assert_eq!(
            (r.status, problem_type(&r).as_str()),
            (status, kind),
            "{}",
            r.text()
        );
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    // The country comes from the configured header.
    let fr = token("demo", "a", 600, |b| b.countries(&["FR"]));
    let r = request(
        node.addr,
        "GET",
        &format!("/vod/demo/master.m3u8?cat={fr}"),
        &[("x-country-code", "FR")],
        false,
    )
    .await;
    assert_eq!(r.status, 200);
    // Single use: the second presentation is refused.
    let once = token("demo", "a", 600, |b| {
        b.catreplay(access::cat::Replay::Prohibited)
    });
    assert_eq!(
        get(node.addr, &format!("/vod/demo/master.m3u8?cat={once}"))
            .await
            .status,
        200
    );
    let again = get(node.addr, &format!("/vod/demo/master.m3u8?cat={once}")).await;
    assert_eq!(
        (again.status, problem_type(&again).as_str()),
        (403, "token-replayed")
    );
    // Keys are access decisions too: no token, no key.
    let key = get(node.addr, &format!("/vod/demo/keys/{}.key", "0".repeat(32))).await;
    assert_eq!(key.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_near_its_end_is_renewed_as_its_catr_says() {
    let node = start_with(config(access_config(None))).await;
    let path = "/vod/demo/video_180p-v1/1.m4s";
    // Header renewal: in the window (exp in 20 s, window 30 s).
    let t = token("demo", "a", 20, |b| b.catr(2, 120, 30));
    let r = request(
        node.addr,
        "GET",
        path,
        &[("CTA-Common-Access-Token", &t)],
        false,
    )
    .await;
    assert_eq!(r.status, 200);
    let renewed = r
        .header("cta-common-access-token")
        .expect("a renewed token header")
        .to_owned();
    let keys = access::cat::KeySet::new(vec![key()]).unwrap();
    let claims = access::cat::verify(&renewed, &keys).unwrap().claims;
    assert!(claims.exp.unwrap() >= now() + 100);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    // Out of the window: nothing.
    let far = token("demo", "a", 600, |b| b.catr(2, 120, 30));
    let r = request(
        node.addr,
        "GET",
        path,
        &[("CTA-Common-Access-Token", &far)],
        false,
    )
    .await;
    assert!(r.header("cta-common-access-token").is_none());
    // Cookie renewal.
    let t = token("demo", "a", 20, |b| b.catr(1, 120, 30));
    let cookie = format!("CTA-Common-Access-Token={t}");
    let r = request(node.addr, "GET", path, &[("cookie", &cookie)], false).await;
    let set = r.header("set-cookie").expect("a renewed cookie");
    assert!(
        set.starts_with("CTA-Common-Access-Token=") && set.contains("Max-Age=120"),
        "{set}"
    );
    // Redirect renewal (and automatic for a query token).
    for kind in [3, 0] {
        let t = token("demo", "a", 20, |b| b.catr(kind, 120, 30));
        let r = get(node.addr, &format!("{path}?x=1&cat={t}")).await;
        assert_eq!(r.status, 302, "catr type {kind}");
        let location = r.header("location").unwrap();
        assert!(
            location.starts_with(&format!("{path}?x=1&cat=")) && !location.contains(&t),
            "{location}"
        );
        assert_eq!(get(node.addr, location).await.status, 200);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_asset_definition_turns_tokens_on_for_one_asset_of_an_open_node() {
    let root = tempfile::tempdir().unwrap();
    for (name, definition) in [("free", None), ("paid", Some("access = \"token\"\n"))] {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(
            demo_media().join("demo/video_180p.mp4"),
            dir.join("video.mp4"),
        )
        .unwrap();
        if let Some(text) = definition {
            std::fs::write(dir.join("asset.toml"), text).unwrap();
        }
    }
    let mut access = access_config(None);
    access.mode = AccessMode::Open;
    let node = start_with(Config {
        media_root: root.path().to_owned().into(),
        access,
        ..Config::default()
    })
    .await;
    assert_eq!(get(node.addr, "/vod/free/master.m3u8").await.status, 200);
    let paid = get(node.addr, "/vod/paid/master.m3u8").await;
    assert_eq!(
        (paid.status, problem_type(&paid).as_str()),
        (401, "token-missing")
    );
    let t = token("paid", "a", 600, |b| b);
    let ok = get(node.addr, &format!("/vod/paid/master.m3u8?cat={t}")).await;
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("?cat="), "{}", ok.text());
    // A segment of the paid asset needs it too; the free one's does not.
    assert_eq!(get(node.addr, "/vod/paid/video-v1/1.m4s").await.status, 401);
    assert_eq!(get(node.addr, "/vod/free/video-v1/1.m4s").await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn akamai_tokens_are_accepted_from_query_cookie_and_header() {
    let key_hex = "52a152a152a152a152a152a152a1";
    let mut access = access_config(None);
    access.akamai_keys = vec![edge::access::config::AkamaiKeyConfig {
        key_hex: key_hex.into(),
        salt: None,
    }];
    let node = start_with(config(access)).await;
    let key = access::akamai::EdgeAuthKey::from_hex(key_hex, None).unwrap();
    let fields = access::akamai::EdgeAuthToken {
        start: Some(now() - 10),
        exp: now() + 600,
        acl: Some("/vod/demo/*".into()),
        id: Some("akamai-session".into()),
        ..Default::default()
    };
    let t = access::akamai::mint(&key, &fields, None);
    let encoded = t.replace('=', "%3D").replace('~', "%7E");
    let master = get(
        node.addr,
        &format!("/vod/demo/master.m3u8?__token__={encoded}"),
    )
    .await;
    assert_eq!(master.status, 200, "{}", master.text());
    assert!(master.text().contains("?__token__="), "{}", master.text());
    let cookie = format!("__token__={t}");
    let path = "/vod/demo/video_180p-v1/1.m4s";
    assert_eq!(
        request(node.addr, "GET", path, &[("cookie", &cookie)], false)
            .await
            .status,
        200
    );
    assert_eq!(
        request(node.addr, "GET", path, &[("__token__", &t)], false)
            .await
            .status,
        200
    );
    let outside = request(
        node.addr,
        "GET",
        "/vod/other/master.m3u8",
        &[("__token__", &t)],
        false,
    )
    .await;
    assert_eq!(
        (outside.status, problem_type(&outside).as_str()),
        (403, "token-uri-not-allowed")
    );
    let tampered = t.replace("exp=", "exp=9");
    let r = request(node.addr, "GET", path, &[("__token__", &tampered)], false).await;
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (401, "token-signature-invalid")
    );
    // Its session id (`id`) can be revoked like a CAT's (in-process store: one node).
    assert_eq!(
        revoke(node.addr, r#"{"session": "akamai-session"}"#)
            .await
            .status,
        201
    );
    let r = request(node.addr, "GET", path, &[("__token__", &t)], false).await;
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (403, "session-revoked")
    );
}
