//! DASH manifests.

pub mod mpd;

pub use mpd::write_mpd;
