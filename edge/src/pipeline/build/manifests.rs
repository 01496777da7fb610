//! Manifests: HLS multivariant, media and I-frame playlists (CMAF and MPEG-TS flavours) and
//! the DASH MPD, written from the title's presentation by the packager.

use bytes::Bytes;
use packager::dash::write_mpd;
use packager::hls::{
    cmaf_iframe_playlist, cmaf_media_playlist, write_multivariant, HlsFlavor, VariantRates,
};
use packager::presentation::Presentation;
use packager::protection::{Output, Protection};
use packager::ts_package;

use crate::built::{Built, Cacheability};
use crate::pipeline::build::offer::{not_offered, require};
use crate::pipeline::build::rendition::{no_rendition, rendition};
use crate::pipeline::route::{Flavor, VodObject};
use crate::problem::Problem;

/// The media type of HLS playlists.
pub const M3U8: &str = "application/vnd.apple.mpegurl";

/// A playlist-cacheable object of one part.
pub fn playlist(text: String, content_type: &'static str) -> Built {
    Built {
        parts: vec![Bytes::from(text)],
        content_type,
        cacheability: Cacheability::Playlist,
    }
}

/// Builds the manifest `object` names, with its metrics label.
pub fn build(
    p: &Presentation,
    object: &VodObject,
    protection: Option<&Protection>,
) -> Result<(&'static str, Built), Problem> {
    match object {
        VodObject::Multivariant(Flavor::Cmaf) => {
            let rates = VariantRates {
                video: &|r| r.bandwidth,
                audio: &|r| r.bandwidth,
            };
            Ok((
                "hls_multivariant",
                playlist(
                    write_multivariant(p, HlsFlavor::Cmaf, &rates, protection),
                    M3U8,
                ),
            ))
        }
        VodObject::Multivariant(Flavor::Ts) => {
            require(protection, Output::HlsTs, "MPEG-TS form")?;
            Ok((
                "hls_multivariant",
                playlist(ts_package::ts_multivariant(p, protection), M3U8),
            ))
        }
        VodObject::Mpd => {
            require(protection, Output::Dash, "DASH form")?;
            Ok((
                "dash_mpd",
                playlist(write_mpd(p, protection), "application/dash+xml"),
            ))
        }
        VodObject::MediaPlaylist(Flavor::Cmaf, id) => Ok((
            "hls_media_playlist",
            playlist(cmaf_media_playlist(rendition(p, id)?, protection), M3U8),
        )),
        VodObject::MediaPlaylist(Flavor::Ts, id) => {
            require(protection, Output::HlsTs, "MPEG-TS form")?;
            Ok((
                "hls_media_playlist",
                playlist(
                    ts_package::ts_media_playlist(rendition(p, id)?, protection),
                    M3U8,
                ),
            ))
        }
        VodObject::IframePlaylist(id) => {
            if let Some(pr) = protection {
                return Err(not_offered(pr, "I-frame playlists"));
            }
            let r = rendition(p, id)?;
            if !p.track(r).is_video() {
                return Err(no_rendition(&format!("I-frame playlist for audio '{id}'")));
            }
            Ok((
                "hls_media_playlist",
                playlist(cmaf_iframe_playlist(r), M3U8),
            ))
        }
        other => Err(no_rendition(&format!(
            "manifest at {}",
            other.relative_path()
        ))),
    }
}
