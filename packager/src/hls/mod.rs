//! HLS playlists: multivariant, media, I-frame and subtitle playlists.

pub mod flavor;
pub mod keys;
pub mod media_playlist;
pub mod multivariant;

pub use crate::playlist_entries::PlaylistEntry;
pub use flavor::HlsFlavor;
pub use media_playlist::{
    cmaf_iframe_playlist, cmaf_media_playlist, subtitle_playlist, write_media_playlist,
};
pub use multivariant::{write_multivariant, VariantRates};
