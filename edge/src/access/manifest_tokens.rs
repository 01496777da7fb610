//! Tokens written into manifests. When a token came in the query of a manifest request, every
//! URL the manifest names gets a token too, so players play with no configuration. The token
//! written is one the node mints for the asset's scope: the presented CAT's claims with `catu`
//! set to the path prefix `/vod/{asset}/`, methods GET/HEAD/POST, the session in `sid`, the
//! same `cti` (so revoking the token id reaches it), and no `catreplay` or `catr`. Its `exp`
//! is the presented token's, except that a renewable token (one with `catr`) gets one that
//! outlasts the title by `expadd`: players do not fetch a VOD playlist again, so that is the
//! renewal. Revocation, stream limits and the other claims still apply to it. Akamai ACL
//! tokens are written as they came. Decision 0013 has the reasoning.
//!
//! Manifests are built and cached without tokens; the token is spliced into the finished
//! bytes ([`packager::url_query`]), which costs microseconds.

use std::sync::Arc;

use access::cat::mint::ClaimsBuilder;
use bytes::Bytes;
use packager::url_query::{append_query, ManifestSyntax};

use crate::access::clock;
use crate::access::extract::Carrier;
use crate::access::gate::{Verified, Viewer};
use crate::access::Access;
use crate::built::Built;

/// The token to write into `asset`'s manifests for `viewer`, if any.
pub(crate) fn token_for(
    access: &Access,
    viewer: &Viewer,
    asset: &str,
    duration_s: f64,
) -> Option<Arc<str>> {
    match &viewer.token {
        Verified::Akamai(t) if t.acl.is_some() => return Some(viewer.text.clone()),
        Verified::Akamai(_) => return None,
        Verified::Cat(_) => {}
    }
    let token = viewer.cat()?;
    let c = &token.claims;
    let scope = format!("/vod/{asset}/");
    let ours = c.iss.as_deref() == Some(access.config.issuer.as_str())
        && c.sid.is_some()
        && c.catr.is_none();
    if ours {
        return Some(viewer.text.clone());
    }
    let key = (viewer.text.clone(), asset.to_owned());
    if let Some(hit) = access.manifest_tokens.get(&key) {
        return Some(hit);
    }
    let Some(signer) = access.signer() else {
        // No key to mint with: pass the token on as it came.
        return Some(viewer.text.clone());
    };
    let now = clock::now_s();
    let exp = scope_exp(c, now, duration_s);
    let mut b = ClaimsBuilder::from_claims(c)
        .remove(access::cat::claims::CATREPLAY)
        .remove(access::cat::claims::CATR)
        .iss(&access.config.issuer)
        .path_prefix(&scope)
        .catm(&["GET", "HEAD", "POST"])
        .iat(now)
        .exp(exp);
    if let Some(s) = &viewer.session {
        b = b.sid(s);
    }
    let minted: Arc<str> = Arc::from(b.mint(signer, &access.rng).ok()?);
    access.manifest_tokens.insert(key, minted.clone());
    Some(minted)
}

/// The `exp` of a token minted from claims `c` for an asset's scope: `c`'s own, except that
/// a renewable token gets one that outlasts the title (`duration_s`) by `expadd`.
pub fn scope_exp(c: &access::cat::claims::Claims, now: u64, duration_s: f64) -> u64 {
    let exp = c.exp.unwrap_or(now);
    match &c.catr {
        Some(r) => exp.max(now + duration_s.ceil() as u64 + r.expadd),
        None => exp,
    }
}

/// `built` with the viewer's token in every URL, when the token came in the query.
pub fn splice(
    access: &Access,
    viewer: &Viewer,
    asset: &str,
    duration_s: f64,
    syntax: ManifestSyntax,
    built: Built,
) -> Built {
    let Carrier::Query(name) = &viewer.carrier else {
        return built;
    };
    let Some(token) = token_for(access, viewer, asset, duration_s) else {
        return built;
    };
    let pair = format!("{name}={token}");
    let bytes: Vec<u8> = match built.parts.as_slice() {
        [one] => append_query(one, syntax, &pair).into_owned(),
        parts => append_query(&parts.concat(), syntax, &pair).into_owned(),
    };
    Built {
        parts: vec![Bytes::from(bytes)],
        ..built
    }
}
