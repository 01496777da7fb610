//! Request inputs. JSON bodies: `application/json` only, at most [`MAX_BODY`] bytes, parsed into a
//! type that refuses unknown fields. Every failure is a problem document that says what was
//! wrong, never a bare 400 or 422 from the framework.

use axum::extract::{FromRequest, Request};
use http::header;
use serde::de::DeserializeOwned;
use serde::Serialize;

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

/// Parses JSON bytes into `T`, naming the place of the first error. Objects only where `T`
/// has a struct: serde also fills a struct from an array of its fields in order, which the
/// contracts do not allow, so the parsed value is written back and every place that comes
/// out as an object must have been an object in the body.
pub fn parse<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, Problem> {
    let body: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Problem::bad_request(format!("the body: {e}")))?;
    let value: T = serde_json::from_value(body.clone())
        .map_err(|e| Problem::bad_request(format!("the body: {e}")))?;
    let written =
        serde_json::to_value(&value).map_err(|e| Problem::bad_request(format!("the body: {e}")))?;
    objects_where_objects_are(&written, &body, "the body")?;
    Ok(value)
}

/// Every object of `written` is an object at the same place of `sent`.
fn objects_where_objects_are(
    written: &serde_json::Value,
    sent: &serde_json::Value,
    at: &str,
) -> Result<(), Problem> {
    use serde_json::Value;
    match (written, sent) {
        (Value::Object(w), Value::Object(s)) => {
            for (k, wv) in w {
                if let Some(sv) = s.get(k) {
                    objects_where_objects_are(wv, sv, &format!("{at}.{k}"))?;
                }
            }
            Ok(())
        }
        (Value::Object(_), _) => Err(Problem::bad_request(format!(
            "{at}: a JSON object is expected"
        ))),
        (Value::Array(w), Value::Array(s)) => {
            for (i, (wv, sv)) in w.iter().zip(s).enumerate() {
                objects_where_objects_are(wv, sv, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Serialize,
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
pub async fn authorized<T: DeserializeOwned + Serialize>(
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

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    #[serde(deny_unknown_fields)]
    struct Thing {
        id: String,
        #[serde(default)]
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        n: Option<u32>,
    }

    #[test]
    fn parse_errors_are_problems() {
        assert!(parse::<Thing>(br#"{"id":"a"}"#).is_ok());
        assert!(parse::<Thing>(br#"{"id":"a","inner":{"n":1}}"#).is_ok());
        // Structs from arrays of their fields: serde takes them, the contracts do not.
        for bad in [
            &b"{"[..],
            br#"{"id":1}"#,
            br#"{"id":"a","x":1}"#,
            b"[]",
            br#"["a"]"#,
            br#"{"id":"a","inner":[1]}"#,
        ] {
            let e = parse::<Thing>(bad).unwrap_err();
            assert_eq!(e.kind, ProblemType::BadRequest);
        }
    }
}
