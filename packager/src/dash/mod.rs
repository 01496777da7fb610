//! DASH manifests.

pub mod content_protection;
pub mod mpd;

pub use mpd::write_mpd;
