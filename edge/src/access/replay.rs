//! `catreplay`: a single-use token is refused the second time it is presented, on any node
//! (the shared store marks its id used); a reuse-detected one is served and reported.

use access::cat::Replay;

use crate::access::clock;
use crate::access::denied::{unavailable, Denied};
use crate::access::viewer::Viewer;
use crate::access::Access;
use crate::problem::{Problem, ProblemKind};

/// Checks the token's `catreplay` against the marks of earlier uses.
pub async fn check(access: &Access, v: &Viewer) -> Result<(), Denied> {
    let Some(token) = v.cat() else { return Ok(()) };
    let replay = token.claims.catreplay;
    if replay == Replay::Permitted {
        return Ok(());
    }
    let Some(id) = v.token_id.as_deref() else {
        return Err((
            "malformed",
            Problem::new(
                ProblemKind::TokenMalformed,
                "catreplay needs a token id (cti)".to_owned(),
            ),
        ));
    };
    let seen_here = access.seen_token_ids.contains_key(id);
    let first = if seen_here {
        false
    } else {
        let until = token.claims.exp.unwrap_or(0).max(clock::now_s() + 60);
        match access.store.first_use(id, until).await {
            Ok(first) => first,
            Err(e) => return unavailable(access, "single use of the token", &e),
        }
    };
    access.seen_token_ids.insert(id.to_owned(), ());
    if first {
        return Ok(());
    }
    if replay == Replay::Prohibited {
        access
            .metrics
            .token_reuse
            .with_label_values(&["refused"])
            .inc();
        return Err((
            "replayed",
            Problem::new(
                ProblemKind::TokenReplayed,
                "this token may be used once, and it was".to_owned(),
            ),
        ));
    }
    if !seen_here {
        access
            .metrics
            .token_reuse
            .with_label_values(&["detected"])
            .inc();
        tracing::warn!(token_id = %id, "a reuse-detected token (catreplay 2) is used again");
    }
    Ok(())
}
