//! The central catalog of HTTP errors, each an RFC 7807 `application/problem+json` document
//! with a stable `type` URI that clients can switch on. Every error the daemon sends comes
//! from here.

use http::StatusCode;
use serde::Serialize;

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://edgepack.dev/problems/";

/// The kinds of problem the daemon reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The URL does not name anything the daemon serves.
    NotFound,
    /// The asset named in the URL does not exist in the media root.
    AssetNotFound,
    /// The asset exists but has no such rendition, segment or subtitle.
    RenditionNotFound,
    /// The source is not an MP4 we can package (malformed, unsupported codec, over a limit).
    SourceUnpackable,
    /// A source could not be read (I/O error).
    SourceUnreadable,
    /// The HTTP origin did not answer in time (after retries).
    OriginTimeout,
    /// The origin failed so often that its circuit breaker refuses reads for a while.
    OriginUnavailable,
    /// The source changed while it was being read, again after a fresh look.
    SourceChanged,
    /// The daemon is draining, or its media root cannot be reached: send traffic elsewhere.
    NotReady,
    /// The request itself is malformed (bad asset name, bad path segment).
    BadRequest,
    MethodNotAllowed,
    RangeNotSatisfiable,
    /// The asset's encryption policy has no form of this output (DASH under AES-128, TS
    /// under `cenc`), or the object belongs to another method (an I-frame playlist).
    OutputNotOffered,
    /// The asset's keys reach players only through DRM licenses, not as raw keys.
    KeyNotDelivered,
    /// The key source has no key for the asset or refused to give one.
    KeyUnavailable,
    /// The key server could not be reached in time; a retry may help.
    KeyServiceUnavailable,
    /// A license request body is not what the license protocol expects.
    LicenseRequestInvalid,
    /// An asset definition file (`name.toml`, `asset.toml`) cannot be used.
    AssetDefinitionInvalid,
    /// The catalog (`[catalog]`) did not answer, and no recent answer was kept (503).
    CatalogUnavailable,
    /// The catalog's availability window for the asset is not open now (403).
    AssetNotAvailable,
    /// The catalog lists the countries where the asset plays, and the request's is not
    /// one of them (403).
    TerritoryNotAllowed,
    /// Playback access (decision 0013): no token was presented (401).
    TokenMissing,
    /// The token cannot be read, or needs a claim this node does not understand (401).
    TokenMalformed,
    /// The token's MAC or signature does not verify, or its key is unknown (401).
    TokenSignatureInvalid,
    /// The token has expired or is not valid yet (401).
    TokenExpired,
    /// The token was issued by or for someone else (`iss`, `aud`) (403).
    TokenWrongParty,
    /// The token does not cover this URL (403).
    TokenUriNotAllowed,
    /// The token does not allow this method (403).
    TokenMethodNotAllowed,
    /// The token does not allow the client's address or country (403).
    TokenLocationNotAllowed,
    /// A single-use token was presented again (403).
    TokenReplayed,
    /// The session, account or token was revoked (403).
    SessionRevoked,
    /// The account already plays as many streams as it may (403).
    StreamLimitReached,
    /// A check that needs the shared access store cannot be made, and the policy denies (503).
    AccessStoreUnavailable,
    /// An admin or metrics endpoint was called without its bearer key (401).
    AdminUnauthorized,
    /// A steering request for an asset that is not delivered through CDNs (404).
    SteeringNotConfigured,
    /// A steering request whose query cannot be read (400).
    SteeringQueryInvalid,
    Internal,
}

impl ProblemKind {
    /// Slug of the `type` URI, HTTP status and fixed title.
    pub fn describe(self) -> (&'static str, StatusCode, &'static str) {
        use ProblemKind::*;
        match self {
            NotFound => ("not-found", StatusCode::NOT_FOUND, "No such resource"),
            AssetNotFound => ("asset-not-found", StatusCode::NOT_FOUND, "Asset not found"),
            RenditionNotFound => (
                "rendition-not-found",
                StatusCode::NOT_FOUND,
                "The asset has no such rendition, segment or subtitle",
            ),
            SourceUnpackable => (
                "source-unpackable",
                StatusCode::UNPROCESSABLE_ENTITY,
                "The source media cannot be packaged",
            ),
            SourceUnreadable => (
                "source-unreadable",
                StatusCode::BAD_GATEWAY,
                "The source media could not be read",
            ),
            OriginTimeout => (
                "origin-timeout",
                StatusCode::GATEWAY_TIMEOUT,
                "The origin did not answer in time",
            ),
            OriginUnavailable => (
                "origin-unavailable",
                StatusCode::BAD_GATEWAY,
                "The origin is failing; reads are paused",
            ),
            SourceChanged => (
                "source-changed",
                StatusCode::BAD_GATEWAY,
                "The source changed while it was being read",
            ),
            NotReady => (
                "not-ready",
                StatusCode::SERVICE_UNAVAILABLE,
                "This node cannot serve now",
            ),
            BadRequest => ("bad-request", StatusCode::BAD_REQUEST, "Malformed request"),
            MethodNotAllowed => (
                "method-not-allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "This method is not served at this URL",
            ),
            OutputNotOffered => (
                "output-not-offered",
                StatusCode::NOT_FOUND,
                "The asset's encryption policy offers no such output",
            ),
            KeyNotDelivered => (
                "key-not-delivered",
                StatusCode::FORBIDDEN,
                "This asset's keys are delivered only through DRM licenses",
            ),
            KeyUnavailable => (
                "key-unavailable",
                StatusCode::INTERNAL_SERVER_ERROR,
                "No content key could be had for the asset",
            ),
            KeyServiceUnavailable => (
                "key-service-unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "The key service did not answer",
            ),
            LicenseRequestInvalid => (
                "license-request-invalid",
                StatusCode::BAD_REQUEST,
                "The license request is malformed",
            ),
            AssetDefinitionInvalid => (
                "asset-definition-invalid",
                StatusCode::INTERNAL_SERVER_ERROR,
                "The asset definition file cannot be used",
            ),
            CatalogUnavailable => (
                "catalog-unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "The catalog did not answer for this asset",
            ),
            AssetNotAvailable => (
                "asset-not-available",
                StatusCode::FORBIDDEN,
                "The asset is not available now",
            ),
            TerritoryNotAllowed => (
                "territory-not-allowed",
                StatusCode::FORBIDDEN,
                "The asset does not play in this country",
            ),
            RangeNotSatisfiable => (
                "range-not-satisfiable",
                StatusCode::RANGE_NOT_SATISFIABLE,
                "The requested byte range is outside the resource",
            ),
            TokenMissing => (
                "token-missing",
                StatusCode::UNAUTHORIZED,
                "This request needs an access token",
            ),
            TokenMalformed => (
                "token-malformed",
                StatusCode::UNAUTHORIZED,
                "The access token cannot be read",
            ),
            TokenSignatureInvalid => (
                "token-signature-invalid",
                StatusCode::UNAUTHORIZED,
                "The access token's signature does not verify",
            ),
            TokenExpired => (
                "token-expired",
                StatusCode::UNAUTHORIZED,
                "The access token has expired or is not valid yet",
            ),
            TokenWrongParty => (
                "token-wrong-party",
                StatusCode::FORBIDDEN,
                "The access token was issued by or for someone else",
            ),
            TokenUriNotAllowed => (
                "token-uri-not-allowed",
                StatusCode::FORBIDDEN,
                "The access token does not cover this URL",
            ),
            TokenMethodNotAllowed => (
                "token-method-not-allowed",
                StatusCode::FORBIDDEN,
                "The access token does not allow this method",
            ),
            TokenLocationNotAllowed => (
                "token-location-not-allowed",
                StatusCode::FORBIDDEN,
                "The access token does not allow the client's address or country",
            ),
            TokenReplayed => (
                "token-replayed",
                StatusCode::FORBIDDEN,
                "The access token may be used once, and it was",
            ),
            SessionRevoked => (
                "session-revoked",
                StatusCode::FORBIDDEN,
                "The playback session was revoked",
            ),
            StreamLimitReached => (
                "stream-limit-reached",
                StatusCode::FORBIDDEN,
                "The account plays as many streams as it may",
            ),
            AccessStoreUnavailable => (
                "access-store-unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "Access cannot be checked now",
            ),
            AdminUnauthorized => (
                "admin-unauthorized",
                StatusCode::UNAUTHORIZED,
                "This endpoint needs its bearer key",
            ),
            SteeringNotConfigured => (
                "steering-not-configured",
                StatusCode::NOT_FOUND,
                "This asset is not delivered through several CDNs",
            ),
            SteeringQueryInvalid => (
                "steering-query-invalid",
                StatusCode::BAD_REQUEST,
                "The steering request's query cannot be read",
            ),
            Internal => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
            ),
        }
    }

    pub fn status(self) -> StatusCode {
        self.describe().1
    }

    /// Whether the origin, not the content or the request, is at fault: such failures may
    /// be answered from an older cached copy (stale-if-error).
    pub fn is_origin_fault(self) -> bool {
        use ProblemKind::*;
        matches!(
            self,
            SourceUnreadable | OriginTimeout | OriginUnavailable | SourceChanged
        )
    }
}

/// One problem occurrence: a kind plus the detail of this case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub detail: String,
}

impl Problem {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Problem {
            kind,
            detail: detail.into(),
        }
    }

    /// The problem+json document, with `instance` set to the request path.
    pub fn to_json(&self, instance: &str) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            #[serde(rename = "type")]
            kind: String,
            title: &'a str,
            status: u16,
            detail: &'a str,
            instance: &'a str,
        }
        let (slug, status, title) = self.kind.describe();
        let doc = Doc {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title,
            status: status.as_u16(),
            detail: &self.detail,
            instance,
        };
        serde_json::to_string(&doc).unwrap_or_else(|_| String::from("{}"))
    }
}

impl From<packager::Error> for Problem {
    fn from(e: packager::Error) -> Self {
        let kind = match &e {
            packager::Error::NotFound(_) => ProblemKind::RenditionNotFound,
            packager::Error::Output { .. } => ProblemKind::Internal,
            _ => ProblemKind::SourceUnpackable,
        };
        Problem::new(kind, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_has_rfc7807_members() {
        let p = Problem::new(ProblemKind::AssetNotFound, "no asset 'x' in the media root");
        let v: serde_json::Value = serde_json::from_str(&p.to_json("/vod/x/master.m3u8")).unwrap();
        assert_eq!(v["type"], "https://edgepack.dev/problems/asset-not-found");
        assert_eq!(v["status"], 404);
        assert_eq!(v["title"], "Asset not found");
        assert_eq!(v["instance"], "/vod/x/master.m3u8");
    }
}
