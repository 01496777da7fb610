//! DASH-IF CPIX 2.3 documents as SPEKE v2 uses them: the request an encryptor sends to a key
//! server for one content key ([`request_document`]) and the key server's answer
//! ([`parse_response`]), whose `cpix:ContentKey/cpix:Data/pskc:Secret/pskc:PlainValue`
//! carries the base64 of the 16-byte key.
//!
//! The request asks for one key (`ContentKeyList`), the signalling of each DRM system
//! (`DRMSystemList`) and says the key protects every audio and video track
//! (`ContentKeyUsageRuleList`, `intendedTrackType="ALL"`), the three lists SPEKE v2 requires.
//! The response reader resolves namespaces (any prefix, or a default namespace, works),
//! refuses DTDs, caps the document size, nesting depth and text lengths, and never puts key
//! material into an error. Encrypted content keys (`DeliveryDataList`, `pskc:EncryptedValue`)
//! are not supported: SPEKE keys travel as `PlainValue` over HTTPS.

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::cenc::Scheme;
use crate::error::{Error, Result};
use crate::key::{parse_hex16, ContentKey, KeyId};
use crate::system_id::SystemId;

/// The CPIX namespace.
pub const CPIX_NS: &str = "urn:dashif:org:cpix";
/// The PSKC (RFC 6030) namespace of `pskc:Secret` and `pskc:PlainValue`.
pub const PSKC_NS: &str = "urn:ietf:params:xml:ns:keyprov:pskc";
/// The CPIX version SPEKE v2.0 speaks.
pub const CPIX_VERSION: &str = "2.3";
/// Largest response document [`parse_response`] reads.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Deepest element nesting accepted in a response (a CPIX document needs about 7 levels).
const MAX_DEPTH: usize = 64;
/// Longest `PlainValue` text, whitespace included (a 16-byte key is 24 base64 characters).
const MAX_PLAIN_VALUE_CHARS: usize = 256;
/// Longest `PSSH` text (base64 of a whole `pssh` box).
const MAX_PSSH_CHARS: usize = 64 * 1024;
/// Longest reason taken over from the XML reader's error messages.
const MAX_REASON_CHARS: usize = 160;

const REQUEST: &str = "CPIX request";
const RESPONSE: &str = "CPIX response";

/// The SPEKE v2 request for the key `kid` of `content_id`, to be used with `scheme`, with the
/// signalling of each of `systems` (in that order, duplicates dropped).
///
/// Every DRM system asks for its `PSSH`, `ContentProtectionData` (DASH) and the
/// `HLSSignalingData` of media and multivariant playlists, except FairPlay, which has no
/// `pssh` box and no DASH signalling and asks for the HLS data only.
///
/// Errors when `content_id` is empty or holds characters XML 1.0 cannot carry, and when
/// `systems` is empty (SPEKE v2 requires a `DRMSystemList`).
pub fn request_document(
    content_id: &str,
    kid: KeyId,
    scheme: Scheme,
    systems: &[SystemId],
) -> Result<String> {
    if content_id.is_empty() {
        return Err(Error::unsupported(REQUEST, "empty content id"));
    }
    let content_id = escape_attribute(content_id)?;
    let mut unique: Vec<SystemId> = Vec::with_capacity(systems.len());
    for system in systems {
        if !unique.contains(system) {
            unique.push(*system);
        }
    }
    if unique.is_empty() {
        return Err(Error::unsupported(REQUEST, "no DRM system to ask for"));
    }
    let kid = kid.uuid();

    let mut doc = String::with_capacity(1024 + 320 * unique.len());
    doc.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    doc.push_str(&format!(
        "<cpix:CPIX contentId=\"{content_id}\" version=\"{CPIX_VERSION}\" \
         xmlns:cpix=\"{CPIX_NS}\" xmlns:pskc=\"{PSKC_NS}\">\n"
    ));
    doc.push_str("  <cpix:ContentKeyList>\n");
    doc.push_str(&format!(
        "    <cpix:ContentKey kid=\"{kid}\" commonEncryptionScheme=\"{}\"/>\n",
        scheme.name()
    ));
    doc.push_str("  </cpix:ContentKeyList>\n");
    doc.push_str("  <cpix:DRMSystemList>\n");
    for system in &unique {
        doc.push_str(&format!(
            "    <cpix:DRMSystem kid=\"{kid}\" systemId=\"{}\">\n",
            system.uuid()
        ));
        if *system != SystemId::FAIRPLAY {
            doc.push_str("      <cpix:PSSH/>\n");
            doc.push_str("      <cpix:ContentProtectionData/>\n");
        }
        doc.push_str("      <cpix:HLSSignalingData playlist=\"media\"/>\n");
        doc.push_str("      <cpix:HLSSignalingData playlist=\"master\"/>\n");
        doc.push_str("    </cpix:DRMSystem>\n");
    }
    doc.push_str("  </cpix:DRMSystemList>\n");
    doc.push_str("  <cpix:ContentKeyUsageRuleList>\n");
    doc.push_str(&format!(
        "    <cpix:ContentKeyUsageRule kid=\"{kid}\" intendedTrackType=\"ALL\">\n"
    ));
    doc.push_str("      <cpix:AudioFilter/>\n");
    doc.push_str("      <cpix:VideoFilter/>\n");
    doc.push_str("    </cpix:ContentKeyUsageRule>\n");
    doc.push_str("  </cpix:ContentKeyUsageRuleList>\n");
    doc.push_str("</cpix:CPIX>\n");
    Ok(doc)
}

/// Escapes an attribute value; tab, line feed and carriage return become character
/// references so attribute-value normalisation keeps them. Characters XML 1.0 forbids are an
/// error (they cannot be written at all, not even as references).
fn escape_attribute(value: &str) -> Result<String> {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                return Err(Error::unsupported(
                    REQUEST,
                    format!(
                        "content id holds U+{:04X}, which XML cannot carry",
                        u32::from(c)
                    ),
                ));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// What a key server answered for one key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpixResponse {
    /// The content key (its `Debug` is redacted).
    pub key: ContentKey,
    /// `ContentKey@explicitIV`, when the key server chose the IV.
    pub explicit_iv: Option<[u8; 16]>,
    /// The `pssh` boxes the key server made for this key, by DRM system, in document order.
    pub pssh: Vec<(SystemId, Vec<u8>)>,
}

/// The content key for `kid` in a key server's CPIX response.
pub fn content_key_from_response(xml: &[u8], kid: KeyId) -> Result<ContentKey> {
    parse_response(xml, kid).map(|response| response.key)
}

/// Reads a key server's CPIX response for the key `kid`: exactly one `cpix:ContentKey` with
/// that kid must carry a `pskc:PlainValue` of 16 bytes. Keys for other kids are ignored;
/// `PSSH` elements of the `DRMSystem`s for `kid` are collected.
pub fn parse_response(xml: &[u8], kid: KeyId) -> Result<CpixResponse> {
    if xml.len() > MAX_RESPONSE_BYTES {
        return Err(Error::malformed(
            RESPONSE,
            format!(
                "document of {} bytes exceeds the {MAX_RESPONSE_BYTES}-byte limit",
                xml.len()
            ),
        ));
    }
    let xml = xml.strip_prefix(b"\xef\xbb\xbf").unwrap_or(xml);
    let text = std::str::from_utf8(xml).map_err(|e| {
        Error::unsupported(
            RESPONSE,
            format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })?;
    ResponseReader::new(kid).read(text)
}

/// The elements the response reader tells apart; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Root,
    ContentKeyList,
    /// `matching`: its kid is the one asked for.
    ContentKey {
        matching: bool,
    },
    Data {
        matching: bool,
    },
    Secret {
        matching: bool,
    },
    PlainValue,
    DrmSystemList,
    /// The system of a `DRMSystem` for the kid asked for, `None` for other kids.
    DrmSystem {
        system: Option<SystemId>,
    },
    Pssh {
        system: SystemId,
    },
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Cpix,
    Pskc,
    Other,
}

struct ResponseReader {
    kid: KeyId,
    stack: Vec<Node>,
    root_seen: bool,
    /// `ContentKey` elements with the kid asked for.
    matching_keys: usize,
    /// A few kids of other `ContentKey`s, to say what the server answered instead.
    other_kids: Vec<KeyId>,
    other_kid_count: usize,
    plain_value: Option<String>,
    plain_value_count: usize,
    encrypted_value: bool,
    key: Option<ContentKey>,
    explicit_iv: Option<[u8; 16]>,
    pssh_text: String,
    pssh: Vec<(SystemId, Vec<u8>)>,
}

impl ResponseReader {
    fn new(kid: KeyId) -> Self {
        ResponseReader {
            kid,
            stack: Vec::new(),
            root_seen: false,
            matching_keys: 0,
            other_kids: Vec::new(),
            other_kid_count: 0,
            plain_value: None,
            plain_value_count: 0,
            encrypted_value: false,
            key: None,
            explicit_iv: None,
            pssh_text: String::new(),
            pssh: Vec::new(),
        }
    }

    fn read(mut self, text: &str) -> Result<CpixResponse> {
        let mut reader = NsReader::from_str(text);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        loop {
            let position = reader.buffer_position();
            let (ns, event) = reader
                .read_resolved_event()
                .map_err(|e| xml_error(position, &e))?;
            match event {
                Event::Start(start) => {
                    let ns = namespace(&ns);
                    self.start(&reader, ns, &start)?;
                }
                Event::End(_) => self.end()?,
                // Text is only read inside PlainValue and PSSH; elsewhere it is skipped.
                Event::Text(t) if self.collecting_text() => {
                    // The reader's message would quote the reference, which may be (part of)
                    // the key: say only what went wrong.
                    let text = t.unescape().map_err(|_| {
                        Error::malformed(RESPONSE, "an unknown entity reference in a value")
                    })?;
                    self.text(&text)?;
                }
                Event::CData(c) if self.collecting_text() => {
                    let raw = c.into_inner();
                    let text = std::str::from_utf8(&raw)
                        .map_err(|_| Error::malformed(RESPONSE, "CDATA is not UTF-8"))?;
                    self.text(text)?;
                }
                Event::DocType(_) => {
                    return Err(Error::unsupported(RESPONSE, "a DOCTYPE declaration"));
                }
                Event::Eof => break,
                // Other text, declarations, comments, processing instructions, and the
                // `Empty` events that `expand_empty_elements` turns into Start/End.
                _ => {}
            }
        }
        if !self.root_seen {
            return Err(Error::malformed(RESPONSE, "no cpix:CPIX element"));
        }
        if !self.stack.is_empty() {
            return Err(Error::malformed(
                RESPONSE,
                "document ends before cpix:CPIX is closed",
            ));
        }
        self.finish()
    }

    fn collecting_text(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Node::PlainValue | Node::Pssh { .. })
        )
    }

    fn start(&mut self, reader: &NsReader<&[u8]>, ns: Ns, start: &BytesStart<'_>) -> Result<()> {
        let local = start.local_name();
        let name = local.as_ref();
        let node = match self.stack.last().copied() {
            None => {
                if self.root_seen {
                    return Err(Error::malformed(
                        RESPONSE,
                        "a second element after the root",
                    ));
                }
                if ns != Ns::Cpix || name != b"CPIX" {
                    return Err(Error::malformed(
                        RESPONSE,
                        format!("the root element is not CPIX in namespace {CPIX_NS}"),
                    ));
                }
                self.root_seen = true;
                Node::Root
            }
            Some(parent) => self.child(reader, parent, ns, name, start)?,
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(Error::malformed(
                RESPONSE,
                format!("elements nested deeper than {MAX_DEPTH}"),
            ));
        }
        self.stack.push(node);
        Ok(())
    }

    fn child(
        &mut self,
        reader: &NsReader<&[u8]>,
        parent: Node,
        ns: Ns,
        name: &[u8],
        start: &BytesStart<'_>,
    ) -> Result<Node> {
        Ok(match (parent, ns, name) {
            (Node::Root, Ns::Cpix, b"ContentKeyList") => Node::ContentKeyList,
            (Node::ContentKeyList, Ns::Cpix, b"ContentKey") => {
                let kid = required_attribute(reader, start, b"kid", "ContentKey@kid")?;
                let kid = KeyId(parse_uuid_attribute(&kid, "ContentKey@kid")?);
                let matching = kid == self.kid;
                if matching {
                    self.matching_keys += 1;
                    if self.matching_keys > 1 {
                        return Err(Error::malformed(
                            RESPONSE,
                            format!("more than one ContentKey with kid {}", self.kid),
                        ));
                    }
                    if let Some(iv) = attribute(reader, start, b"explicitIV")? {
                        self.explicit_iv = Some(decode_16(&iv, "ContentKey@explicitIV")?);
                    }
                } else {
                    self.other_kid_count += 1;
                    if self.other_kids.len() < 4 {
                        self.other_kids.push(kid);
                    }
                }
                Node::ContentKey { matching }
            }
            (Node::ContentKey { matching }, Ns::Cpix, b"Data") => Node::Data { matching },
            (Node::Data { matching }, Ns::Pskc, b"Secret") => Node::Secret { matching },
            (Node::Secret { matching: true }, Ns::Pskc, b"PlainValue") => {
                self.plain_value_count += 1;
                if self.plain_value_count > 1 {
                    return Err(Error::malformed(
                        RESPONSE,
                        format!("more than one PlainValue for kid {}", self.kid),
                    ));
                }
                self.plain_value = Some(String::new());
                Node::PlainValue
            }
            (Node::Secret { matching: true }, Ns::Pskc, b"EncryptedValue") => {
                self.encrypted_value = true;
                Node::Other
            }
            (Node::Root, Ns::Cpix, b"DRMSystemList") => Node::DrmSystemList,
            (Node::DrmSystemList, Ns::Cpix, b"DRMSystem") => {
                let kid = required_attribute(reader, start, b"kid", "DRMSystem@kid")?;
                let kid = KeyId(parse_uuid_attribute(&kid, "DRMSystem@kid")?);
                let system = required_attribute(reader, start, b"systemId", "DRMSystem@systemId")?;
                let system = parse_uuid_attribute(&system, "DRMSystem@systemId")?;
                Node::DrmSystem {
                    system: (kid == self.kid).then_some(SystemId(system)),
                }
            }
            (
                Node::DrmSystem {
                    system: Some(system),
                },
                Ns::Cpix,
                b"PSSH",
            ) => {
                self.pssh_text.clear();
                Node::Pssh { system }
            }
            _ => Node::Other,
        })
    }

    fn text(&mut self, text: &str) -> Result<()> {
        match self.stack.last() {
            Some(Node::PlainValue) => {
                let value = self.plain_value.get_or_insert_with(String::new);
                if value.len() + text.len() > MAX_PLAIN_VALUE_CHARS {
                    return Err(Error::malformed(
                        RESPONSE,
                        format!("PlainValue longer than {MAX_PLAIN_VALUE_CHARS} characters"),
                    ));
                }
                value.push_str(text);
            }
            Some(Node::Pssh { .. }) => {
                if self.pssh_text.len() + text.len() > MAX_PSSH_CHARS {
                    return Err(Error::malformed(
                        RESPONSE,
                        format!("PSSH longer than {MAX_PSSH_CHARS} characters"),
                    ));
                }
                self.pssh_text.push_str(text);
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        match self.stack.pop() {
            Some(Node::PlainValue) => {
                let text = self.plain_value.take().unwrap_or_default();
                self.key = Some(ContentKey(decode_16(&text, "PlainValue")?));
            }
            Some(Node::Pssh { system }) => {
                let text = std::mem::take(&mut self.pssh_text);
                let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                // An empty PSSH is the request's shape echoed back: nothing to keep.
                if !compact.is_empty() {
                    let pssh = BASE64
                        .decode(compact.as_bytes())
                        .map_err(|_| Error::malformed(RESPONSE, "PSSH is not base64"))?;
                    self.pssh.push((system, pssh));
                }
            }
            Some(_) => {}
            // The reader checks end tags against start tags, so this cannot happen; refuse
            // rather than panic if it ever does.
            None => return Err(Error::malformed(RESPONSE, "an end tag without a start")),
        }
        Ok(())
    }

    fn finish(self) -> Result<CpixResponse> {
        if self.matching_keys == 0 {
            let mut reason = format!("no ContentKey with kid {}", self.kid);
            if self.other_kid_count > 0 {
                let kids: Vec<String> = self.other_kids.iter().map(KeyId::uuid).collect();
                reason.push_str(&format!(" (the response has {}", kids.join(", ")));
                if self.other_kid_count > kids.len() {
                    reason.push_str(&format!(" and {} more", self.other_kid_count - kids.len()));
                }
                reason.push(')');
            }
            return Err(Error::malformed(RESPONSE, reason));
        }
        let Some(key) = self.key else {
            if self.encrypted_value {
                return Err(Error::unsupported(
                    RESPONSE,
                    "encrypted content keys (pskc:EncryptedValue); SPEKE keys must be PlainValue",
                ));
            }
            return Err(Error::malformed(
                RESPONSE,
                format!(
                    "ContentKey {} has no cpix:Data/pskc:Secret/pskc:PlainValue",
                    self.kid
                ),
            ));
        };
        Ok(CpixResponse {
            key,
            explicit_iv: self.explicit_iv,
            pssh: self.pssh,
        })
    }
}

/// Standard base64, padding optional, as key servers write it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes base64 text (whitespace allowed) that must hold exactly 16 bytes. The error never
/// quotes the text, which may be key material.
fn decode_16(text: &str, what: &str) -> Result<[u8; 16]> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = BASE64
        .decode(compact.as_bytes())
        .map_err(|_| Error::malformed(RESPONSE, format!("{what} is not base64")))?;
    <[u8; 16]>::try_from(bytes.as_slice()).map_err(|_| {
        Error::malformed(
            RESPONSE,
            format!("{what} decodes to {} bytes, expected 16", bytes.len()),
        )
    })
}

fn namespace(resolved: &ResolveResult<'_>) -> Ns {
    match resolved {
        ResolveResult::Bound(ns) if ns.as_ref() == CPIX_NS.as_bytes() => Ns::Cpix,
        ResolveResult::Bound(ns) if ns.as_ref() == PSKC_NS.as_bytes() => Ns::Pskc,
        _ => Ns::Other,
    }
}

/// The value of the unqualified attribute `name` (CPIX attributes carry no namespace).
fn attribute(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    name: &[u8],
) -> Result<Option<String>> {
    for attr in start.attributes() {
        let attr = attr.map_err(|e| xml_error(reader.buffer_position(), &e))?;
        let (ns, local) = reader.resolve_attribute(attr.key);
        if matches!(ns, ResolveResult::Unbound) && local.as_ref() == name {
            let value = attr
                .unescape_value()
                .map_err(|e| xml_error(reader.buffer_position(), &e))?
                .into_owned();
            return Ok(Some(value));
        }
    }
    Ok(None)
}

fn required_attribute(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    name: &[u8],
    what: &str,
) -> Result<String> {
    attribute(reader, start, name)?
        .ok_or_else(|| Error::malformed(RESPONSE, format!("{what} is missing")))
}

fn parse_uuid_attribute(value: &str, what: &str) -> Result<[u8; 16]> {
    parse_hex16(value.trim(), "uuid")
        .map_err(|_| Error::malformed(RESPONSE, format!("{what} is not a UUID")))
}

/// An XML reader error as a short reason (the reader may quote names from the input, so the
/// text is cut to a bounded length).
fn xml_error(position: u64, error: &dyn fmt::Display) -> Error {
    let mut reason = format!("XML error near byte {position}: {error}");
    if reason.chars().count() > MAX_REASON_CHARS {
        reason = reason.chars().take(MAX_REASON_CHARS).collect();
        reason.push('…');
    }
    Error::malformed(RESPONSE, reason)
}

#[cfg(test)]
mod tests;
