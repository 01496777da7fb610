//! A tiny big-endian box writer: open a box, write fields, close it and its size is patched.

/// Appends boxes to a byte buffer. `open` returns a mark that `close` needs.
#[derive(Debug, Default)]
pub struct BoxWriter {
    pub buf: Vec<u8>,
}

/// Where an open box started.
#[must_use]
#[derive(Debug, Clone, Copy)]
pub struct Mark(usize);

impl BoxWriter {
    pub fn with_capacity(n: usize) -> Self {
        BoxWriter {
            buf: Vec::with_capacity(n),
        }
    }

    pub fn open(&mut self, kind: &[u8; 4]) -> Mark {
        let mark = Mark(self.buf.len());
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(kind);
        mark
    }

    pub fn open_full(&mut self, kind: &[u8; 4], version: u8, flags: u32) -> Mark {
        let mark = self.open(kind);
        self.u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
        mark
    }

    /// Patches the size of the box opened at `mark`. Boxes we write are far below 4 GiB.
    pub fn close(&mut self, mark: Mark) {
        let size = (self.buf.len() - mark.0) as u32;
        self.buf[mark.0..mark.0 + 4].copy_from_slice(&size.to_be_bytes());
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    pub fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sizes_are_patched() {
        let mut w = BoxWriter::default();
        let outer = w.open(b"moov");
        let inner = w.open_full(b"mvhd", 1, 0);
        w.u32(7);
        w.close(inner);
        w.close(outer);
        assert_eq!(&w.buf[0..4], &24u32.to_be_bytes());
        assert_eq!(&w.buf[8..12], &16u32.to_be_bytes());
        assert_eq!(&w.buf[16..20], &[1, 0, 0, 0]);
    }
}
