//! HLS playlists: multivariant, media, I-frame and subtitle playlists.

pub mod keys;
pub mod media_playlist;
pub mod multivariant;

pub use media_playlist::{
    cmaf_iframe_playlist, cmaf_media_playlist, subtitle_playlist, write_media_playlist,
    PlaylistEntry,
};
pub use multivariant::{write_multivariant, HlsFlavor, VariantRates};
