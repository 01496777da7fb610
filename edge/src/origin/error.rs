//! Why a source read failed, and which problem+json each failure becomes: a missing source
//! is 404, an origin that does not answer in time 504, any other origin failure 502, and a
//! source that is not packageable 422.

use std::time::Duration;

use crate::problem::{Problem, ProblemKind};

/// A failed source read. `object` names the object as clients may see it: a path below the
/// media root, or the path of the origin URL (never the origin's host).
#[derive(Debug, Clone, thiserror::Error)]
pub enum OriginError {
    #[error("{object}: not found")]
    NotFound { object: String },
    #[error("{object}: the origin did not answer within {} ms", after.as_millis())]
    Timeout { object: String, after: Duration },
    #[error("{object}: the origin failed: {reason}")]
    Failed { object: String, reason: String },
    #[error("{object}: the origin's circuit breaker is open after repeated failures; retrying in {} s", retry_in.as_secs().max(1))]
    CircuitOpen { object: String, retry_in: Duration },
    #[error("{object}: the source changed while it was being read")]
    Changed { object: String },
    #[error("{object}: {reason}")]
    Unreadable { object: String, reason: String },
    #[error("{object}: {error}")]
    Media {
        object: String,
        error: packager::Error,
    },
}

impl OriginError {
    /// Whether a retry of the same read may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            OriginError::Timeout { .. } | OriginError::Failed { .. }
        )
    }

    /// Whether this failure is the origin's, not the content's: such failures may be
    /// answered from an older cached copy (stale-if-error).
    pub fn is_origin_fault(&self) -> bool {
        matches!(
            self,
            OriginError::Timeout { .. }
                | OriginError::Failed { .. }
                | OriginError::CircuitOpen { .. }
                | OriginError::Unreadable { .. }
        )
    }
}

impl From<OriginError> for Problem {
    fn from(e: OriginError) -> Self {
        let kind = match &e {
            OriginError::NotFound { .. } => ProblemKind::AssetNotFound,
            OriginError::Timeout { .. } => ProblemKind::OriginTimeout,
            OriginError::CircuitOpen { .. } => ProblemKind::OriginUnavailable,
            OriginError::Failed { .. } | OriginError::Unreadable { .. } => {
                ProblemKind::SourceUnreadable
            }
            OriginError::Changed { .. } => ProblemKind::SourceChanged,
            OriginError::Media { .. } => ProblemKind::SourceUnpackable,
        };
        Problem::new(kind, e.to_string())
    }
}
