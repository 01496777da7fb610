//! HLS: every URI line, and the `URI` (and `SERVER-URI`) attribute of the tags that have one.

use super::*;

pub(super) fn splice_hls(s: &mut Splicer<'_>) {
    let src = s.src;
    let mut pos = if src.starts_with(BOM) { BOM.len() } else { 0 };
    while pos < src.len() {
        let end = find(src, pos, b'\n').unwrap_or(src.len());
        let line = src.get(pos..end).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.first() {
            None => {}
            Some(b'#') if line.starts_with(b"#EXT-X-") => splice_attributes(s, pos, line),
            // Comments and tags without attribute lists (`#EXTINF`).
            Some(b'#') => {}
            Some(_) => {
                if let Some(t) = target(line, false) {
                    s.insert(pos + t.at, t.separator, false);
                }
            }
        }
        pos = end + 1;
    }
}

/// The `URI` (and `SERVER-URI`) attribute of a tag line that starts at `line_start`,
/// walking its attribute list (RFC 8216 4.2: `NAME=value` separated by commas, a value
/// quoted or not). Stops at anything else: a tag whose value is not an attribute list.
fn splice_attributes(s: &mut Splicer<'_>, line_start: usize, line: &[u8]) {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return;
    };
    let mut i = colon + 1;
    loop {
        while line.get(i) == Some(&b' ') {
            i += 1;
        }
        let name_start = i;
        while line
            .get(i)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            i += 1;
        }
        if i == name_start || line.get(i) != Some(&b'=') {
            return;
        }
        let name = line.get(name_start..i).unwrap_or_default();
        i += 1;
        if line.get(i) == Some(&b'"') {
            let value_start = i + 1;
            let Some(value_end) = find(line, value_start, b'"') else {
                return;
            };
            if name == b"URI" || name == b"SERVER-URI" {
                let value = line.get(value_start..value_end).unwrap_or_default();
                if let Some(t) = target(value, false) {
                    s.insert(line_start + value_start + t.at, t.separator, false);
                }
            }
            i = value_end + 1;
        } else {
            while line.get(i).is_some_and(|&b| b != b',') {
                i += 1;
            }
        }
        if line.get(i) != Some(&b',') {
            return;
        }
        i += 1;
    }
}
