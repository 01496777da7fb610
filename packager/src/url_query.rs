//! A query parameter in every URL of a manifest: [`append_query`] adds one `name=value`
//! pair (an access token, `cat=...`) to each URL an HLS playlist or a DASH MPD names, so a
//! token that came in a manifest request's query reaches every request the player makes
//! from that manifest: variant and rendition playlists, segments, init segments, keys and
//! licenses.
//!
//! Tokens are personal: they never enter the shared manifest bytes, their cache or their
//! ETag. This runs on each manifest response, after the cached bytes are fetched, so it is
//! built to cost microseconds: one pass over the bytes finds the URLs by a few syntactic
//! rules (no regex, no XML or playlist parser, no intermediate strings) and notes where the
//! pair goes; then the output is written in one allocation of its exact size, the source
//! copied run by run. A manifest that names no URL to change comes back borrowed, without
//! an allocation.
//!
//! # What is changed
//!
//! HLS (RFC 8216):
//! - every URI line: a line that is not blank and does not start with `#`;
//! - the `URI` attribute of every `#EXT-X-` tag (`EXT-X-KEY`, `EXT-X-SESSION-KEY`,
//!   `EXT-X-MAP`, `EXT-X-MEDIA`, `EXT-X-I-FRAME-STREAM-INF`, `EXT-X-PART`,
//!   `EXT-X-PRELOAD-HINT`, `EXT-X-RENDITION-REPORT`, `EXT-X-SESSION-DATA`, ...) and the
//!   `SERVER-URI` of `EXT-X-CONTENT-STEERING` (the steering manifest is fetched from it).
//!   Attribute lists are walked as RFC 8216 4.2 writes them, so a `URI="..."` inside
//!   another attribute's quoted string, or in an `EXTINF` title, is not mistaken for one.
//!   Interstitials' client attributes (`X-ASSET-URI`, `X-ASSET-LIST`) name ad servers and
//!   are left to whoever writes them.
//!
//! DASH (ISO/IEC 23009-1), elements matched by local name (any namespace prefix):
//! - `SegmentTemplate@media`, `@initialization` and `@index`; `SegmentURL@media` and
//!   `@index`; `@sourceURL` of the URL type's elements (`Initialization`,
//!   `RepresentationIndex`, `BitstreamSwitching`);
//! - the text of license URL elements, local name `Laurl` in any case (`dashif:Laurl`,
//!   `clearkey:Laurl`, `ms:laurl`), and the `licenseUrl` attribute of the last: the
//!   license request must carry the token too;
//! - the text of `Location` and `PatchLocation` (where an MPD is fetched again);
//! - the text of `BaseURL` when it names a resource, not when it is directory-like (below).
//!
//! `BaseURL`: a `BaseURL` whose path ends in `/` (or is a dot segment, or is empty, or is
//! just a host) is only a base against which other URLs are resolved, and resolution
//! (RFC 3986 5.2.2) drops a base's query as soon as the reference has a path: a token there
//! would reach no request, so those are left as they are, and the URLs resolved against
//! them carry the token themselves. A `BaseURL` that names a file is itself the request:
//! edgepack's own WebVTT Representation is `<BaseURL>sub/en.vtt</BaseURL>` with no segment
//! information (the player fetches exactly that URL), and an on-demand profile MPD names
//! each Representation's file in a `BaseURL` with `SegmentBase` byte ranges. Those get the
//! token. One that names a file but serves as a base (a `SegmentTemplate` beside it) gets a
//! query that resolution (RFC 3986, as dash.js, Shaka Player and ExoPlayer resolve) then
//! drops: harmless.
//!
//! Left alone everywhere: URLs with a scheme other than `http` or `https` (`skd://` for
//! FairPlay, `data:` for Widevine and PlayReady init data in HLS keys, `urn:`), empty
//! URLs, XML comments, CDATA sections, processing instructions and doctypes, `xlink:href`
//! (remote elements), and license URLs inside binary data (PlayReady's `mspr:pro`). Absolute
//! `http(s)` URLs get the token whatever their host, which is what a license server on
//! another host needs.
//!
//! # How
//!
//! The separator is `?` when the URL has no query, `&` when it has one (`&amp;` in the
//! MPD's XML), nothing when the query already ends in `?` or `&`. The pair goes before a
//! `#fragment`, else at the URL's end (before trailing whitespace, before a CR of a CRLF
//! line). DASH templates (`$RepresentationID$/$Number$.m4s`) just get it appended, with a
//! `$` of the pair doubled (`$$` is a template's literal `$`). In the MPD, character
//! references are read as the characters they stand for (`&amp;`, `&#63;` is a `?`,
//! `&#35;` a `#`). Every other byte comes out as it went in. A URL that already has a
//! parameter of the pair's name gets a second one: the manifests this runs on are the
//! packager's own, whose URLs carry no token.
//!
//! The pair is trusted to be percent-encoded already; a byte that may not appear in a
//! URL's query (a space, `"`, `#`, `<`, a control or non-ASCII byte, a `%` not followed by
//! two hex digits) is percent-encoded here rather than allowed to break the manifest's
//! syntax, and in the MPD `&` and `'` are escaped for XML.

use std::borrow::Cow;

/// Which manifest syntax the bytes are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestSyntax {
    /// An HLS playlist (multivariant or media), RFC 8216.
    Hls,
    /// A DASH MPD (XML), ISO/IEC 23009-1.
    Dash,
}

/// Returns `manifest` with `pair` (an already percent-encoded `name=value`, for example
/// `cat=abc`) added to the query of every URL the manifest names, as the module
/// documentation lists them. Borrowed when nothing changed: `pair` is empty or the manifest
/// names no such URL.
pub fn append_query<'a>(manifest: &'a [u8], syntax: ManifestSyntax, pair: &str) -> Cow<'a, [u8]> {
    if pair.is_empty() || manifest.is_empty() {
        return Cow::Borrowed(manifest);
    }
    let query = escape(pair.as_bytes(), needs_percent_encoding, percent_encode);
    match syntax {
        ManifestSyntax::Hls => {
            let mut s = Splicer::new(manifest);
            splice_hls(&mut s);
            s.finish(Separator::hls, &query, &query)
        }
        ManifestSyntax::Dash => {
            let xml = escape(
                &query,
                |s, i| matches!(s.get(i), Some(b'&' | b'\'')),
                xml_escape,
            );
            let template = escape(
                &xml,
                |s, i| s.get(i) == Some(&b'$'),
                |_, out| out.extend_from_slice(b"$$"),
            );
            let mut s = Splicer::new(manifest);
            splice_mpd(&mut s);
            s.finish(Separator::xml, &xml, &template)
        }
    }
}

/// The pass over a manifest notes where the pair goes; then the output is written in one
/// allocation of its exact size, the source copied run by run between insertions.
struct Splicer<'a> {
    src: &'a [u8],
    /// In order of position.
    insertions: Vec<Insertion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Insertion {
    /// Before `src[at]`.
    at: usize,
    separator: Separator,
    /// The pair as it goes into a DASH template.
    template: bool,
}

impl<'a> Splicer<'a> {
    fn new(src: &'a [u8]) -> Self {
        Splicer {
            src,
            insertions: Vec::new(),
        }
    }

    /// Notes an insertion before `src[at]`, after those noted already.
    fn insert(&mut self, at: usize, separator: Separator, template: bool) {
        if self.insertions.last().is_some_and(|last| last.at > at) || at > self.src.len() {
            debug_assert!(false, "insertion at {at} out of order");
            return;
        }
        if self.insertions.capacity() == 0 {
            // A guess (a 600-segment playlist is 10 kB); past it, the list doubles.
            self.insertions.reserve(self.src.len() / 32 + 16);
        }
        self.insertions.push(Insertion {
            at,
            separator,
            template,
        });
    }

    /// The output: `separators` spells a separator, `plain` and `template` the pair.
    fn finish(
        self,
        separators: impl Fn(Separator) -> &'static [u8],
        plain: &[u8],
        template: &[u8],
    ) -> Cow<'a, [u8]> {
        if self.insertions.is_empty() {
            return Cow::Borrowed(self.src);
        }
        let pair = |i: &Insertion| if i.template { template } else { plain };
        let added: usize = self
            .insertions
            .iter()
            .map(|i| separators(i.separator).len() + pair(i).len())
            .sum();
        let mut out = Vec::with_capacity(self.src.len() + added);
        let mut copied = 0;
        for i in &self.insertions {
            out.extend_from_slice(self.src.get(copied..i.at).unwrap_or_default());
            out.extend_from_slice(separators(i.separator));
            out.extend_from_slice(pair(i));
            copied = i.at;
        }
        out.extend_from_slice(self.src.get(copied..).unwrap_or_default());
        debug_assert_eq!(out.len(), self.src.len() + added);
        Cow::Owned(out)
    }
}

/// The separator before the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// The URL has no query.
    Question,
    /// The URL's query has something that does not end in `?` or `&`.
    And,
    /// The URL's query ends in `?` or `&`.
    None,
}

impl Separator {
    fn hls(self) -> &'static [u8] {
        match self {
            Separator::Question => b"?",
            Separator::And => b"&",
            Separator::None => b"",
        }
    }

    fn xml(self) -> &'static [u8] {
        match self {
            Separator::Question => b"?",
            Separator::And => b"&amp;",
            Separator::None => b"",
        }
    }
}

/// A URL worth a token: where the pair goes and after what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    /// Offset in the URL as written (before the fragment, or after the last non-space).
    at: usize,
    separator: Separator,
}

/// Reads `url` (as written: raw in HLS, XML-escaped in an MPD) and says where the pair
/// goes; `None` for an empty URL or one whose scheme is neither `http` nor `https`.
fn target(url: &[u8], xml: bool) -> Option<Target> {
    let (start, url) = trim(url)?;
    // Character references can only be there if a `&` is.
    let t = if xml && url.contains(&b'&') {
        read_url(url.len(), || Chars { s: url, at: 0 })
    } else {
        read_url(url.len(), || url.iter().copied().enumerate())
    }?;
    Some(Target {
        at: start + t.at,
        ..t
    })
}

/// `url` less leading and trailing ASCII whitespace, and where it starts; `None` if blank.
fn trim(url: &[u8]) -> Option<(usize, &[u8])> {
    let start = url.iter().position(|b| !b.is_ascii_whitespace())?;
    let end = url.iter().rposition(|b| !b.is_ascii_whitespace())? + 1;
    Some((start, url.get(start..end)?))
}

/// [`target`] of a trimmed URL of `len` bytes, given its characters with their offsets.
fn read_url<I: Iterator<Item = (usize, u8)>>(len: usize, chars: impl Fn() -> I) -> Option<Target> {
    if !scheme_is_http(chars()) {
        return None;
    }
    // The query (from the first `?`) and the fragment (from the first `#`).
    let mut query = false;
    let mut fragment = None;
    let mut last = 0u8;
    for (at, c) in chars() {
        match c {
            b'#' => {
                fragment = Some(at);
                break;
            }
            b'?' => query = true,
            _ => {}
        }
        last = c;
    }
    let separator = match (query, last) {
        (false, _) => Separator::Question,
        (true, b'?' | b'&') => Separator::None,
        (true, _) => Separator::And,
    };
    Some(Target {
        at: fragment.unwrap_or(len),
        separator,
    })
}

/// Whether a URL, given as its characters, has no scheme (a relative reference) or `http`
/// or `https`. A scheme (RFC 3986 3.1) is a letter, then letters, digits, `+`, `-` or `.`,
/// then `:`.
fn scheme_is_http(chars: impl Iterator<Item = (usize, u8)>) -> bool {
    let mut scheme = [0u8; 5];
    for (len, (_, c)) in chars.enumerate() {
        if c == b':' && len > 0 {
            // One longer than `https` is neither.
            return matches!(scheme.get(..len), Some(b"http" | b"https"));
        }
        let scheme_char = if len == 0 {
            c.is_ascii_alphabetic()
        } else {
            c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')
        };
        if !scheme_char {
            return true;
        }
        if let Some(s) = scheme.get_mut(len) {
            *s = c.to_ascii_lowercase();
        }
    }
    true
}

/// Whether an `http(s)` or relative URL only serves as a base: the part before its query
/// or fragment ends in `/`, is empty or ends in a dot segment, or the URL is just a host
/// (`https://cdn.example`, `//cdn.example`).
fn names_directory(url: &[u8]) -> bool {
    let Some((_, url)) = trim(url) else {
        return true;
    };
    let path_end = url
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(url.len());
    let path = url.get(..path_end).unwrap_or_default();
    let rest = ["https:", "http:"]
        .into_iter()
        .find_map(|scheme| {
            let head = path.get(..scheme.len())?;
            head.eq_ignore_ascii_case(scheme.as_bytes())
                .then(|| path.get(scheme.len()..))
                .flatten()
        })
        .unwrap_or(path);
    if let Some(authority) = rest.strip_prefix(b"//") {
        if !authority.contains(&b'/') {
            return true;
        }
    }
    let last_segment = rest.rsplit(|&b| b == b'/').next().unwrap_or_default();
    matches!(last_segment, b"" | b"." | b"..")
}

/// The characters of a URL in XML: bytes, and character references read as the character
/// they stand for (a non-ASCII one as 0x80). Each comes with its offset.
struct Chars<'a> {
    s: &'a [u8],
    at: usize,
}

impl Iterator for Chars<'_> {
    type Item = (usize, u8);

    fn next(&mut self) -> Option<(usize, u8)> {
        let at = self.at;
        let b = *self.s.get(at)?;
        if b == b'&' {
            if let Some((c, len)) = char_reference(self.s.get(at + 1..).unwrap_or_default()) {
                self.at += 1 + len;
                return Some((at, c));
            }
        }
        self.at += 1;
        Some((at, b))
    }
}

/// The character of an XML reference that follows a `&`, and the reference's length up to
/// and including its `;`. Non-ASCII characters read as 0x80.
fn char_reference(s: &[u8]) -> Option<(u8, usize)> {
    let semicolon = s.iter().take(12).position(|&b| b == b';')?;
    let name = s.get(..semicolon)?;
    let c = match name {
        b"amp" => b'&',
        b"lt" => b'<',
        b"gt" => b'>',
        b"quot" => b'"',
        b"apos" => b'\'',
        _ => {
            let digits = name.strip_prefix(b"#")?;
            let (digits, radix) = match digits.strip_prefix(b"x").or(digits.strip_prefix(b"X")) {
                Some(hex) => (hex, 16),
                None => (digits, 10),
            };
            let value = u32::from_str_radix(std::str::from_utf8(digits).ok()?, radix).ok()?;
            u8::try_from(value)
                .ok()
                .filter(u8::is_ascii)
                .unwrap_or(0x80)
        }
    };
    Some((c, semicolon + 1))
}

/// `s` with each byte for which `needs` holds (given `s` and the byte's offset) written by
/// `write`; borrowed when none does.
fn escape(
    s: &[u8],
    needs: impl Fn(&[u8], usize) -> bool,
    write: impl Fn(u8, &mut Vec<u8>),
) -> Cow<'_, [u8]> {
    if !(0..s.len()).any(|i| needs(s, i)) {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len() + 16);
    for (i, &b) in s.iter().enumerate() {
        if needs(s, i) {
            write(b, &mut out);
        } else {
            out.push(b);
        }
    }
    Cow::Owned(out)
}

/// Whether the byte at `i` of the pair may not appear in a URL's query as it is (RFC 3986
/// 3.4: unreserved, sub-delims, `:`, `@`, `/`, `?`, and the `%` of a percent-encoding).
fn needs_percent_encoding(s: &[u8], i: usize) -> bool {
    let Some(&b) = s.get(i) else {
        return false;
    };
    if b == b'%' {
        let hex = |at: usize| s.get(at).is_some_and(u8::is_ascii_hexdigit);
        return !(hex(i + 1) && hex(i + 2));
    }
    !(b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
        ))
}

fn percent_encode(b: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

fn xml_escape(b: u8, out: &mut Vec<u8>) {
    out.extend_from_slice(if b == b'&' { b"&amp;" } else { b"&apos;" });
}

/// The UTF-8 byte order mark, which some playlists start with.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn splice_hls(s: &mut Splicer<'_>) {
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

fn splice_mpd(s: &mut Splicer<'_>) {
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

/// The position of the first `byte` at or after `from`, looked for 8 bytes at a time: the
/// runs between one line or element and the next are short, so a word-at-a-time search
/// inlined here beats a call to a vectorized `memchr`, and a byte loop by 2 to 3 times.
#[inline]
fn find(s: &[u8], from: usize, byte: u8) -> Option<usize> {
    const LOW: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let rest = s.get(from..)?;
    let pattern = u64::from_le_bytes([byte; 8]);
    let mut words = rest.chunks_exact(8);
    let mut at = from;
    for word in words.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        // A zero byte where `byte` was; the lowest flag marks the first (a flag above a
        // real zero can be false, never one below it).
        let x = u64::from_le_bytes(bytes) ^ pattern;
        let zeros = x.wrapping_sub(LOW) & !x & HIGH;
        if zeros != 0 {
            return Some(at + (zeros.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let p = words.remainder().iter().position(|&b| b == byte)?;
    Some(at + p)
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use drm::cenc::Scheme;
    use drm::{ContentKey, ContentKeyPair, DrmSystem, Method, Signalling};

    use super::*;
    use crate::dash::write_mpd;
    use crate::hls::{
        cmaf_iframe_playlist, cmaf_media_playlist, subtitle_playlist, write_multivariant,
        HlsFlavor, VariantRates,
    };
    use crate::mp4::{next_top_level, parse_movie, TopLevelStep};
    use crate::presentation::{PackagingOptions, Presentation, SourceFile, SubtitleSource};
    use crate::protection::{KeyUrls, Protection};
    use crate::ts_package::{ts_media_playlist, ts_multivariant};

    const PAIR: &str = "cat=T0k";

    fn hls(manifest: &str, pair: &str) -> String {
        String::from_utf8(append_query(manifest.as_bytes(), ManifestSyntax::Hls, pair).into_owned())
            .unwrap()
    }

    fn mpd(manifest: &str, pair: &str) -> String {
        String::from_utf8(
            append_query(manifest.as_bytes(), ManifestSyntax::Dash, pair).into_owned(),
        )
        .unwrap()
    }

    /// The demo title (three video, two audio renditions) with English and French
    /// subtitles, planned as the daemon plans it.
    fn demo() -> Presentation {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/media/demo");
        let sources = [
            "audio_en",
            "audio_fr",
            "video_180p",
            "video_270p",
            "video_360p",
        ]
        .into_iter()
        .map(|name| {
            let file = std::fs::read(dir.join(format!("{name}.mp4"))).unwrap();
            let mut offset = 0;
            let (moov_at, moov_size) = loop {
                let header = &file[offset as usize..(offset as usize + 16).min(file.len())];
                match next_top_level(header, offset, file.len() as u64).unwrap() {
                    TopLevelStep::Next { offset: next } => offset = next,
                    TopLevelStep::Moov { offset, size } => break (offset, size),
                }
            };
            let moov = bytes::Bytes::copy_from_slice(
                &file[moov_at as usize..(moov_at + moov_size) as usize],
            );
            let movie = parse_movie(&moov, moov_at, file.len() as u64).unwrap();
            SourceFile {
                name: name.to_owned(),
                movie: Arc::new(movie),
            }
        })
        .collect();
        let subtitles = ["en", "fr"]
            .into_iter()
            .map(|language| {
                let name = format!("demo.{language}.vtt");
                let text = std::fs::read_to_string(dir.join(&name)).unwrap();
                SubtitleSource {
                    language: language.to_owned(),
                    vtt: Arc::new(crate::vtt::parse_vtt(&name, &text).unwrap()),
                    text: Arc::from(text),
                }
            })
            .collect();
        Presentation::build(sources, subtitles, PackagingOptions::default()).unwrap()
    }

    fn protection(method: Method) -> Protection {
        let kid = drm::derive::key_id_for("url-query");
        Protection {
            method,
            key: ContentKeyPair {
                kid,
                key: ContentKey([7; 16]),
            },
            signalling: Signalling::new(kid, Scheme::Cbcs, "url-query", &DrmSystem::ALL, None),
            urls: KeyUrls {
                key_path: "keys/k.key".into(),
                clearkey_license: "https://license.example/clearkey?asset=demo&v=2".into(),
                fairplay: "skd://k".into(),
            },
            raw_key_delivery: true,
        }
    }

    /// The output less every insertion of `PAIR` (with its separator) is the input.
    fn assert_only_insertions(input: &str, output: &str) {
        assert!(!input.contains(PAIR));
        let stripped = output
            .replace(&format!("&amp;{PAIR}"), "")
            .replace(&format!("?{PAIR}"), "")
            .replace(&format!("&{PAIR}"), "")
            .replace(PAIR, "");
        assert_eq!(stripped, input);
    }

    /// Checks a playlist the way a player reads it: every URI line and every `URI` value
    /// carries the token, but for `data:` and `skd:` URIs; returns how many URLs it counted.
    fn assert_hls_tokens(input: &str, output: &str) -> usize {
        assert_only_insertions(input, output);
        assert!(output.ends_with('\n'));
        let mut urls = 0;
        for line in output.lines() {
            if line.is_empty() {
                continue;
            }
            if !line.starts_with('#') {
                assert!(line.ends_with(PAIR), "{line}");
                assert_eq!(line.matches('?').count(), 1, "{line}");
                urls += 1;
                continue;
            }
            for value in line.split("URI=\"").skip(1) {
                let value = value.split('"').next().unwrap();
                if value.starts_with("data:") || value.starts_with("skd:") {
                    assert!(!value.contains(PAIR), "{line}");
                } else {
                    assert!(value.ends_with(PAIR), "{line}");
                    urls += 1;
                }
            }
        }
        assert_eq!(output.matches(PAIR).count(), urls);
        urls
    }

    /// The output is one allocation of its exact size.
    #[test]
    fn the_output_is_allocated_once_at_its_size() {
        let p = demo();
        let manifests = [
            (ManifestSyntax::Hls, cmaf_media_playlist(&p.video[0], None)),
            (ManifestSyntax::Hls, ts_multivariant(&p, None)),
            (
                ManifestSyntax::Dash,
                write_mpd(&p, Some(&protection(Method::Cenc))),
            ),
        ];
        for (syntax, manifest) in manifests {
            let Cow::Owned(out) = append_query(manifest.as_bytes(), syntax, PAIR) else {
                panic!("URLs to change");
            };
            assert_eq!(out.capacity(), out.len());
        }
    }

    #[test]
    fn cmaf_playlists_of_the_demo_title() {
        let p = demo();
        let rates = VariantRates {
            video: &|r| r.bandwidth,
            audio: &|r| r.bandwidth,
        };
        let multivariant = write_multivariant(&p, HlsFlavor::Cmaf, &rates, None);
        let out = hls(&multivariant, PAIR);
        // 2 audio + 2 subtitle EXT-X-MEDIA, 3 variants, 3 I-frame streams.
        assert_eq!(assert_hls_tokens(&multivariant, &out), 10);
        assert!(out.contains(",URI=\"sub/en/media.m3u8?cat=T0k\"\n"));
        assert!(out.contains(",URI=\"video_360p-v1/iframes.m3u8?cat=T0k\"\n"));
        assert!(out.contains("\nvideo_180p-v1/media.m3u8?cat=T0k\n"));

        let r = &p.video[0];
        let media = cmaf_media_playlist(r, None);
        let out = hls(&media, PAIR);
        assert_eq!(assert_hls_tokens(&media, &out), r.entries.len() + 1);
        assert!(out.contains("#EXT-X-MAP:URI=\"init.mp4?cat=T0k\"\n"));
        assert!(out.contains("\n1.m4s?cat=T0k\n"));

        let iframes = cmaf_iframe_playlist(r);
        let out = hls(&iframes, PAIR);
        assert_eq!(
            assert_hls_tokens(&iframes, &out),
            r.iframe_entries.len() + 1
        );

        let subtitles = subtitle_playlist(&p);
        let out = hls(&subtitles, PAIR);
        assert_eq!(
            assert_hls_tokens(&subtitles, &out),
            p.subtitle_segment_count()
        );
    }

    #[test]
    fn protected_cmaf_playlists_leave_data_and_skd_uris() {
        let p = demo();
        let rates = VariantRates {
            video: &|r| r.bandwidth,
            audio: &|r| r.bandwidth,
        };
        let pr = protection(Method::Cbcs);
        let multivariant = write_multivariant(&p, HlsFlavor::Cmaf, &rates, Some(&pr));
        let out = hls(&multivariant, PAIR);
        assert_hls_tokens(&multivariant, &out);
        assert!(out.contains("#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"keys/k.key?cat=T0k\","));
        assert!(out.contains("URI=\"skd://k\","));
        assert!(out.contains("URI=\"https://license.example/clearkey?asset=demo&v=2&cat=T0k\","));

        let media = cmaf_media_playlist(&p.video[1], Some(&pr));
        let out = hls(&media, PAIR);
        assert_hls_tokens(&media, &out);
        assert!(out.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"../keys/k.key?cat=T0k\","));
        assert!(out.contains("URI=\"data:text/plain;base64,"));
        assert!(out.contains("URI=\"data:text/plain;charset=UTF-16;base64,"));
        assert!(out.contains("URI=\"skd://k\","));
    }

    #[test]
    fn ts_playlists_of_the_demo_title() {
        let p = demo();
        for method in [Method::None, Method::Aes128, Method::SampleAes] {
            let pr = protection(method);
            let multivariant = ts_multivariant(&p, Some(&pr));
            let out = hls(&multivariant, PAIR);
            assert_hls_tokens(&multivariant, &out);
            let media = ts_media_playlist(&p.video[2], Some(&pr));
            let out = hls(&media, PAIR);
            let urls = assert_hls_tokens(&media, &out);
            let key_lines = usize::from(method != Method::None);
            assert_eq!(urls, p.video[2].entries.len() + key_lines, "{method:?}");
            if method != Method::None {
                assert!(out.contains("URI=\"../../keys/k.key?cat=T0k\""));
            }
        }
    }

    #[test]
    fn mpd_of_the_demo_title() {
        let p = demo();
        let manifest = write_mpd(&p, None);
        let out = mpd(&manifest, PAIR);
        assert_only_insertions(&manifest, &out);
        let renditions = p.video.len() + p.audio.len();
        assert_eq!(
            out.matches("initialization=\"").count(),
            out.matches("/init.mp4?cat=T0k\"").count()
        );
        assert_eq!(out.matches("/init.mp4?cat=T0k\"").count(), renditions);
        assert_eq!(out.matches("/$Number$.m4s?cat=T0k\"").count(), renditions);
        // The subtitle Representation's BaseURL is the file itself.
        assert!(out.contains("<BaseURL>sub/en.vtt?cat=T0k</BaseURL>"));
        assert!(out.contains("<BaseURL>sub/fr.vtt?cat=T0k</BaseURL>"));
        assert_eq!(out.matches(PAIR).count(), 2 * renditions + 2);
    }

    #[test]
    fn protected_mpd_carries_the_token_to_the_license() {
        let p = demo();
        let manifest = write_mpd(&p, Some(&protection(Method::Cenc)));
        let out = mpd(&manifest, PAIR);
        assert_only_insertions(&manifest, &out);
        let sets = 1 + p.audio.len();
        let laurl = "<dashif:Laurl>https://license.example/clearkey?asset=demo&amp;v=2&amp;cat=T0k</dashif:Laurl>";
        assert_eq!(out.matches(laurl).count(), sets);
        // pssh and PlayReady objects are base64, not URLs.
        assert_eq!(
            out.matches("</cenc:pssh>").count(),
            manifest.matches("</cenc:pssh>").count()
        );
        let renditions = p.video.len() + p.audio.len();
        assert_eq!(out.matches(PAIR).count(), 2 * renditions + sets + 2);
    }

    #[test]
    fn nothing_to_change_is_borrowed() {
        for syntax in [ManifestSyntax::Hls, ManifestSyntax::Dash] {
            assert!(matches!(
                append_query(b"", syntax, PAIR),
                Cow::Borrowed(b"")
            ));
            let text: &[u8] = b"#EXTM3U\n<MPD/>\n";
            let Cow::Borrowed(same) = append_query(text, syntax, "") else {
                panic!("an empty pair changes nothing");
            };
            assert!(std::ptr::eq(same, text));
        }
        let clear = b"#EXTM3U\n#EXT-X-VERSION:7\n\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k\"\n";
        assert!(matches!(
            append_query(clear, ManifestSyntax::Hls, PAIR),
            Cow::Borrowed(_)
        ));
        let mpd_text = b"<MPD><Period><AdaptationSet media=\"a.m4s\"/></Period></MPD>";
        assert!(matches!(
            append_query(mpd_text, ManifestSyntax::Dash, PAIR),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn hls_uri_lines_and_separators() {
        let input = concat!(
            "#EXTM3U\n",
            "a.m4s\n",
            "b.m4s?x=1\n",
            "c.m4s?\n",
            "d.m4s?x=1&\n",
            "e.m4s#t=10\n",
            "f.m4s?x=1#frag?not-query\n",
            "https://cdn.example/g.ts\n",
            "HTTP://cdn.example/h.ts\n",
            "//cdn.example/i.ts\n",
            "ftp://cdn.example/j.ts\n",
            "urn:x:k\n",
            "   \n",
            "# a comment URI=\"x.m4s\"\n",
            "#EXTINF:4.0,URI=\"title.m4s\"\n",
            "l.m4s",
        );
        let expected = concat!(
            "#EXTM3U\n",
            "a.m4s?cat=T0k\n",
            "b.m4s?x=1&cat=T0k\n",
            "c.m4s?cat=T0k\n",
            "d.m4s?x=1&cat=T0k\n",
            "e.m4s?cat=T0k#t=10\n",
            "f.m4s?x=1&cat=T0k#frag?not-query\n",
            "https://cdn.example/g.ts?cat=T0k\n",
            "HTTP://cdn.example/h.ts?cat=T0k\n",
            "//cdn.example/i.ts?cat=T0k\n",
            "ftp://cdn.example/j.ts\n",
            "urn:x:k\n",
            "   \n",
            "# a comment URI=\"x.m4s\"\n",
            "#EXTINF:4.0,URI=\"title.m4s\"\n",
            "l.m4s?cat=T0k",
        );
        assert_eq!(hls(input, PAIR), expected);
    }

    #[test]
    fn hls_crlf_lines_stay_crlf() {
        let input =
            "#EXTM3U\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXTINF:4,\r\n1.m4s\r\n\r\n2.m4s\r\n";
        assert_eq!(
            hls(input, PAIR),
            "#EXTM3U\r\n#EXT-X-MAP:URI=\"init.mp4?cat=T0k\"\r\n#EXTINF:4,\r\n1.m4s?cat=T0k\r\n\r\n2.m4s?cat=T0k\r\n"
        );
    }

    #[test]
    fn hls_a_byte_order_mark_is_not_a_uri_line() {
        let input = "\u{FEFF}#EXTM3U\na/media.m3u8\n";
        assert_eq!(hls(input, PAIR), "\u{FEFF}#EXTM3U\na/media.m3u8?cat=T0k\n");
    }

    #[test]
    fn hls_uri_attributes() {
        let input = concat!(
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x,URI=no\",URI=\"a/media.m3u8?lang=en\"\n",
            "#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"a\"\n",
            "v/media.m3u8\n",
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key?x=1\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n",
            "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"data:text/plain;base64,AAAA\",KEYID=0x00\n",
            "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin#k\"\n",
            "#EXT-X-PART:DURATION=1.0,URI=\"p1.mp4\",INDEPENDENT=YES\n",
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.mp4\",BYTERANGE-START=0\n",
            "#EXT-X-RENDITION-REPORT:URI=\"../v2/media.m3u8\",LAST-MSN=4\n",
            "#EXT-X-CONTENT-STEERING:SERVER-URI=\"https://steer.example/s.json\",PATHWAY-ID=\"A\"\n",
            "#EXT-X-SESSION-DATA:DATA-ID=\"x\", URI=\"data.json\"\n",
            "#EXT-X-DATERANGE:ID=\"ad\",X-ASSET-URI=\"https://ads.example/a.m3u8\"\n",
            "#EXT-X-MAP:URI=\"\"\n",
            "#EXT-X-BYTERANGE:100@0\n",
            "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n",
        );
        let expected = concat!(
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x,URI=no\",URI=\"a/media.m3u8?lang=en&cat=T0k\"\n",
            "#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"a\"\n",
            "v/media.m3u8?cat=T0k\n",
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key?x=1\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n",
            "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"data:text/plain;base64,AAAA\",KEYID=0x00\n",
            "#EXT-X-KEY:METHOD=AES-128,URI=\"key.bin?cat=T0k#k\"\n",
            "#EXT-X-PART:DURATION=1.0,URI=\"p1.mp4?cat=T0k\",INDEPENDENT=YES\n",
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p2.mp4?cat=T0k\",BYTERANGE-START=0\n",
            "#EXT-X-RENDITION-REPORT:URI=\"../v2/media.m3u8?cat=T0k\",LAST-MSN=4\n",
            "#EXT-X-CONTENT-STEERING:SERVER-URI=\"https://steer.example/s.json?cat=T0k\",PATHWAY-ID=\"A\"\n",
            "#EXT-X-SESSION-DATA:DATA-ID=\"x\", URI=\"data.json?cat=T0k\"\n",
            "#EXT-X-DATERANGE:ID=\"ad\",X-ASSET-URI=\"https://ads.example/a.m3u8\"\n",
            "#EXT-X-MAP:URI=\"\"\n",
            "#EXT-X-BYTERANGE:100@0\n",
            "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n",
        );
        assert_eq!(hls(input, PAIR), expected);
    }

    #[test]
    fn a_pair_that_would_break_the_syntax_is_percent_encoded() {
        assert_eq!(
            hls("#EXT-X-MAP:URI=\"i.mp4\"\na.ts\n", "t=a b\"#\n%zz%2F"),
            "#EXT-X-MAP:URI=\"i.mp4?t=a%20b%22%23%0A%25zz%2F\"\na.ts?t=a%20b%22%23%0A%25zz%2F\n"
        );
        // `&` and `'` escaped for XML; `$` doubled in templates only.
        assert_eq!(
            mpd(
                "<SegmentTemplate media='$Number$.m4s' initialization=\"i.mp4\"/><BaseURL>a.vtt</BaseURL>",
                "t=a&b='$'"
            ),
            "<SegmentTemplate media='$Number$.m4s?t=a&amp;b=&apos;$$&apos;' initialization=\"i.mp4?t=a&amp;b=&apos;$$&apos;\"/><BaseURL>a.vtt?t=a&amp;b=&apos;$&apos;</BaseURL>"
        );
    }

    #[test]
    fn mpd_url_attributes() {
        let input = concat!(
            "<?xml version=\"1.0\"?>\n",
            "<!-- <SegmentTemplate media=\"comment.m4s\"/> -->\n",
            "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" media=\"not-a-url\">\n",
            "<SegmentTemplate timescale=\"1\" media=\"$RepresentationID$/$Number%05d$.m4s\" initialization=\"$RepresentationID$/init.mp4?v=1&amp;w=2\" index=\"idx.sidx\"/>\n",
            "<mpd:SegmentTemplate media = 'x/$Time$.m4s#f' startNumber=\"1\" >\n",
            "<SegmentURL media=\"s1.m4s?a=&gt;\" mediaRange=\"0-99\" index=\"s1.idx&#35;x\"/>\n",
            "<SegmentURL media=\"s2.m4s?a=1&#38;\" indexRange=\"0-9\"/>\n",
            "<Initialization sourceURL=\"init.mp4&#63;q=1\" range=\"0-100\"/>\n",
            "<RepresentationIndex sourceURL=\"https://cdn.example/index.sidx\"/>\n",
            "<Initialization sourceURL=\"data:application/octet-stream;base64,AA\"/>\n",
            "<Period xlink:href=\"https://remote.example/p.xml\"/>\n",
            "</mpd:SegmentTemplate>\n",
            "</MPD>\n",
        );
        let expected = concat!(
            "<?xml version=\"1.0\"?>\n",
            "<!-- <SegmentTemplate media=\"comment.m4s\"/> -->\n",
            "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" media=\"not-a-url\">\n",
            "<SegmentTemplate timescale=\"1\" media=\"$RepresentationID$/$Number%05d$.m4s?cat=T0k\" initialization=\"$RepresentationID$/init.mp4?v=1&amp;w=2&amp;cat=T0k\" index=\"idx.sidx?cat=T0k\"/>\n",
            "<mpd:SegmentTemplate media = 'x/$Time$.m4s?cat=T0k#f' startNumber=\"1\" >\n",
            "<SegmentURL media=\"s1.m4s?a=&gt;&amp;cat=T0k\" mediaRange=\"0-99\" index=\"s1.idx?cat=T0k&#35;x\"/>\n",
            "<SegmentURL media=\"s2.m4s?a=1&#38;cat=T0k\" indexRange=\"0-9\"/>\n",
            "<Initialization sourceURL=\"init.mp4&#63;q=1&amp;cat=T0k\" range=\"0-100\"/>\n",
            "<RepresentationIndex sourceURL=\"https://cdn.example/index.sidx?cat=T0k\"/>\n",
            "<Initialization sourceURL=\"data:application/octet-stream;base64,AA\"/>\n",
            "<Period xlink:href=\"https://remote.example/p.xml\"/>\n",
            "</mpd:SegmentTemplate>\n",
            "</MPD>\n",
        );
        assert_eq!(mpd(input, PAIR), expected);
    }

    #[test]
    fn mpd_base_urls_directories_stay_bases() {
        let cases = [
            ("https://cdn.example/title/", None),
            ("https://cdn.example", None),
            ("//cdn.example", None),
            ("../", None),
            ("video/", None),
            ("video/?x=1", None),
            (".", None),
            ("a/..", None),
            (
                "https://cdn.example/title/en.vtt",
                Some("https://cdn.example/title/en.vtt?cat=T0k"),
            ),
            ("sub/en.vtt?v=1", Some("sub/en.vtt?v=1&amp;cat=T0k")),
            ("\n  video.mp4\n", Some("\n  video.mp4?cat=T0k\n")),
            ("skd://x/y.mp4", None),
        ];
        for (base, spliced) in cases {
            let input = format!("<Representation><BaseURL>{base}</BaseURL></Representation>");
            let expected = match spliced {
                Some(s) => format!("<Representation><BaseURL>{s}</BaseURL></Representation>"),
                None => input.clone(),
            };
            assert_eq!(mpd(&input, PAIR), expected, "{base}");
        }
    }

    #[test]
    fn mpd_text_urls() {
        let input = concat!(
            "<ContentProtection value=\"ClearKey1.0\"><dashif:Laurl>https://l.example/ck</dashif:Laurl></ContentProtection>\n",
            "<ContentProtection><clearkey:Laurl Lic_type=\"EME-1.0\">https://l.example/ck?a=1</clearkey:Laurl></ContentProtection>\n",
            "<ContentProtection><ms:laurl licenseUrl=\"https://pr.example/rightsmanager.asmx\"/></ContentProtection>\n",
            "<Location>https://cdn.example/a.mpd</Location><PatchLocation ttl=\"60\">patch.mpp</PatchLocation>\n",
            "<BaseURL><![CDATA[https://cdn.example/a.mp4?x=1&y=2]]></BaseURL>\n",
            "<BaseURL><!-- c -->a.mp4</BaseURL>\n",
            "<BaseURL/><Laurl></Laurl>\n",
        );
        let expected = concat!(
            "<ContentProtection value=\"ClearKey1.0\"><dashif:Laurl>https://l.example/ck?cat=T0k</dashif:Laurl></ContentProtection>\n",
            "<ContentProtection><clearkey:Laurl Lic_type=\"EME-1.0\">https://l.example/ck?a=1&amp;cat=T0k</clearkey:Laurl></ContentProtection>\n",
            "<ContentProtection><ms:laurl licenseUrl=\"https://pr.example/rightsmanager.asmx?cat=T0k\"/></ContentProtection>\n",
            "<Location>https://cdn.example/a.mpd?cat=T0k</Location><PatchLocation ttl=\"60\">patch.mpp?cat=T0k</PatchLocation>\n",
            "<BaseURL><![CDATA[https://cdn.example/a.mp4?x=1&y=2]]></BaseURL>\n",
            "<BaseURL><!-- c -->a.mp4</BaseURL>\n",
            "<BaseURL/><Laurl></Laurl>\n",
        );
        assert_eq!(mpd(input, PAIR), expected);
    }

    #[test]
    fn mpd_markup_that_is_not_elements() {
        let input = concat!(
            "<!DOCTYPE MPD [ <!ENTITY e \"<SegmentTemplate media='dtd.m4s'/>\"> ]>\n",
            "<?pi <SegmentTemplate media=\"pi.m4s\"/> ?>\n",
            "<MPD><SegmentTemplate note=\"a > b\" media=\"after.m4s\"/></MPD>\n",
        );
        let out = mpd(input, PAIR);
        assert_eq!(out, input.replace("after.m4s", "after.m4s?cat=T0k"));
    }

    #[test]
    fn find_stays_at_or_after_its_start() {
        let s = b"a<b<";
        let long = [
            b"x".repeat(100),
            b"<".to_vec(),
            b"y".repeat(30),
            b"<".to_vec(),
        ]
        .concat();
        assert_eq!(find(&long, 0, b'<'), Some(100));
        assert_eq!(find(&long, 101, b'<'), Some(131));
        assert_eq!(find(&long, 80, b'<'), Some(100));
        assert_eq!(find(&long[..131], 101, b'<'), None);
        assert_eq!(find(s, 0, b'<'), Some(1));
        assert_eq!(find(s, 2, b'<'), Some(3));
        assert_eq!(find(s, 3, b'<'), Some(3));
        assert_eq!(find(s, 4, b'<'), None);
        assert_eq!(find(s, 9, b'<'), None);
        assert_eq!(find(b"abc", 0, b'<'), None);
        assert_eq!(find(b"", 0, b'<'), None);
    }

    /// Cut or corrupted manifests never panic, and what comes out is still the input plus
    /// insertions.
    #[test]
    fn truncated_and_corrupted_manifests() {
        let p = demo();
        let pr = protection(Method::Cenc);
        let manifests = [
            (ManifestSyntax::Dash, write_mpd(&p, Some(&pr))),
            (
                ManifestSyntax::Hls,
                cmaf_media_playlist(&p.video[0], Some(&protection(Method::Cbcs))),
            ),
            (ManifestSyntax::Hls, ts_multivariant(&p, None)),
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (syntax, text) in &manifests {
            let bytes = text.as_bytes();
            for cut in (0..bytes.len()).step_by(7) {
                let input = &bytes[..cut];
                let out = append_query(input, *syntax, PAIR);
                if let Ok(input) = std::str::from_utf8(input) {
                    assert_only_insertions(input, std::str::from_utf8(&out).unwrap());
                }
            }
            for _ in 0..300 {
                let mut input = bytes.to_vec();
                for _ in 0..8 {
                    let at = (next() % input.len() as u64) as usize;
                    let noise = b"<>/=\"'?#&;:\n\r $!x";
                    input[at] = noise[(next() % noise.len() as u64) as usize];
                }
                let _ = append_query(&input, *syntax, PAIR);
            }
        }
    }
}
