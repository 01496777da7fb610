//! Request inputs. JSON bodies: `application/json` only, at most [`MAX_BODY`] bytes, parsed into a
//! type that refuses unknown fields. Every failure is a problem document that says what was
//! wrong, never a bare 400 or 422 from the framework.

use axum::extract::{FromRequest, Request};
use http::header;
use serde::de::DeserializeOwned;

use crate::problem::{Problem, ProblemType};

/// Largest JSON body any operation accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// A JSON body of type `T`.
pub struct Json<T>(pub T);

/// Whether a content type is JSON (`application/json` or `application/*+json`).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads a body of at most `limit` bytes.
pub async fn read_limited(req: Request, limit: usize) -> Result<axum::body::Bytes, Problem> {
    if let Some(length) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if length > limit as u64 {
            return Err(too_large(limit));
        }
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large(limit))
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        ProblemType::BodyTooLarge,
        format!("the body is larger than {limit} bytes"),
    )
}

/// Parses JSON bytes into `T`, naming the place of the first error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_request(format!("the body: {e}")))
}

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(Problem::new(
                ProblemType::UnsupportedMediaType,
                format!("Content-Type {content_type:?}: send application/json"),
            ));
        }
        let bytes = read_limited(req, MAX_BODY).await?;
        parse(&bytes).map(Json)
    }
}

/// The body of a write operation, read only after the caller's API key is checked for
/// `scope`: an anonymous caller learns nothing about what bodies the service accepts.
pub async fn authorized<T: DeserializeOwned>(
    keys: &crate::auth::ApiKeys,
    scope: crate::auth::Scope,
    req: Request,
) -> Result<T, Problem> {
    keys.authorize(req.headers(), scope)?;
    let Json(value) = Json::<T>::from_request(req, &()).await?;
    Ok(value)
}

/// Query parameters of type `T` (which should refuse unknown fields), with a problem
/// document when they do not parse.
pub struct Query<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_parse(query).map(Query)
    }
}

fn serde_urlencoded_parse<T: DeserializeOwned>(query: &str) -> Result<T, Problem> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| Problem::bad_request("the query string is malformed"))?,
    )
    .map(|q| q.0)
    .map_err(|e| Problem::bad_request(format!("the query string: {}", e.body_text())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        id: String,
    }

    #[test]
    fn parse_errors_are_problems() {
        assert!(parse::<Thing>(br#"{"id":"a"}"#).is_ok());
        for bad in [&b"{"[..], br#"{"id":1}"#, br#"{"id":"a","x":1}"#, b"[]"] {
            let e = parse::<Thing>(bad).unwrap_err();
            assert_eq!(e.kind, ProblemType::BadRequest);
        }
    }
}
