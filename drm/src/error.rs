//! The drm crate's one error type.

use thiserror::Error;

/// Everything that can go wrong while deriving keys, encrypting or reading protected data.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// Bytes (a NAL unit, a key, a license request) do not follow their format.
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// Well-formed, but something this crate does not handle.
    #[error("unsupported {what}: {reason}")]
    Unsupported { what: &'static str, reason: String },
}

impl Error {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Malformed {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Unsupported {
            what,
            reason: reason.into(),
        }
    }
}

/// Result with the drm crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
