//! Writing the ASCII text of playlists and manifests, which are built on every request.
//!
//! A 100-segment playlist is a few hundred short pieces (tags, digits, file names). Appended
//! to a `Vec` one by one, each piece pays a capacity check and a `memcpy` call, which cost
//! more than the bytes themselves. [`AsciiWriter`] stages pieces in a buffer on the stack:
//! tags of a size known at compile time are copied inline, integers are written digit by
//! digit in place, pieces that repeat line after line ([`Piece`], [`Counter`]) are copied
//! whole, and the output grows by one copy per kilobyte or so.

/// Bytes staged before they are appended to the output.
const STAGE: usize = 1024;

/// Longest `str` staged byte by byte; longer ones go straight to the output.
const SHORT_STR: usize = 16;

/// "00", "01", ... "99": two decimal digits a lookup.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes ASCII text into a `Vec<u8>`, staging it on the stack.
pub(crate) struct AsciiWriter {
    out: Vec<u8>,
    stage: [u8; STAGE],
    len: usize,
}

impl AsciiWriter {
    /// A writer whose output starts with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        AsciiWriter {
            out: Vec::with_capacity(capacity),
            stage: [0; STAGE],
            len: 0,
        }
    }

    /// Makes room for `n` more staged bytes (`n` at most [`STAGE`]).
    #[inline(always)]
    fn room(&mut self, n: usize) {
        if self.len + n > STAGE {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.out.extend_from_slice(&self.stage[..self.len]);
        self.len = 0;
    }

    /// A piece whose length is known at compile time (a tag, a separator).
    #[inline(always)]
    pub(crate) fn lit<const N: usize>(&mut self, piece: &[u8; N]) {
        if N > STAGE {
            self.flush();
            self.out.extend_from_slice(piece);
            return;
        }
        self.room(N);
        self.stage[self.len..self.len + N].copy_from_slice(piece);
        self.len += N;
    }

    /// Any text: short text is staged, long text appended directly.
    #[inline]
    pub(crate) fn str(&mut self, text: &str) {
        let bytes = text.as_bytes();
        if bytes.len() > SHORT_STR {
            self.flush();
            self.out.extend_from_slice(bytes);
            return;
        }
        self.room(SHORT_STR);
        for (slot, &b) in self.stage[self.len..].iter_mut().zip(bytes) {
            *slot = b;
        }
        self.len += bytes.len();
    }

    /// `value` in decimal, two digits a step (MPD timelines and byte ranges write hundreds
    /// of numbers of 6 to 9 digits).
    #[inline]
    pub(crate) fn u64(&mut self, value: u64) {
        let digits = value.checked_ilog10().unwrap_or(0) as usize + 1;
        self.room(digits);
        let slots = &mut self.stage[self.len..self.len + digits];
        let mut v = value;
        let mut end = digits;
        while end >= 2 {
            let pair = (v % 100) as usize * 2;
            v /= 100;
            slots[end - 2..end].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
            end -= 2;
        }
        if end == 1 {
            slots[0] = b'0' + v as u8;
        }
        self.len += digits;
    }

    /// A [`Piece`]: all `N` bytes are copied (a fixed-size copy, inlined), and its length
    /// kept.
    #[inline(always)]
    pub(crate) fn piece<const N: usize>(&mut self, piece: &Piece<N>) {
        if N > STAGE {
            self.flush();
            self.out.extend_from_slice(piece.as_bytes());
            return;
        }
        self.room(N);
        self.stage[self.len..self.len + N].copy_from_slice(&piece.bytes);
        self.len += piece.len;
    }

    /// The bytes written.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }

    /// The text written (every piece came from `str` or ASCII, so it is UTF-8).
    pub(crate) fn finish_string(self) -> String {
        String::from_utf8(self.finish())
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// Up to `N` bytes of text in a fixed array, for pieces that repeat line after line (a
/// file extension, an `EXTINF` tag whose duration did not change).
#[derive(Clone, Copy)]
pub(crate) struct Piece<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Piece<N> {
    fn default() -> Self {
        Piece {
            bytes: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> Piece<N> {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Appends `text`; false (and nothing appended) when it does not fit.
    pub(crate) fn push(&mut self, text: &[u8]) -> bool {
        let Some(slots) = self.bytes.get_mut(self.len..self.len + text.len()) else {
            return false;
        };
        slots.copy_from_slice(text);
        self.len += text.len();
        true
    }
}

/// `value` in decimal, as a [`Piece`].
pub(crate) fn decimal(value: u64) -> Piece<20> {
    let len = value.checked_ilog10().unwrap_or(0) as usize + 1;
    let mut piece = Piece {
        bytes: [0; 20],
        len,
    };
    let mut v = value;
    for slot in piece.bytes[..len].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    piece
}

/// Most digits a [`Counter`] counts up in a register (one `u64` of ASCII digits).
const COUNTER_DIGITS: usize = 8;

/// A decimal number counted up in place: segment numbers go up one at a time, so most need
/// one digit changed rather than a conversion. The digits live in one `u64` (the first
/// digit in the lowest byte) and are written with one 8-byte store: changing a digit in a
/// byte array and then copying the array stalled on store forwarding, a third of a media
/// playlist's time. Numbers of more than 8 digits are converted each time.
pub(crate) struct Counter {
    value: u64,
    digits: u64,
    len: usize,
}

impl Counter {
    pub(crate) fn new(value: u64) -> Self {
        let mut c = Counter {
            value,
            digits: 0,
            len: 0,
        };
        c.convert();
        c
    }

    fn convert(&mut self) {
        let piece = decimal(self.value);
        self.len = piece.len;
        let mut word = [0u8; 8];
        if let Some(first) = piece.bytes.get(..COUNTER_DIGITS) {
            word.copy_from_slice(first);
        }
        self.digits = u64::from_le_bytes(word);
    }

    /// Makes the counter `value`: a carry through the last digits when it is one more
    /// than before, else a conversion.
    #[inline]
    pub(crate) fn set(&mut self, value: u64) {
        let next = value == self.value.wrapping_add(1) && value != 0;
        self.value = value;
        if !next || self.len > COUNTER_DIGITS {
            self.convert();
            return;
        }
        for k in (0..self.len).rev() {
            let shift = 8 * k;
            if (self.digits >> shift) & 0xff < u64::from(b'9') {
                self.digits += 1 << shift;
                return;
            }
            self.digits = (self.digits & !(0xff << shift)) | (u64::from(b'0') << shift);
        }
        // Every digit was 9: one more digit.
        self.convert();
    }
}

impl AsciiWriter {
    /// The counter's digits.
    #[inline]
    pub(crate) fn counter(&mut self, c: &Counter) {
        if c.len > COUNTER_DIGITS {
            self.u64(c.value);
            return;
        }
        self.room(COUNTER_DIGITS);
        self.stage[self.len..self.len + COUNTER_DIGITS].copy_from_slice(&c.digits.to_le_bytes());
        self.len += c.len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_agree_with_conversion() {
        let mut values: Vec<u64> = (0..1000).collect();
        for p in 1..20 {
            let t = 10u64.pow(p);
            values.extend([t - 1, t, t + 1, t + t / 3]);
        }
        values.push(u64::MAX);
        for v in values {
            let mut w = AsciiWriter::with_capacity(0);
            w.u64(v);
            assert_eq!(w.finish_string(), v.to_string());
        }
    }

    #[test]
    fn writes_integers_tags_and_text() {
        let mut w = AsciiWriter::with_capacity(0);
        for v in [0, 7, 10, 99, 100, 12_345, u64::MAX] {
            w.u64(v);
            w.lit(b",");
        }
        w.str("ab");
        w.str("a longer piece of text than sixteen bytes");
        w.str("");
        assert_eq!(
            w.finish_string(),
            "0,7,10,99,100,12345,18446744073709551615,ab\
             a longer piece of text than sixteen bytes"
        );
    }

    /// Output far longer than the stage comes out whole and in order.
    #[test]
    fn output_longer_than_the_stage_is_whole() {
        let mut w = AsciiWriter::with_capacity(0);
        let mut expected = String::new();
        for i in 0..5_000u64 {
            w.lit(b"#EXTINF:");
            w.u64(i);
            w.str(".m4s");
            w.lit(&[b'\n'; 1]);
            expected.push_str(&format!("#EXTINF:{i}.m4s\n"));
        }
        w.lit(&[b'x'; 2 * STAGE]);
        expected.push_str(&"x".repeat(2 * STAGE));
        assert_eq!(w.finish_string(), expected);
    }

    /// Counted up or set anywhere, a counter shows what a conversion shows.
    #[test]
    fn counters_agree_with_conversion() {
        let mut c = Counter::new(0);
        let values = (0..2_000u64).chain(99_999_990..100_000_010).chain([
            9_999,
            10_000,
            10_001,
            5,
            6,
            99_999,
            100_000,
            u64::MAX - 1,
            u64::MAX,
            0,
            1,
        ]);
        for v in values {
            c.set(v);
            let mut w = AsciiWriter::with_capacity(0);
            w.lit(b"<");
            w.counter(&c);
            w.lit(b">");
            assert_eq!(w.finish_string(), format!("<{v}>"));
            assert_eq!(decimal(v).as_bytes(), v.to_string().as_bytes());
        }
    }

    #[test]
    fn pieces_hold_at_most_their_size() {
        let mut piece = Piece::<8>::default();
        assert!(piece.push(b".m4s"));
        assert!(!piece.push(b"longer"));
        assert!(piece.push(b"\n"));
        let mut w = AsciiWriter::with_capacity(0);
        w.piece(&piece);
        w.piece(&Piece::<8>::default());
        assert_eq!(w.finish_string(), ".m4s\n");
    }
}
