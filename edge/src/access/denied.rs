//! How a refused request is answered: a token refusal as its problem type, and what a check
//! that needs the shared store does when the store cannot answer (`access.store_unavailable`).

use access::Refusal;

use crate::access::config::StoreUnavailable;
use crate::access::store::StoreError;
use crate::access::Access;
use crate::problem::{Problem, ProblemKind};

/// A refusal: its label for metrics, and the problem to answer with.
pub type Denied = (&'static str, Problem);

/// Why a request is refused: the problem to answer with.
pub fn refusal_problem(r: &Refusal) -> Problem {
    let kind = match r {
        Refusal::Missing => ProblemKind::TokenMissing,
        Refusal::Malformed(_) | Refusal::Unsupported(_) => ProblemKind::TokenMalformed,
        Refusal::BadSignature(_) => ProblemKind::TokenSignatureInvalid,
        Refusal::Expired { .. } | Refusal::NotYetValid { .. } => ProblemKind::TokenExpired,
        Refusal::WrongParty(_) => ProblemKind::TokenWrongParty,
        Refusal::WrongUri(_) => ProblemKind::TokenUriNotAllowed,
        Refusal::WrongMethod(_) => ProblemKind::TokenMethodNotAllowed,
        Refusal::IpNotAllowed(_) | Refusal::GeoNotAllowed(_) => {
            ProblemKind::TokenLocationNotAllowed
        }
    };
    Problem::new(kind, r.to_string())
}

/// Applies `access.store_unavailable` to a store failure.
pub fn unavailable(access: &Access, what: &str, e: &StoreError) -> Result<(), Denied> {
    match access.config.store_unavailable {
        StoreUnavailable::Allow => {
            tracing::warn!(error = %e, "{what} not checked: the access store is unavailable (store_unavailable = allow)");
            Ok(())
        }
        StoreUnavailable::Deny => Err((
            "store_unavailable",
            Problem::new(
                ProblemKind::AccessStoreUnavailable,
                format!("{what} cannot be checked now: {e}"),
            ),
        )),
    }
}
