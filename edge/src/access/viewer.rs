//! Who a request is from once its token passed: the verified token, how it came, and the
//! session, account and token id the later checks (revocations, single use, stream limits)
//! and the response (renewal, manifest tokens) need.

use std::sync::Arc;

use access::akamai::EdgeAuthToken;

use crate::access::extract::Carrier;
use crate::access::VerifiedCat;

/// A verified token.
#[derive(Debug, Clone)]
pub enum Verified {
    Cat(VerifiedCat),
    Akamai(EdgeAuthToken),
}

/// Who a request is from, once its token passed.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub token: Verified,
    /// The token as presented.
    pub text: Arc<str>,
    pub carrier: Carrier,
    pub session: Option<Arc<str>>,
    pub account: Option<Arc<str>>,
    /// The CAT's id (`cti`, hex).
    pub token_id: Option<Arc<str>>,
}

impl Viewer {
    /// The CAT, when the token is one.
    pub fn cat(&self) -> Option<&access::cat::Token> {
        match &self.token {
            Verified::Cat(v) => v.as_ref().as_ref().ok().map(|e| &e.token),
            Verified::Akamai(_) => None,
        }
    }
}
