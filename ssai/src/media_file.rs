//! Which of an ad's media files to package for a content rendition: progressive MP4 only
//! (the packager reads MP4; streaming files are someone else's package), the one closest in
//! height to the rendition, then in bitrate. None fitting is VAST error 403.

use crate::vast::{Delivery, MediaFile};

/// What a content rendition looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub width: u32,
    pub height: u32,
    pub bitrate_kbps: u32,
}

/// Whether the packager can take `f` as a source.
pub fn usable(f: &MediaFile) -> bool {
    f.delivery == Delivery::Progressive
        && matches!(f.mime_type.as_str(), "video/mp4" | "video/quicktime")
}

/// The media file of `files` for `target`, if any is usable.
pub fn choose(files: &[MediaFile], target: Target) -> Option<&MediaFile> {
    files.iter().filter(|f| usable(f)).min_by_key(|f| {
        let height = f.height.abs_diff(target.height);
        let bitrate = f
            .bitrate_kbps
            .map_or(u32::MAX, |b| b.abs_diff(target.bitrate_kbps));
        (height, bitrate, f.width.abs_diff(target.width))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vast::parse;

    #[test]
    fn the_closest_progressive_mp4() {
        let v = parse(include_str!("../testdata/vast4_inline_pod.xml")).unwrap();
        let files = &v.ads[0].inline().unwrap().linear().unwrap().1.media_files;
        let pick = |height, bitrate_kbps| {
            choose(
                files,
                Target {
                    width: height * 16 / 9,
                    height,
                    bitrate_kbps,
                },
            )
            .map(|f| f.url.as_str())
        };
        assert_eq!(pick(360, 800), Some("https://cdn.example/ads/a1_360p.mp4"));
        assert_eq!(pick(270, 400), Some("https://cdn.example/ads/a1_360p.mp4"));
        assert_eq!(
            pick(1080, 5000),
            Some("https://cdn.example/ads/a1_720p.mp4")
        );
        // Only an HLS file: nothing to package.
        let hls: Vec<_> = files.iter().filter(|f| !usable(f)).cloned().collect();
        assert_eq!(
            choose(
                &hls,
                Target {
                    width: 1280,
                    height: 720,
                    bitrate_kbps: 0
                }
            ),
            None
        );
    }
}
