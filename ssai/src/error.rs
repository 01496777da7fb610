//! Why a VAST or VMAP document could not be read: what, where (line and element).

use thiserror::Error;

/// A document that cannot be read, naming the element and line at fault.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the document is {len} bytes; at most {max} are read")]
    TooLarge { len: usize, max: usize },
    #[error("line {line}: not well-formed XML: {reason}")]
    Xml { line: usize, reason: String },
    #[error("line {line}: elements nest deeper than {max}")]
    TooDeep { line: usize, max: usize },
    #[error("line {line}: more than {max} elements")]
    TooManyElements { line: usize, max: usize },
    #[error("line {line}: <{tag}> {what}")]
    Invalid {
        line: usize,
        tag: String,
        what: String,
    },
}

impl ParseError {
    /// A problem with element `tag` at `line`.
    pub fn invalid(line: usize, tag: &str, what: impl Into<String>) -> Self {
        ParseError::Invalid {
            line,
            tag: tag.to_owned(),
            what: what.into(),
        }
    }
}
