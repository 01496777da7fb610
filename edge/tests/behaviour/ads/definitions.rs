//! An asset's ads from its definition file (`[ads]` in `asset.toml`), with no policy in the
//! node's configuration: the asset gets sessions and its ads, others do not, and a definition
//! whose ads are malformed is refused with a problem naming the field. The content is cut at
//! the keyframe at or after each cue, so a mid-roll between two 4 s boundaries goes where it
//! was asked for.

use edge::Config;

use super::sessions::{ad_server, conditioned, open, segment_lines};
use crate::common::{demo_media, get, get_ok, start_with};

#[tokio::test(flavor = "multi_thread")]
async fn an_asset_definition_gives_its_asset_ads() {
    let ads = ad_server().await;
    let root = tempfile::tempdir().unwrap();
    for (name, definition) in [
        (
            "with_ads",
            format!(
                "[ads]\nad_server = \"{}/vast/avail-[avail.index]?sid=[session.id]\"\nbreaks = [\"start\", \"00:00:10\"]\n",
                ads.url("")
            ),
        ),
        ("broken_ads", "[ads]\nad_server = \"ftp://nowhere\"\nbreaks = [\"start\"]\n".into()),
        ("no_ads", String::new()),
    ] {
        let title = root.path().join(name);
        std::fs::create_dir(&title).unwrap();
        for entry in std::fs::read_dir(demo_media().join("demo")).unwrap() {
            let path = entry.unwrap().path();
            std::os::unix::fs::symlink(&path, title.join(path.file_name().unwrap())).unwrap();
        }
        std::fs::write(title.join("asset.toml"), definition).unwrap();
    }
    let conditioning = tempfile::tempdir().unwrap();
    let mut config = Config {
        media_root: root.path().to_owned().into(),
        ..Config::default()
    };
    config.ads.conditioning_dir = conditioning.path().to_owned();
    config.ads.allow_private_addresses = true;
    let edge = start_with(config).await;

    let (_, location) = open(&edge, "with_ads", "").await;
    get_ok(edge.addr, &location).await;
    conditioned(&edge, 1.0).await;
    let (id, _) = open(&edge, "with_ads", "").await;
    let playlist = String::from_utf8_lossy(
        &get_ok(
            edge.addr,
            &format!("/vod/with_ads/s/{id}/video_180p-v1/media.m3u8"),
        )
        .await,
    )
    .into_owned();
    assert!(
        segment_lines(&playlist)[0].starts_with("../ad/0-0/"),
        "the pre-roll plays first: {playlist}"
    );

    // The mid-roll asked for at 10 s: the content was cut there (its 2 s GOP has a keyframe
    // at 10 s), and the break is placed with no drift.
    // The content segments (an EXTINF and its URI) before the mid-roll's first segment.
    let lines: Vec<&str> = playlist.lines().collect();
    let mid = lines
        .iter()
        .position(|l| l.starts_with("../ad/1-0/"))
        .unwrap();
    let before: f64 = lines[..mid]
        .windows(2)
        .filter(|w| w[0].starts_with("#EXTINF:") && !w[1].starts_with("../ad/"))
        .map(|w| {
            w[0].trim_start_matches("#EXTINF:")
                .trim_end_matches(',')
                .parse::<f64>()
                .unwrap()
        })
        .sum();
    assert!(
        (before - 10.0).abs() < 0.001,
        "content before the mid-roll: {before} s\n{playlist}"
    );
    let m = super::sessions::metrics(&edge).await;
    assert_eq!(
        crate::common::metric(&m, "edgepack_ad_break_drift_seconds_bucket{le=\"0\"}"),
        crate::common::metric(&m, "edgepack_ad_break_drift_seconds_count"),
        "{m}"
    );
    // Every session of that asset, and its shared playlists, have the same cut; another
    // asset keeps its 4 s segments.
    let shared =
        String::from_utf8_lossy(&get_ok(edge.addr, "/vod/with_ads/video_180p-v1/media.m3u8").await)
            .into_owned();
    assert!(shared.contains("#EXTINF:2.00000,\n3.m4s"), "{shared}");
    let plain =
        String::from_utf8_lossy(&get_ok(edge.addr, "/vod/no_ads/video_180p-v1/media.m3u8").await)
            .into_owned();
    assert!(plain.contains("#EXTINF:4.00000,\n3.m4s"), "{plain}");

    // Another asset plays as before; a malformed [ads] is a problem naming the field.
    assert_eq!(get(edge.addr, "/vod/no_ads/master.m3u8").await.status, 200);
    let broken = get(edge.addr, "/vod/broken_ads/master.m3u8").await;
    assert_eq!(broken.status, 500, "{}", broken.text());
    assert!(broken.text().contains("ads.ad_server"), "{}", broken.text());
}
