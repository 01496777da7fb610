//! Why a token does not grant a request: one typed reason per check, each mapped by the edge
//! to a problem type (decision 0013 sets the status codes).

/// Why access is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No token was presented.
    #[error("no access token was presented")]
    Missing,
    /// The token is not a well-formed token of its scheme.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The signature or MAC does not verify, or names a key or algorithm we do not accept.
    #[error("token signature does not verify: {0}")]
    BadSignature(String),
    /// `exp` has passed.
    #[error("token expired at {exp} (now {now})")]
    Expired { exp: u64, now: u64 },
    /// `nbf` is in the future.
    #[error("token not valid before {nbf} (now {now})")]
    NotYetValid { nbf: u64, now: u64 },
    /// `iss` or `aud` is not one this node accepts.
    #[error("token {0}")]
    WrongParty(String),
    /// `catu` (or the Akamai ACL) does not match the request URI.
    #[error("token does not allow this URI: {0}")]
    WrongUri(String),
    /// `catm` does not list the request method.
    #[error("token does not allow method {0}")]
    WrongMethod(String),
    /// `catnip` does not contain the client address.
    #[error("token does not allow client address {0}")]
    IpNotAllowed(String),
    /// `catgeoiso3166` does not list the client's country (or it is unknown).
    #[error("token does not allow country {0}")]
    GeoNotAllowed(String),
    /// A claim marked critical is not one this node understands, or `catv` is unknown.
    #[error("token needs a claim this node does not understand: {0}")]
    Unsupported(String),
}

impl Refusal {
    /// A short stable label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed(_) => "malformed",
            Refusal::BadSignature(_) => "bad_signature",
            Refusal::Expired { .. } => "expired",
            Refusal::NotYetValid { .. } => "not_yet_valid",
            Refusal::WrongParty(_) => "wrong_party",
            Refusal::WrongUri(_) => "wrong_uri",
            Refusal::WrongMethod(_) => "wrong_method",
            Refusal::IpNotAllowed(_) => "ip_not_allowed",
            Refusal::GeoNotAllowed(_) => "geo_not_allowed",
            Refusal::Unsupported(_) => "unsupported",
        }
    }
}
