//! Reading ISO BMFF boxes out of a byte slice: box headers, children, and the fields inside
//! a box, with every error naming the box path and absolute file offset.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// A four-character box or codec code.
pub type FourCc = [u8; 4];

/// Shows a four-character code as text, escaping bytes that are not printable ASCII.
pub fn fourcc_str(code: &FourCc) -> String {
    code.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

/// One box found inside a slice: its type, where it is, and its payload (after the header).
#[derive(Debug, Clone)]
pub struct Mp4Box<'a> {
    pub kind: FourCc,
    /// Path from the top of the file, such as `moov/trak[1]/mdia`.
    pub path: String,
    /// Absolute file offset of the box header.
    pub offset: u64,
    /// Absolute file offset of the payload.
    pub payload_offset: u64,
    pub payload: &'a [u8],
}

/// The header of a box: its type, total size and header length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    pub kind: FourCc,
    /// Total size including the header; `None` when the box runs to the end of its container.
    pub size: Option<u64>,
    pub header_len: u8,
}

/// Parses a box header from the start of `data`, or returns `Ok(None)` if `data` is too short
/// to hold one.
pub fn parse_box_header(data: &[u8], path: &str, offset: u64) -> Result<Option<BoxHeader>> {
    if data.len() < 8 {
        return Ok(None);
    }
    let size32 = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let kind = [data[4], data[5], data[6], data[7]];
    let (size, header_len) = match size32 {
        0 => (None, 8u8),
        1 => {
            if data.len() < 16 {
                return Ok(None);
            }
            let mut large = [0u8; 8];
            large.copy_from_slice(&data[8..16]);
            (Some(u64::from_be_bytes(large)), 16u8)
        }
        n => (Some(u64::from(n)), 8u8),
    };
    if let Some(size) = size {
        if size < u64::from(header_len) {
            return Err(Error::malformed(
                &join_path(path, &kind, None),
                offset,
                format!("box size {size} is smaller than its {header_len}-byte header"),
            ));
        }
    }
    Ok(Some(BoxHeader {
        kind,
        size,
        header_len,
    }))
}

fn join_path(parent: &str, kind: &FourCc, index: Option<usize>) -> String {
    let name = fourcc_str(kind);
    let name = match index {
        Some(i) => format!("{name}[{i}]"),
        None => name,
    };
    if parent.is_empty() {
        name
    } else {
        format!("{parent}/{name}")
    }
}

/// Most boxes one container may hold. Real containers hold a handful (a `moov` with many
/// tracks, a few dozen); the cap keeps a hostile `moov` of millions of 8-byte boxes from
/// costing time and memory (a path string per box) before it is refused.
pub const MAX_CHILDREN: usize = 10_000;

/// Splits `data` (which starts at absolute offset `base`) into the boxes it holds. Repeated
/// box types get an index in their path (`trak[0]`, `trak[1]`).
pub fn parse_children<'a>(data: &'a [u8], base: u64, parent: &str) -> Result<Vec<Mp4Box<'a>>> {
    let mut raw = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let offset = base + pos as u64;
        if raw.len() == MAX_CHILDREN {
            return Err(Error::malformed(
                parent,
                offset,
                format!("more than {MAX_CHILDREN} boxes in one container"),
            ));
        }
        let rest = &data[pos..];
        let header = parse_box_header(rest, parent, offset)?.ok_or_else(|| {
            Error::malformed(
                parent,
                offset,
                format!("{} trailing bytes are too few for a box header", rest.len()),
            )
        })?;
        let size = match header.size {
            Some(size) => size,
            None => rest.len() as u64,
        };
        if size > rest.len() as u64 {
            return Err(Error::malformed(
                &join_path(parent, &header.kind, None),
                offset,
                format!(
                    "box size {size} runs past the end of its container ({} bytes left)",
                    rest.len()
                ),
            ));
        }
        let size = size as usize;
        let header_len = usize::from(header.header_len);
        raw.push((header.kind, offset, pos + header_len, pos + size));
        pos += size;
    }
    // How often each type occurs, then a running index per repeated type: one pass each.
    let mut totals: HashMap<FourCc, (usize, usize)> = HashMap::new();
    for r in &raw {
        totals.entry(r.0).or_default().0 += 1;
    }
    let mut boxes = Vec::with_capacity(raw.len());
    for &(kind, offset, start, end) in &raw {
        let index = totals.get_mut(&kind).and_then(|(total, seen)| {
            let index = *seen;
            *seen += 1;
            (*total > 1).then_some(index)
        });
        boxes.push(Mp4Box {
            kind,
            path: join_path(parent, &kind, index),
            offset,
            payload_offset: base + start as u64,
            payload: &data[start..end],
        });
    }
    Ok(boxes)
}

impl<'a> Mp4Box<'a> {
    /// The boxes inside this one.
    pub fn children(&self) -> Result<Vec<Mp4Box<'a>>> {
        parse_children(self.payload, self.payload_offset, &self.path)
    }

    /// The boxes inside this one after `skip` bytes of fields (sample entries, `stsd`).
    pub fn children_after(&self, skip: usize) -> Result<Vec<Mp4Box<'a>>> {
        let data = self.payload.get(skip..).ok_or_else(|| {
            Error::malformed(
                &self.path,
                self.payload_offset,
                format!(
                    "payload of {} bytes is shorter than its {skip} bytes of fields",
                    self.payload.len()
                ),
            )
        })?;
        parse_children(data, self.payload_offset + skip as u64, &self.path)
    }

    /// A field reader positioned at the start of the payload.
    pub fn fields(&self) -> Fields<'a> {
        Fields {
            data: self.payload,
            pos: 0,
            base: self.payload_offset,
            path: self.path.clone(),
        }
    }
}

/// Finds the first child of `kind`.
pub fn find<'b, 'a>(boxes: &'b [Mp4Box<'a>], kind: &FourCc) -> Option<&'b Mp4Box<'a>> {
    boxes.iter().find(|b| &b.kind == kind)
}

/// Finds the first child of `kind`, or fails naming the parent and the missing box.
pub fn require<'b, 'a>(
    boxes: &'b [Mp4Box<'a>],
    kind: &FourCc,
    parent: &str,
    parent_offset: u64,
) -> Result<&'b Mp4Box<'a>> {
    find(boxes, kind).ok_or_else(|| {
        Error::malformed(
            parent,
            parent_offset,
            format!("required box '{}' is missing", fourcc_str(kind)),
        )
    })
}

/// Reads big-endian fields from a box payload; running past the end is an error that names
/// the box and offset.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    path: String,
}

impl<'a> Fields<'a> {
    /// Absolute file offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// An error at the current position.
    pub fn error(&self, reason: impl Into<String>) -> Error {
        Error::malformed(&self.path, self.offset(), reason)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(self.error(format!(
                "needs {n} more bytes but only {} remain in the box",
                self.remaining()
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self) -> Result<u32> {
        let b = self.bytes(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u32(&mut self) -> Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub fn fourcc(&mut self) -> Result<FourCc> {
        let b = self.bytes(4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    /// Reads the version and flags of a full box.
    pub fn version_flags(&mut self) -> Result<(u8, u32)> {
        let version = self.u8()?;
        let flags = self.u24()?;
        Ok((version, flags))
    }

    /// Reads an entry count and checks that `entry_size`-byte entries of that count fit in
    /// the rest of the box, so a hostile count cannot make us allocate.
    pub fn entry_count(&mut self, entry_size: usize) -> Result<usize> {
        let count = self.u32()? as usize;
        let needed = count.checked_mul(entry_size);
        match needed {
            Some(n) if n <= self.remaining() => Ok(count),
            _ => Err(self.error(format!(
                "entry count {count} of {entry_size}-byte entries exceeds the {} bytes left in the box",
                self.remaining()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mk(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn repeated_boxes_get_indexed_paths() {
        let mut data = mk(b"trak", &[]);
        data.extend(mk(b"trak", &[1, 2]));
        data.extend(mk(b"udta", &[]));
        let boxes = parse_children(&data, 100, "moov").unwrap();
        let paths: Vec<_> = boxes.iter().map(|b| b.path.as_str()).collect();
        assert_eq!(paths, ["moov/trak[0]", "moov/trak[1]", "moov/udta"]);
        assert_eq!(boxes[1].offset, 108);
        assert_eq!(boxes[1].payload, &[1, 2]);
    }

    #[test]
    fn box_past_end_names_path_and_offset() {
        let mut data = mk(b"free", &[0; 4]);
        data.extend_from_slice(&1000u32.to_be_bytes());
        data.extend_from_slice(b"stsz");
        let err = parse_children(&data, 0x10, "moov").unwrap_err().to_string();
        assert!(err.contains("moov/stsz at 0x1c"), "{err}");
        assert!(err.contains("runs past the end"), "{err}");
    }

    #[test]
    fn size_smaller_than_header_is_rejected() {
        let mut data = 4u32.to_be_bytes().to_vec();
        data.extend_from_slice(b"moov");
        assert!(parse_children(&data, 0, "").is_err());
    }

    #[test]
    fn largesize_header() {
        let mut data = 1u32.to_be_bytes().to_vec();
        data.extend_from_slice(b"mdat");
        data.extend_from_slice(&20u64.to_be_bytes());
        data.extend_from_slice(&[9; 4]);
        let boxes = parse_children(&data, 0, "").unwrap();
        assert_eq!(boxes[0].payload, &[9; 4]);
    }

    #[test]
    fn repeated_types_are_indexed_and_a_flood_of_boxes_is_refused() {
        let empty = |kind: &[u8; 4]| {
            let mut b = 8u32.to_be_bytes().to_vec();
            b.extend_from_slice(kind);
            b
        };
        let data: Vec<u8> = [b"trak", b"mvhd", b"trak", b"udta", b"trak"]
            .iter()
            .flat_map(|k| empty(k))
            .collect();
        let boxes = parse_children(&data, 100, "moov").unwrap();
        let paths: Vec<&str> = boxes.iter().map(|b| b.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "moov/trak[0]",
                "moov/mvhd",
                "moov/trak[1]",
                "moov/udta",
                "moov/trak[2]"
            ]
        );
        assert_eq!(boxes[2].offset, 116);

        // A million 8-byte boxes: refused at the cap, before a path is made for any.
        let flood: Vec<u8> = (0..1_000_000).flat_map(|_| empty(b"free")).collect();
        let err = parse_children(&flood, 0, "moov").unwrap_err().to_string();
        assert!(err.contains("more than 10000 boxes"), "{err}");
    }

    #[test]
    fn hostile_entry_count_is_an_error_not_an_allocation() {
        let payload = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1];
        let b = Mp4Box {
            kind: *b"stsz",
            path: "stsz".into(),
            offset: 0,
            payload_offset: 8,
            payload: &payload,
        };
        let mut f = b.fields();
        let err = f.entry_count(4).unwrap_err().to_string();
        assert!(err.contains("entry count 4294967295"), "{err}");
    }
}
