//! A multivariant playlist rewritten to name every pathway (HLS Content Steering): an
//! `EXT-X-CONTENT-STEERING` tag with the steering server and the session's first pathway, then
//! the renditions and variant streams once per pathway, with absolute URIs on that pathway's
//! CDN, `PATHWAY-ID`, `STABLE-VARIANT-ID` / `STABLE-RENDITION-ID`, and rendition groups of
//! their own (`GROUP-ID` + `-` + pathway), so audio and subtitles move with the video. A player
//! that knows no steering sees redundant variant streams and fails over through them.
//!
//! In the clone layout only the first pathway's variants are written, and the steering answer
//! names the others as `PATHWAY-CLONES` (a smaller playlist; players without steering get no
//! redundancy).

use crate::attrs::{self, Attr};
use crate::error::ManifestError;
use crate::pathway::PathwayId;

/// Where one pathway's copy of the playlist's URIs is.
#[derive(Debug, Clone, PartialEq)]
pub struct PathwayUrls {
    pub id: PathwayId,
    /// The absolute URL the playlist's relative URIs resolve against on this pathway: the
    /// CDN's base URL and the playlist's directory (`https://cdn-a.example/vod/demo/`).
    pub prefix: String,
    /// Query parameters added to every URI on this pathway (a CDN token), without `?`.
    pub query: Option<String>,
}

/// How the playlist is steered.
#[derive(Debug, Clone, PartialEq)]
pub struct HlsSteering<'a> {
    /// `SERVER-URI`: the steering request, with the session in its query.
    pub server_uri: &'a str,
    /// `PATHWAY-ID`: the pathway to start on (the session's first).
    pub initial: &'a PathwayId,
    /// The pathways written out, in this order.
    pub pathways: &'a [PathwayUrls],
}

/// A line of the playlist that is written once per pathway, with what it needs worked out
/// once: its attributes and its stable id.
enum Item<'a> {
    Media {
        attrs: Vec<Attr<'a>>,
        stable: String,
    },
    Variant {
        attrs: Vec<Attr<'a>>,
        uri: &'a str,
        stable: String,
    },
    IFrame {
        attrs: Vec<Attr<'a>>,
        stable: String,
    },
}

/// `master` with every pathway in it.
pub fn steer_multivariant<'m>(
    master: &'m str,
    s: &HlsSteering<'_>,
) -> Result<String, ManifestError> {
    if s.pathways.is_empty() {
        return Err(ManifestError::NoPathways);
    }
    let mut lines = master.lines().enumerate();
    if lines.next().map(|(_, l)| l.trim_end()) != Some("#EXTM3U") {
        return Err(ManifestError::NotMultivariant("no #EXTM3U first line"));
    }
    let mut head = vec!["#EXTM3U"];
    let mut items = Vec::new();
    while let Some((n, line)) = lines.next() {
        let line = line.trim_end();
        let bad = |what| ManifestError::BadLine { line: n + 1, what };
        let list = |rest: &'m str| attrs::parse(rest).ok_or(bad("not an attribute list"));
        if let Some(rest) = line.strip_prefix("#EXT-X-MEDIA:") {
            let attrs = list(rest)?;
            let stable = stable_id(&match attrs::get(&attrs, "URI") {
                Some(u) => u.to_owned(),
                None => {
                    let field = |n| attrs::get(&attrs, n).unwrap_or("");
                    format!("{}-{}-{}", field("TYPE"), field("GROUP-ID"), field("NAME"))
                }
            });
            items.push(Item::Media { attrs, stable });
        } else if let Some(rest) = line.strip_prefix("#EXT-X-I-FRAME-STREAM-INF:") {
            let attrs = list(rest)?;
            let stable = stable_id(&format!(
                "iframe-{}",
                attrs::get(&attrs, "URI").unwrap_or("")
            ));
            items.push(Item::IFrame { attrs, stable });
        } else if let Some(rest) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let attrs = list(rest)?;
            let uri = loop {
                match lines.next() {
                    Some((_, u)) if u.trim().is_empty() || u.starts_with('#') => continue,
                    Some((_, u)) => break u.trim(),
                    None => return Err(bad("EXT-X-STREAM-INF without a URI")),
                }
            };
            let stable = stable_id(uri);
            items.push(Item::Variant { attrs, uri, stable });
        } else if line.starts_with("#EXT-X-CONTENT-STEERING") || line.is_empty() {
            continue;
        } else if line.starts_with("#EXT-X-STREAM-INF") || !line.starts_with('#') {
            return Err(bad("a URI or tag this rewrite does not know"));
        } else {
            head.push(line);
        }
    }
    if !items.iter().any(|i| matches!(i, Item::Variant { .. })) {
        return Err(ManifestError::NotMultivariant("no EXT-X-STREAM-INF"));
    }
    let mut out = String::with_capacity(master.len() * (s.pathways.len() + 1) * 3 / 2);
    for h in head {
        out.push_str(h);
        out.push('\n');
    }
    out.push_str("#EXT-X-CONTENT-STEERING:SERVER-URI=\"");
    out.push_str(s.server_uri);
    out.push_str("\",PATHWAY-ID=\"");
    out.push_str(s.initial.as_str());
    out.push_str("\"\n");
    for p in s.pathways {
        for item in &items {
            write_item(&mut out, item, p);
        }
    }
    Ok(out)
}

/// The rendition group attributes of a variant; `CLOSED-CAPTIONS=NONE` is an enumerated
/// value, not a group (it is not quoted).
const GROUPS: [&str; 4] = ["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"];

/// One item on pathway `p`, written straight into `out`: its attributes in their order, with
/// the group ids, URIs and ids of the pathway, then the ones it adds.
fn write_item(out: &mut String, item: &Item<'_>, p: &PathwayUrls) {
    let (tag, attrs, stable_name, stable) = match item {
        Item::Media { attrs, stable } => ("#EXT-X-MEDIA:", attrs, "STABLE-RENDITION-ID", stable),
        Item::Variant { attrs, stable, .. } => {
            ("#EXT-X-STREAM-INF:", attrs, "STABLE-VARIANT-ID", stable)
        }
        Item::IFrame { attrs, stable } => (
            "#EXT-X-I-FRAME-STREAM-INF:",
            attrs,
            "STABLE-VARIANT-ID",
            stable,
        ),
    };
    let is_media = matches!(item, Item::Media { .. });
    out.push_str(tag);
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push(',');
        }
        first = false;
    };
    for &(name, value) in attrs {
        if name == "PATHWAY-ID" || name == stable_name {
            continue;
        }
        sep(out);
        out.push_str(name);
        out.push('=');
        let quoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
        let group = (name == "GROUP-ID" && is_media) || (!is_media && GROUPS.contains(&name));
        match quoted {
            Some(v) if group => {
                out.push('"');
                out.push_str(v);
                out.push('-');
                out.push_str(p.id.as_str());
                out.push('"');
            }
            Some(v) if name == "URI" => {
                out.push('"');
                push_url(out, v, p);
                out.push('"');
            }
            _ => out.push_str(value),
        }
    }
    if !is_media {
        sep(out);
        out.push_str("PATHWAY-ID=\"");
        out.push_str(p.id.as_str());
        out.push('"');
    }
    if !stable.is_empty() {
        sep(out);
        out.push_str(stable_name);
        out.push_str("=\"");
        out.push_str(stable);
        out.push('"');
    }
    out.push('\n');
    if let Item::Variant { uri, .. } = item {
        push_url(out, uri, p);
        out.push('\n');
    }
}

/// `uri` on pathway `p`: a relative URI against its prefix, a path-absolute one against its
/// origin, an absolute one as it is; then the pathway's query.
fn push_url(out: &mut String, uri: &str, p: &PathwayUrls) {
    if uri.contains("://") {
        out.push_str(uri);
    } else if let Some(path) = uri.strip_prefix('/') {
        let origin_end = p
            .prefix
            .find("://")
            .and_then(|i| p.prefix[i + 3..].find('/').map(|j| i + 3 + j))
            .unwrap_or(p.prefix.len());
        out.push_str(&p.prefix[..origin_end]);
        out.push('/');
        out.push_str(path);
    } else {
        out.push_str(&p.prefix);
        out.push_str(uri);
    }
    if let Some(q) = &p.query {
        out.push(if uri.contains('?') { '&' } else { '?' });
        out.push_str(q);
    }
}

/// `uri` on pathway `p`, as a string of its own.
#[cfg(test)]
fn url(uri: &str, p: &PathwayUrls) -> String {
    let mut out = String::new();
    push_url(&mut out, uri, p);
    out
}

/// A stable id made from a URI (its path without `/media.m3u8`) or a rendition's name, in
/// the character set the draft allows (`A-Z a-z 0-9 + / = . - _`).
fn stable_id(from: &str) -> String {
    let trimmed = from
        .split('?')
        .next()
        .unwrap_or(from)
        .trim_end_matches("/media.m3u8")
        .trim_end_matches(".m3u8");
    trimmed
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+/=.-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
