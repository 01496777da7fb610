//! An asset's ads from its definition file (`[ads]` in `asset.toml`), with no policy in the
//! node's configuration: the asset gets sessions and its ads, others do not, and a definition
//! whose ads are malformed is refused with a problem naming the field.

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
                "[ads]\nad_server = \"{}/vast/avail-[avail.index]?sid=[session.id]\"\nbreaks = [\"start\"]\n",
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

    // Another asset plays as before; a malformed [ads] is a problem naming the field.
    assert_eq!(get(edge.addr, "/vod/no_ads/master.m3u8").await.status, 200);
    let broken = get(edge.addr, "/vod/broken_ads/master.m3u8").await;
    assert_eq!(broken.status, 500, "{}", broken.text());
    assert!(broken.text().contains("ads.ad_server"), "{}", broken.text());
}
