//! Why a steering request's query or a manifest to steer was refused.

use thiserror::Error;

/// A steering request's query that cannot be read. Every case is the client's fault and is
/// answered with a problem document; none of them stops the steering of other sessions.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum QueryError {
    #[error("the query is {len} bytes; at most {max} are read")]
    TooLong { len: usize, max: usize },
    #[error("the query has more than {max} parameters")]
    TooManyParameters { max: usize },
    #[error("parameter {name}: bad percent-encoding")]
    BadEncoding { name: String },
    #[error("parameter {name}: {value:?} is not a pathway id (1 to 64 of A-Z a-z 0-9 . - _)")]
    BadPathway { name: String, value: String },
    #[error("parameter {name}: {value:?} is not a number of bits per second")]
    BadThroughput { name: String, value: String },
    #[error("parameter session: {value:?} is not a session id (1 to 128 of A-Z a-z 0-9 . - _)")]
    BadSession { value: String },
    #[error("parameter state: not the edge's signature (hex, at most 64 digits)")]
    BadState,
}

/// A manifest that cannot be steered: it is not one the packager wrote.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("not a multivariant playlist: {0}")]
    NotMultivariant(&'static str),
    #[error("line {line}: {what}")]
    BadLine { line: usize, what: &'static str },
    #[error("not an MPD: {0}")]
    NotMpd(&'static str),
    #[error("no pathway to steer to")]
    NoPathways,
}
