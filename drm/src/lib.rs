//! Pure content protection for edgepack: keys and key ids, AES-CTR and AES-CBC, Common
//! Encryption (`cenc`, `cbcs`) of samples with their subsample maps, HLS AES-128 and
//! SAMPLE-AES, and the DRM system data players need (pssh boxes, Widevine, PlayReady,
//! FairPlay and ClearKey signalling). This crate never opens a file or a socket and never
//! reads the clock.
#![forbid(unsafe_code)]

pub mod cenc;
pub mod clearkey;
pub mod cpix;
pub mod derive;
pub mod error;
pub mod hls_aes;
pub mod key;
pub mod method;
pub mod nal;
pub mod pssh;
pub mod sample_aes;
pub mod system;
pub mod system_id;

pub use error::{Error, Result};
pub use key::{ContentKey, ContentKeyPair, KeyId};
pub use method::Method;
pub use system::{DrmSystem, Signalling};
pub use system_id::SystemId;
