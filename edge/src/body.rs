//! A response body made of several `Bytes` parts (segment headers, then zero-copy slices of
//! the source), with an exact size so Content-Length is always known.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The parts of a response body, sent in order.
#[derive(Debug, Default)]
pub struct PartsBody {
    parts: VecDeque<Bytes>,
    remaining: u64,
}

impl PartsBody {
    pub fn new(parts: Vec<Bytes>) -> Self {
        let parts: VecDeque<Bytes> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        let remaining = parts.iter().map(|p| p.len() as u64).sum();
        PartsBody { parts, remaining }
    }

    pub fn empty() -> Self {
        PartsBody::default()
    }
}

impl Body for PartsBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.parts.pop_front() {
            Some(part) => {
                self.remaining -= part.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(part))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// Total length of `parts`.
pub fn parts_len(parts: &[Bytes]) -> u64 {
    parts.iter().map(|p| p.len() as u64).sum()
}

/// The bytes `[start, end)` of the concatenation of `parts`, as slices (no copy).
pub fn slice_parts(parts: &[Bytes], start: u64, end: u64) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut pos = 0u64;
    for p in parts {
        let len = p.len() as u64;
        let (s, e) = (start.max(pos), end.min(pos + len));
        if s < e {
            out.push(p.slice((s - pos) as usize..(e - pos) as usize));
        }
        pos += len;
        if pos >= end {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_across_parts() {
        let parts = vec![Bytes::from_static(b"abc"), Bytes::from_static(b"defg")];
        let s = slice_parts(&parts, 2, 5);
        assert_eq!(s, vec![Bytes::from_static(b"c"), Bytes::from_static(b"de")]);
        assert_eq!(parts_len(&parts), 7);
        assert_eq!(PartsBody::new(parts).size_hint().exact(), Some(7));
    }
}
