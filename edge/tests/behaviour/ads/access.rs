//! Ads with playback access on: a token scoped to `/vod/{asset}/` covers the session's
//! redirect, its stitched playlists and its ads' segments. The token in the query stays in the
//! redirect and is written into every URL of the session's playlists; without one the session
//! and its ads are refused like the content.

use super::sessions::{ad_server, conditioned, config, resolve, segment_lines};
use crate::common::access::{access_config, token};
use crate::common::{get, get_ok, start_with};

#[tokio::test(flavor = "multi_thread")]
async fn a_token_for_the_asset_covers_its_session_and_ads() {
    let ads = ad_server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(&ads.url(""), dir.path());
    c.access = access_config(None);
    let edge = start_with(c).await;
    let cat = token("demo", "viewer-1", 600, |b| b);
    // The first session conditions the creatives.
    let first = get(edge.addr, &format!("/vod/demo/master.m3u8?cat={cat}")).await;
    assert_eq!(first.status, 302, "{}", first.text());
    get_ok(edge.addr, first.header("location").unwrap()).await;
    conditioned(&edge, 2.0).await;

    let entry = get(edge.addr, &format!("/vod/demo/master.m3u8?cat={cat}")).await;
    assert_eq!(entry.status, 302);
    let location = entry.header("location").unwrap().to_owned();
    assert!(
        location.ends_with(&format!("?cat={cat}")),
        "the token stays: {location}"
    );
    let master = String::from_utf8_lossy(&get_ok(edge.addr, &location).await).into_owned();
    let variant = segment_lines(&master)[0].to_owned();
    assert!(variant.contains("cat="), "{master}");
    let path = resolve(location.split('?').next().unwrap(), &variant);
    let playlist = String::from_utf8_lossy(&get_ok(edge.addr, &path).await).into_owned();
    let ad_uri = segment_lines(&playlist)
        .into_iter()
        .find(|u| u.starts_with("../ad/"))
        .unwrap()
        .to_owned();
    assert!(
        ad_uri.contains("cat="),
        "ad segment URLs carry the token: {playlist}"
    );
    let ad_path = resolve(path.split('?').next().unwrap(), &ad_uri);
    get_ok(edge.addr, &ad_path).await;

    // Without the token: refused, the session's playlists and its ads alike.
    let bare = ad_path.split('?').next().unwrap();
    assert_eq!(get(edge.addr, bare).await.status, 401);
    assert_eq!(
        get(edge.addr, path.split('?').next().unwrap()).await.status,
        401
    );
    assert_eq!(get(edge.addr, "/vod/demo/master.m3u8").await.status, 401);
    // A token for another asset does not open this one's sessions.
    let other = token("other", "viewer-1", 600, |b| b);
    assert_eq!(
        get(edge.addr, &format!("{bare}?cat={other}")).await.status,
        403
    );
}
