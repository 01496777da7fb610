//! The packager's one error type. Every MP4 error names the box path and the absolute byte
//! offset where it was found, so an engineer can open the file in a hex editor and look.

use thiserror::Error;

/// Everything that can go wrong while reading a source or building output.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// The bytes do not follow ISO/IEC 14496-12 (or the codec's configuration format).
    #[error("{path} at {offset:#x}: {reason}")]
    Malformed {
        path: String,
        offset: u64,
        reason: String,
    },
    /// Well-formed, but something this packager does not handle.
    #[error("{path}: unsupported: {reason}")]
    Unsupported { path: String, reason: String },
    /// A limit that protects memory and time was exceeded.
    #[error("{path}: {reason}")]
    LimitExceeded { path: String, reason: String },
    /// The request names something the source does not have (a track, a segment).
    #[error("not found: {0}")]
    NotFound(String),
    /// A muxer could not write the output (for example, a NAL length that runs past its sample).
    #[error("cannot write {what}: {reason}")]
    Output { what: &'static str, reason: String },
}

impl Error {
    pub(crate) fn malformed(path: &str, offset: u64, reason: impl Into<String>) -> Self {
        Error::Malformed {
            path: path.to_owned(),
            offset,
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(path: &str, reason: impl Into<String>) -> Self {
        Error::Unsupported {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn limit(path: &str, reason: impl Into<String>) -> Self {
        Error::LimitExceeded {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    /// True when the fault is in the source media rather than in the request.
    pub fn is_source_fault(&self) -> bool {
        matches!(
            self,
            Error::Malformed { .. } | Error::Unsupported { .. } | Error::LimitExceeded { .. }
        )
    }
}

/// Result with the packager's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
