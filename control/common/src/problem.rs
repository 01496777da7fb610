//! The control plane's errors: RFC 9457 `application/problem+json` documents, every one from
//! the catalog below, with a stable `type` URI a client can switch on. The base URI is the
//! edge's (`edge/src/problem.rs`), so a caller handles both with one table.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://edgepack.dev/problems/";

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The kinds of problem the control services report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    /// The body is not JSON, not the expected shape, has unknown fields or a bad value (400).
    BadRequest,
    /// The body is larger than the operation accepts (413).
    BodyTooLarge,
    /// The body is not `application/json` (415).
    UnsupportedMediaType,
    /// No API key, or one that is not configured (401).
    ApiKeyInvalid,
    /// The API key lacks the scope the operation needs (403).
    ScopeMissing,
    /// No such resource (404).
    NotFound,
    /// The URL names no operation (404).
    NoSuchOperation,
    /// The method is not allowed on this URL (405).
    MethodNotAllowed,
    /// The same idempotency key came with a different request (409).
    IdempotencyConflict,
    /// A resource refers to another that does not exist (422).
    ReferenceUnknown,
    /// Playback is refused; `reasons` lists why, each with a type of its own (403).
    PlaybackDenied,
    /// The playback session was revoked or has ended (409).
    SessionNotActive,
    /// A webhook's signature is missing, malformed or does not verify (400).
    WebhookSignatureInvalid,
    /// A webhook's timestamp is outside the tolerance (400).
    WebhookTimestampOutOfTolerance,
    /// The database did not answer (503).
    DatabaseUnavailable,
    /// A service this one depends on (a remote contract, the edge) did not answer well (502).
    UpstreamFailed,
    /// The service is starting or draining (503).
    NotReady,
    /// A bug: something that should not happen did (500).
    Internal,
}

impl ProblemType {
    /// Every kind, for the tests that keep slugs unique and the documentation.
    pub const ALL: [ProblemType; 18] = [
        ProblemType::BadRequest,
        ProblemType::BodyTooLarge,
        ProblemType::UnsupportedMediaType,
        ProblemType::ApiKeyInvalid,
        ProblemType::ScopeMissing,
        ProblemType::NotFound,
        ProblemType::NoSuchOperation,
        ProblemType::MethodNotAllowed,
        ProblemType::IdempotencyConflict,
        ProblemType::ReferenceUnknown,
        ProblemType::PlaybackDenied,
        ProblemType::SessionNotActive,
        ProblemType::WebhookSignatureInvalid,
        ProblemType::WebhookTimestampOutOfTolerance,
        ProblemType::DatabaseUnavailable,
        ProblemType::UpstreamFailed,
        ProblemType::NotReady,
        ProblemType::Internal,
    ];

    /// The last part of the `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemType::BadRequest => "bad-request",
            ProblemType::BodyTooLarge => "body-too-large",
            ProblemType::UnsupportedMediaType => "unsupported-media-type",
            ProblemType::ApiKeyInvalid => "api-key-invalid",
            ProblemType::ScopeMissing => "scope-missing",
            ProblemType::NotFound => "not-found",
            ProblemType::NoSuchOperation => "no-such-operation",
            ProblemType::MethodNotAllowed => "method-not-allowed",
            ProblemType::IdempotencyConflict => "idempotency-conflict",
            ProblemType::ReferenceUnknown => "reference-unknown",
            ProblemType::PlaybackDenied => "playback-denied",
            ProblemType::SessionNotActive => "session-not-active",
            ProblemType::WebhookSignatureInvalid => "webhook-signature-invalid",
            ProblemType::WebhookTimestampOutOfTolerance => "webhook-timestamp-out-of-tolerance",
            ProblemType::DatabaseUnavailable => "database-unavailable",
            ProblemType::UpstreamFailed => "upstream-failed",
            ProblemType::NotReady => "not-ready",
            ProblemType::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ProblemType::BadRequest
            | ProblemType::WebhookSignatureInvalid
            | ProblemType::WebhookTimestampOutOfTolerance => StatusCode::BAD_REQUEST,
            ProblemType::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemType::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemType::ApiKeyInvalid => StatusCode::UNAUTHORIZED,
            ProblemType::ScopeMissing | ProblemType::PlaybackDenied => StatusCode::FORBIDDEN,
            ProblemType::NotFound | ProblemType::NoSuchOperation => StatusCode::NOT_FOUND,
            ProblemType::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemType::IdempotencyConflict | ProblemType::SessionNotActive => {
                StatusCode::CONFLICT
            }
            ProblemType::ReferenceUnknown => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemType::DatabaseUnavailable | ProblemType::NotReady => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ProblemType::UpstreamFailed => StatusCode::BAD_GATEWAY,
            ProblemType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ProblemType::BadRequest => "The request is malformed",
            ProblemType::BodyTooLarge => "The request body is too large",
            ProblemType::UnsupportedMediaType => "The request body must be application/json",
            ProblemType::ApiKeyInvalid => "A valid API key is needed",
            ProblemType::ScopeMissing => "The API key lacks a scope this operation needs",
            ProblemType::NotFound => "No such resource",
            ProblemType::NoSuchOperation => "No such operation",
            ProblemType::MethodNotAllowed => "Method not allowed",
            ProblemType::IdempotencyConflict => {
                "The idempotency key was used for a different request"
            }
            ProblemType::ReferenceUnknown => "The resource refers to one that does not exist",
            ProblemType::PlaybackDenied => "Playback is not allowed",
            ProblemType::SessionNotActive => "The playback session is not active",
            ProblemType::WebhookSignatureInvalid => "The webhook signature does not verify",
            ProblemType::WebhookTimestampOutOfTolerance => {
                "The webhook timestamp is outside the tolerance"
            }
            ProblemType::DatabaseUnavailable => "The database is unavailable",
            ProblemType::UpstreamFailed => "A service this one depends on failed",
            ProblemType::NotReady => "The service is not ready",
            ProblemType::Internal => "Internal error",
        }
    }

    /// The kind whose `type` URI is `uri`.
    pub fn from_uri(uri: &str) -> Option<ProblemType> {
        let slug = uri.strip_prefix(PROBLEM_BASE)?;
        ProblemType::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The full `type` URI.
    pub fn uri(self) -> String {
        format!("{PROBLEM_BASE}{}", self.slug())
    }
}

/// One reason playback was denied: a problem type URI of its own and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    /// A problem type URI, such as `https://edgepack.dev/problems/not-entitled`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub detail: String,
}

/// A problem document, as sent and as read back by a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProblemDocument {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id, when the server gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// For `playback-denied`: every reason, most important first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} ({}): {}", kind.slug(), kind.status().as_u16(), detail)]
pub struct Problem {
    pub kind: ProblemType,
    pub detail: String,
    pub reasons: Vec<Reason>,
}

impl Problem {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            reasons: Vec::new(),
        }
    }

    pub fn with_reasons(mut self, reasons: Vec<Reason>) -> Problem {
        self.reasons = reasons;
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(ProblemType::BadRequest, detail)
    }

    pub fn not_found(what: &str, id: &str) -> Problem {
        Problem::new(ProblemType::NotFound, format!("no {what} {id:?}"))
    }

    pub fn document(&self) -> ProblemDocument {
        ProblemDocument {
            type_uri: self.kind.uri(),
            title: self.kind.title().into(),
            status: self.kind.status().as_u16(),
            detail: Some(self.detail.clone()),
            instance: None,
            reasons: self.reasons.clone(),
        }
    }
}

impl From<ProblemDocument> for Problem {
    /// A document read back from a remote service: its kind when it is one of ours, else
    /// `upstream-failed` with the document's own words.
    fn from(d: ProblemDocument) -> Problem {
        match ProblemType::from_uri(&d.type_uri) {
            Some(kind) => Problem {
                kind,
                detail: d.detail.unwrap_or(d.title),
                reasons: d.reasons,
            },
            None => Problem::new(
                ProblemType::UpstreamFailed,
                format!(
                    "{} ({}): {}",
                    d.type_uri,
                    d.status,
                    d.detail.unwrap_or(d.title)
                ),
            ),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.document()).unwrap_or_default();
        let mut response = (self.kind.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_unique_and_statuses_are_errors() {
        let mut slugs: Vec<_> = ProblemType::ALL.iter().map(|k| k.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemType::ALL.len());
        for k in ProblemType::ALL {
            assert!(k.status().as_u16() >= 400, "{k:?}");
        }
    }

    #[test]
    fn a_problem_is_problem_json_with_its_type() {
        let r = Problem::not_found("asset", "x").into_response();
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
