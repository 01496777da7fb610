//! DASH MPD: the URL attributes and URL-valued element texts, found by a light scan of the
//! XML (start tags, comments, CDATA, processing instructions and doctypes told apart).

use super::*;

/// The MPD elements whose attributes or text name URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    SegmentTemplate,
    SegmentUrl,
    BaseUrl,
    /// `Location`, `PatchLocation`.
    Location,
    /// `Laurl`, `laurl`.
    LicenseUrl,
    /// The URL type's elements: `Initialization`, `RepresentationIndex`,
    /// `BitstreamSwitching`.
    UrlType,
    Other,
}

impl Element {
    fn of(local_name: &[u8]) -> Element {
        match local_name {
            b"SegmentTemplate" => Element::SegmentTemplate,
            b"SegmentURL" => Element::SegmentUrl,
            b"BaseURL" => Element::BaseUrl,
            b"Location" | b"PatchLocation" => Element::Location,
            b"Initialization" | b"RepresentationIndex" | b"BitstreamSwitching" => Element::UrlType,
            n if n.eq_ignore_ascii_case(b"laurl") => Element::LicenseUrl,
            _ => Element::Other,
        }
    }

    /// Whether the attribute `name` is a URL, and whether a template.
    fn url_attribute(self, name: &[u8]) -> Option<UrlKind> {
        match (self, name) {
            (Element::UrlType, b"sourceURL") => Some(UrlKind::Plain),
            (Element::SegmentTemplate, b"media" | b"initialization" | b"index") => {
                Some(UrlKind::Template)
            }
            (Element::SegmentUrl, b"media" | b"index") => Some(UrlKind::Plain),
            (Element::LicenseUrl, b"licenseUrl") => Some(UrlKind::Plain),
            _ => None,
        }
    }

    fn text_is_url(self) -> bool {
        matches!(
            self,
            Element::BaseUrl | Element::Location | Element::LicenseUrl
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlKind {
    Plain,
    Template,
}

pub(super) fn splice_mpd(s: &mut Splicer<'_>) {
    let src = s.src;
    let mut pos = 0;
    while let Some(lt) = find(src, pos, b'<') {
        let rest = src.get(lt..).unwrap_or_default();
        pos = if rest.starts_with(b"<!--") {
            after(src, lt + 4, b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            after(src, lt + 9, b"]]>")
        } else if rest.starts_with(b"<?") {
            after(src, lt + 2, b"?>")
        } else if rest.starts_with(b"<!") {
            after_doctype(src, lt + 2)
        } else if rest.starts_with(b"</") {
            after(src, lt + 2, b">")
        } else {
            start_tag(s, lt)
        };
    }
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Reads the start tag at `lt`, splicing its URL attributes and, for an element whose text
/// is a URL, that text. Returns where to go on (past `lt` whatever the bytes).
fn start_tag(s: &mut Splicer<'_>, lt: usize) -> usize {
    let src = s.src;
    let mut i = lt + 1;
    while src
        .get(i)
        .is_some_and(|&b| !is_xml_space(b) && b != b'>' && b != b'/')
    {
        i += 1;
    }
    let name = src.get(lt + 1..i).unwrap_or_default();
    if name.is_empty() {
        return lt + 1;
    }
    let local_name = name.rsplit(|&b| b == b':').next().unwrap_or(name);
    let element = Element::of(local_name);
    if element == Element::Other {
        // Nothing to read in it, and its attribute values cannot hold a `<`: the next one
        // starts the next markup.
        return i;
    }
    loop {
        while src.get(i).is_some_and(|&b| is_xml_space(b)) {
            i += 1;
        }
        match src.get(i) {
            None => return src.len(),
            Some(b'>') => {
                i += 1;
                break;
            }
            // An empty element: no text.
            Some(b'/') => return i + 1,
            Some(_) => {}
        }
        let name_start = i;
        while src
            .get(i)
            .is_some_and(|&b| !is_xml_space(b) && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let attribute = src.get(name_start..i).unwrap_or_default();
        while src.get(i).is_some_and(|&b| is_xml_space(b)) {
            i += 1;
        }
        if src.get(i) != Some(&b'=') {
            return i.max(lt + 1);
        }
        i += 1;
        while src.get(i).is_some_and(|&b| is_xml_space(b)) {
            i += 1;
        }
        let Some(&quote) = src.get(i).filter(|&&q| q == b'"' || q == b'\'') else {
            return i;
        };
        let value_start = i + 1;
        let Some(value_end) = find(src, value_start, quote) else {
            return src.len();
        };
        if let Some(kind) = element.url_attribute(attribute) {
            let value = src.get(value_start..value_end).unwrap_or_default();
            if let Some(t) = target(value, true) {
                s.insert(value_start + t.at, t.separator, kind == UrlKind::Template);
            }
        }
        i = value_end + 1;
    }
    if element.text_is_url() {
        // Only text alone: an element with children, a comment or CDATA is left as it is.
        let text_end = find(src, i, b'<').unwrap_or(src.len());
        if src.get(text_end..).is_some_and(|r| r.starts_with(b"</")) {
            let text = src.get(i..text_end).unwrap_or_default();
            if let Some(t) = target(text, true) {
                if !(element == Element::BaseUrl && names_directory(text)) {
                    s.insert(i + t.at, t.separator, false);
                }
            }
        }
    }
    i
}

/// The position just after the first `pattern` at or after `from`, or the end.
fn after(s: &[u8], from: usize, pattern: &[u8]) -> usize {
    let Some(&first) = pattern.first() else {
        return from;
    };
    let mut at = from;
    while let Some(p) = find(s, at, first) {
        if s.get(p..).is_some_and(|r| r.starts_with(pattern)) {
            return p + pattern.len();
        }
        at = p + 1;
    }
    s.len()
}

/// Past a `<!DOCTYPE ...>` whose `<!` ends before `from`, internal subset included.
fn after_doctype(s: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut i = from;
    while let Some(&b) = s.get(i) {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'>' if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    s.len()
}
