//! A bounded element tree of an untrusted XML document (an ad server's VAST or VMAP): element
//! local names (namespace prefixes dropped, so `vmap:AdBreak` is `AdBreak`), attributes,
//! text and CDATA joined and trimmed, and the line each element starts on, for errors that
//! say where. No DTD, no entity expansion beyond the five predefined ones; the document's
//! size, depth, element count and text per element are capped, so a hostile document costs
//! bounded time and memory.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::error::ParseError;

/// The largest document read.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// The deepest nesting accepted (VAST needs about 10 levels).
pub const MAX_DEPTH: usize = 48;
/// The most elements accepted.
pub const MAX_ELEMENTS: usize = 50_000;
/// The longest text of one element.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// The most attributes one element may have (VAST and MPD elements have a dozen at most).
pub const MAX_ATTRIBUTES: usize = 64;
/// The longest reason taken over from the XML reader's messages.
const MAX_REASON_CHARS: usize = 160;

/// One element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The local name (no namespace prefix): what readers match on.
    pub name: String,
    /// The name as written (`vmap:AdBreak`), kept for writing the tree back; empty for an
    /// element made in code (written with `name`).
    pub qname: String,
    /// Attributes with their names as written (`cenc:default_KID`, `xmlns:cenc`), values
    /// unescaped. [`Element::attr`] matches on local names.
    pub attrs: Vec<(String, String)>,
    /// The element's own text and CDATA, joined and trimmed.
    pub text: String,
    pub children: Vec<Element>,
    /// The line its start tag is on (from 1).
    pub line: usize,
}

impl Element {
    /// The value of the attribute whose local name is `name` (namespace declarations are
    /// not attributes here).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| {
                !n.starts_with("xmlns") && (n == name || n.rsplit(':').next() == Some(name))
            })
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`, when it has any.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
    }

    /// An error about this element.
    pub fn invalid(&self, what: impl Into<String>) -> ParseError {
        ParseError::invalid(self.line, &self.name, what)
    }
}

/// Counts lines up to a position, scanning each byte once.
struct Lines<'a> {
    doc: &'a str,
    scanned: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.doc.len());
        if pos > self.scanned {
            self.line += self.doc.as_bytes()[self.scanned..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.scanned = pos;
        }
        self.line
    }
}

fn local(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

fn reason(e: impl std::fmt::Display) -> String {
    e.to_string().chars().take(MAX_REASON_CHARS).collect()
}

fn element(start: &BytesStart<'_>, line: usize) -> Result<Element, ParseError> {
    let mut attrs = Vec::new();
    // Without the reader's duplicate check, which compares each attribute with every earlier
    // one: a tag with a hundred thousand attributes would cost quadratic time. The count is
    // capped instead.
    for a in start.attributes().with_checks(false) {
        if attrs.len() == MAX_ATTRIBUTES {
            return Err(ParseError::invalid(
                line,
                &local(start.local_name().as_ref()),
                format!("has more than {MAX_ATTRIBUTES} attributes"),
            ));
        }
        let a = a.map_err(|e| ParseError::Xml {
            line,
            reason: reason(e),
        })?;
        let value = a.unescape_value().map_err(|e| ParseError::Xml {
            line,
            reason: reason(e),
        })?;
        attrs.push((local(a.key.as_ref()), value.into_owned()));
    }
    Ok(Element {
        name: local(start.local_name().as_ref()),
        qname: local(start.name().as_ref()),
        attrs,
        line,
        ..Element::default()
    })
}

/// The root element of `doc`.
pub fn parse(doc: &str) -> Result<Element, ParseError> {
    if doc.len() > MAX_DOCUMENT_BYTES {
        return Err(ParseError::TooLarge {
            len: doc.len(),
            max: MAX_DOCUMENT_BYTES,
        });
    }
    let mut reader = Reader::from_str(doc);
    reader.config_mut().check_end_names = true;
    let mut lines = Lines {
        doc,
        scanned: 0,
        line: 1,
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let pos = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| ParseError::Xml {
            line: lines.at(pos),
            reason: reason(e),
        })?;
        let line = lines.at(pos);
        let open = |start: &BytesStart<'_>, stack: &Vec<Element>, count: &mut usize| {
            *count += 1;
            if *count > MAX_ELEMENTS {
                return Err(ParseError::TooManyElements {
                    line,
                    max: MAX_ELEMENTS,
                });
            }
            if stack.len() >= MAX_DEPTH {
                return Err(ParseError::TooDeep {
                    line,
                    max: MAX_DEPTH,
                });
            }
            element(start, line)
        };
        let close = |el: Element, stack: &mut Vec<Element>, root: &mut Option<Element>| {
            let mut el = el;
            let trimmed = el.text.trim();
            if trimmed.len() != el.text.len() {
                el.text = trimmed.to_owned();
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(el),
                None if root.is_none() => *root = Some(el),
                None => {
                    return Err(ParseError::Xml {
                        line: el.line,
                        reason: "a second root element".into(),
                    })
                }
            }
            Ok(())
        };
        match event {
            Event::Start(s) => {
                let el = open(&s, &stack, &mut count)?;
                stack.push(el);
            }
            Event::Empty(s) => {
                let el = open(&s, &stack, &mut count)?;
                close(el, &mut stack, &mut root)?;
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| ParseError::Xml {
                    line,
                    reason: "an end tag without a start".into(),
                })?;
                close(el, &mut stack, &mut root)?;
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| ParseError::Xml {
                    line,
                    reason: reason(e),
                })?;
                push_text(&mut stack, &text, line)?;
            }
            Event::CData(c) => {
                let text = String::from_utf8_lossy(&c);
                push_text(&mut stack, &text, line)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(ParseError::Xml {
            line: open.line,
            reason: format!("<{}> is never closed", open.name),
        });
    }
    root.ok_or(ParseError::Xml {
        line: lines.at(doc.len()),
        reason: "no element".into(),
    })
}

fn push_text(stack: &mut [Element], text: &str, line: usize) -> Result<(), ParseError> {
    let Some(el) = stack.last_mut() else {
        // Text outside the root: whitespace is fine, anything else is not XML.
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(ParseError::Xml {
            line,
            reason: "text outside the root element".into(),
        });
    };
    if el.text.len() + text.len() > MAX_TEXT_BYTES {
        return Err(el.invalid(format!("has more than {MAX_TEXT_BYTES} bytes of text")));
    }
    el.text.push_str(text);
    Ok(())
}

/// `el` written as XML (with its children, indented by two spaces per level): attribute
/// values and text escaped, an element with no text and no children written empty.
pub fn write(el: &Element) -> String {
    let mut out = String::with_capacity(4096);
    write_into(&mut out, el, 0);
    out
}

fn write_into(out: &mut String, el: &Element, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
    let name = if el.qname.is_empty() {
        &el.name
    } else {
        &el.qname
    };
    out.push('<');
    out.push_str(name);
    for (n, v) in &el.attrs {
        out.push(' ');
        out.push_str(n);
        out.push_str("=\"");
        escape_into(out, v, true);
        out.push('"');
    }
    if el.children.is_empty() && el.text.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    if el.children.is_empty() {
        escape_into(out, &el.text, false);
    } else {
        out.push('\n');
        if !el.text.is_empty() {
            escape_into(out, &el.text, false);
            out.push('\n');
        }
        for c in &el.children {
            write_into(out, c, depth + 1);
        }
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn escape_into(out: &mut String, s: &str, attribute: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_back_it_reads_the_same() {
        let doc = "<a x=\"1 &amp; &quot;2&quot;\"><b>t &lt; u</b><c/><d k=\"v\"><e/></d></a>";
        let tree = parse(doc).unwrap();
        let again = parse(&write(&tree)).unwrap();
        let strip = |mut e: Element| {
            fn no_lines(e: &mut Element) {
                e.line = 0;
                e.children.iter_mut().for_each(no_lines);
            }
            no_lines(&mut e);
            e
        };
        assert_eq!(strip(tree), strip(again));
    }

    #[test]
    fn names_lines_text_and_cdata() {
        let doc = "<?xml version=\"1.0\"?>\n<vmap:VMAP xmlns:vmap=\"http://www.iab.net/videosuite/vmap\">\n  <vmap:AdBreak timeOffset=\"start\">\n    <URL><![CDATA[ https://ads.example/?a=1&b=2 ]]></URL>\n    <Other>x &amp; y</Other>\n  </vmap:AdBreak>\n</vmap:VMAP>\n";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "VMAP");
        assert_eq!(root.line, 2);
        let b = root.child("AdBreak").unwrap();
        assert_eq!(b.line, 3);
        assert_eq!(b.attr("timeOffset"), Some("start"));
        assert_eq!(b.child_text("URL"), Some("https://ads.example/?a=1&b=2"));
        assert_eq!(b.child_text("Other"), Some("x & y"));
        assert_eq!(b.child("Other").unwrap().line, 5);
    }

    #[test]
    fn broken_documents_say_where() {
        let e = parse("<a>\n<b>\n</a>").unwrap_err();
        assert!(matches!(e, ParseError::Xml { line: 3, .. }), "{e}");
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("text <a/>").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(&deep), Err(ParseError::TooDeep { .. })));
        let big = "x".repeat(MAX_DOCUMENT_BYTES + 1);
        assert!(matches!(parse(&big), Err(ParseError::TooLarge { .. })));
    }

    #[test]
    fn prefixes_are_kept_for_writing_and_ignored_for_reading() {
        let doc = "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:cenc=\"urn:mpeg:cenc:2013\"><ContentProtection cenc:default_KID=\"k\"><cenc:pssh>AAAA</cenc:pssh></ContentProtection></MPD>";
        let tree = parse(doc).unwrap();
        let cp = tree.child("ContentProtection").unwrap();
        assert_eq!(cp.attr("default_KID"), Some("k"));
        assert_eq!(cp.child_text("pssh"), Some("AAAA"));
        assert_eq!(
            tree.attr("cenc"),
            None,
            "a namespace declaration is no attribute"
        );
        let written = write(&tree);
        assert!(
            written.contains("xmlns:cenc=\"urn:mpeg:cenc:2013\""),
            "{written}"
        );
        assert!(written.contains("cenc:default_KID=\"k\""), "{written}");
        assert!(written.contains("<cenc:pssh>AAAA</cenc:pssh>"), "{written}");
    }

    #[test]
    fn an_element_with_too_many_attributes_is_refused() {
        let attrs: String = (0..MAX_ATTRIBUTES + 1)
            .map(|i| format!(" a{i}=\"1\""))
            .collect();
        assert!(parse(&format!("<a{attrs}/>")).is_err());
        let attrs: String = (0..MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"1\""))
            .collect();
        assert!(parse(&format!("<a{attrs}/>")).is_ok());
    }

    #[test]
    fn entities_are_not_expanded_beyond_the_predefined_ones() {
        let doc = "<!DOCTYPE a [<!ENTITY x \"lol\">]><a>&x;</a>";
        assert!(parse(doc).is_err());
    }
}
