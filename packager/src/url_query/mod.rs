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
            hls::splice_hls(&mut s);
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
            mpd::splice_mpd(&mut s);
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

mod hls;
mod mpd;
#[cfg(test)]
mod tests;
