//! A response body made of several `Bytes` parts (segment headers, then zero-copy slices of
//! the source), with an exact size so Content-Length is always known.
//!
//! [`gather_small_parts`] prepares the parts of a built object once: large parts stay as
//! they are, runs of small parts (a segment of a source whose audio and video are
//! interleaved sample by sample is hundreds of slices of a few hundred bytes) are copied
//! together into parts of up to `FRAME_TARGET` bytes. hyper writes at most 16 buffers per
//! `writev`, so sending small parts one by one would cost a system call per few KB, and a
//! cached object of hundreds of parts would cost as many reference counts per request.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

/// A part at least this large is sent as its own frame, without a copy.
const LARGE_PART: usize = 16 * 1024;
/// Small parts are gathered into frames of up to this many bytes.
const FRAME_TARGET: usize = 64 * 1024;

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

/// `parts` with every run of small parts copied together into parts of up to
/// `FRAME_TARGET` bytes; large parts are kept as they are (no copy).
pub fn gather_small_parts(parts: Vec<Bytes>) -> Vec<Bytes> {
    let small = |p: &Bytes| p.len() < LARGE_PART;
    if parts.len() <= 2 || !parts.windows(2).any(|w| small(&w[0]) && small(&w[1])) {
        return parts;
    }
    let mut out = Vec::new();
    let mut gathered = BytesMut::new();
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        let flush = !small(&part) || gathered.len() + part.len() > FRAME_TARGET;
        if flush && !gathered.is_empty() {
            out.push(gathered.split().freeze());
        }
        if small(&part) {
            if gathered.capacity() == 0 {
                gathered.reserve(FRAME_TARGET);
            }
            gathered.extend_from_slice(&part);
        } else {
            out.push(part);
        }
    }
    if !gathered.is_empty() {
        out.push(gathered.freeze());
    }
    out
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

    #[test]
    fn small_parts_are_gathered_and_large_ones_kept_as_they_are() {
        let large = Bytes::from(vec![7u8; LARGE_PART]);
        let mut parts = vec![Bytes::from_static(b"moof")];
        parts.push(large.clone());
        // 300 interleaved-sample slices of 500 bytes: 150,000 bytes.
        parts.extend((0..300u32).map(|i| Bytes::from(vec![i as u8; 500])));
        parts.push(large.clone());
        let whole: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();

        let got = gather_small_parts(parts);
        let sizes: Vec<usize> = got.iter().map(Bytes::len).collect();
        // The header alone (its neighbour is large), the large part untouched, the small
        // slices in parts of at most 64 KiB, the last large part untouched.
        assert_eq!(sizes, [4, LARGE_PART, 65_500, 65_500, 19_000, LARGE_PART]);
        assert_eq!(
            got[1].as_ptr(),
            large.as_ptr(),
            "large parts are not copied"
        );
        let joined: Vec<u8> = got.iter().flat_map(|p| p.iter().copied()).collect();
        assert_eq!(joined, whole);

        // Nothing to gather: the same parts back.
        let contiguous = vec![Bytes::from_static(b"moof"), large.clone()];
        assert_eq!(gather_small_parts(contiguous.clone()), contiguous);
    }
}
