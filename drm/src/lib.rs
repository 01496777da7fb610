//! Pure content protection for edgepack: keys and key ids, AES-CTR and AES-CBC, Common
//! Encryption (`cenc`, `cbcs`) of samples with their subsample maps, HLS AES-128 and
//! SAMPLE-AES, and the DRM system data players need (pssh boxes, Widevine, PlayReady,
//! FairPlay and ClearKey signalling). This crate never opens a file or a socket and never
//! reads the clock.
#![forbid(unsafe_code)]

pub mod cenc;
pub mod error;
pub mod key;

pub use error::{Error, Result};
pub use key::{ContentKey, ContentKeyPair, KeyId};
