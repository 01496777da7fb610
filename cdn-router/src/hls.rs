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

enum Item {
    Media(Vec<Attr>),
    Variant(Vec<Attr>, String),
    IFrame(Vec<Attr>),
}

/// `master` with every pathway in it.
pub fn steer_multivariant(master: &str, s: &HlsSteering<'_>) -> Result<String, ManifestError> {
    if s.pathways.is_empty() {
        return Err(ManifestError::NoPathways);
    }
    let mut lines = master.lines().enumerate();
    if lines.next().map(|(_, l)| l.trim_end()) != Some("#EXTM3U") {
        return Err(ManifestError::NotMultivariant("no #EXTM3U first line"));
    }
    let mut head = vec!["#EXTM3U".to_owned()];
    let mut items = Vec::new();
    while let Some((n, line)) = lines.next() {
        let line = line.trim_end();
        let bad = |what| ManifestError::BadLine { line: n + 1, what };
        let list = |rest: &str| attrs::parse(rest).ok_or(bad("not an attribute list"));
        if let Some(rest) = line.strip_prefix("#EXT-X-MEDIA:") {
            items.push(Item::Media(list(rest)?));
        } else if let Some(rest) = line.strip_prefix("#EXT-X-I-FRAME-STREAM-INF:") {
            items.push(Item::IFrame(list(rest)?));
        } else if let Some(rest) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let a = list(rest)?;
            let uri = loop {
                match lines.next() {
                    Some((_, u)) if u.trim().is_empty() || u.starts_with('#') => continue,
                    Some((_, u)) => break u.trim().to_owned(),
                    None => return Err(bad("EXT-X-STREAM-INF without a URI")),
                }
            };
            items.push(Item::Variant(a, uri));
        } else if line.starts_with("#EXT-X-CONTENT-STEERING") || line.is_empty() {
            continue;
        } else if line.starts_with("#EXT-X-STREAM-INF") || !line.starts_with('#') {
            return Err(bad("a URI or tag this rewrite does not know"));
        } else {
            head.push(line.to_owned());
        }
    }
    if !items.iter().any(|i| matches!(i, Item::Variant(..))) {
        return Err(ManifestError::NotMultivariant("no EXT-X-STREAM-INF"));
    }
    let mut out = head.join("\n");
    out.push_str(&format!(
        "\n#EXT-X-CONTENT-STEERING:SERVER-URI=\"{}\",PATHWAY-ID=\"{}\"\n",
        s.server_uri, s.initial
    ));
    for p in s.pathways {
        for item in &items {
            write_item(&mut out, item, p);
        }
    }
    Ok(out)
}

fn write_item(out: &mut String, item: &Item, p: &PathwayUrls) {
    let group = |g: &str| format!("{g}-{}", p.id);
    match item {
        Item::Media(a) => {
            let mut a = a.clone();
            let stable = stable_id(attrs::get(&a, "URI").map(str::to_owned).unwrap_or_else(|| {
                let field = |n| attrs::get(&a, n).unwrap_or("").to_owned();
                format!("{}-{}-{}", field("TYPE"), field("GROUP-ID"), field("NAME"))
            }));
            if let Some(g) = attrs::get(&a, "GROUP-ID").map(group) {
                attrs::set_quoted(&mut a, "GROUP-ID", &g);
            }
            if let Some(u) = attrs::get(&a, "URI").map(|u| url(u, p)) {
                attrs::set_quoted(&mut a, "URI", &u);
            }
            attrs::set_quoted(&mut a, "STABLE-RENDITION-ID", &stable);
            out.push_str("#EXT-X-MEDIA:");
            out.push_str(&attrs::write(&a));
            out.push('\n');
        }
        Item::Variant(a, uri) => {
            let mut a = a.clone();
            for name in ["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"] {
                // CLOSED-CAPTIONS=NONE is an enumerated value, not a group.
                let quoted = a.iter().any(|(n, v)| n == name && v.starts_with('"'));
                if let Some(g) = attrs::get(&a, name).filter(|_| quoted).map(group) {
                    attrs::set_quoted(&mut a, name, &g);
                }
            }
            attrs::set_quoted(&mut a, "PATHWAY-ID", p.id.as_str());
            attrs::set_quoted(&mut a, "STABLE-VARIANT-ID", &stable_id(uri.clone()));
            out.push_str("#EXT-X-STREAM-INF:");
            out.push_str(&attrs::write(&a));
            out.push('\n');
            out.push_str(&url(uri, p));
            out.push('\n');
        }
        Item::IFrame(a) => {
            let mut a = a.clone();
            if let Some(u) = attrs::get(&a, "URI").map(str::to_owned) {
                attrs::set_quoted(
                    &mut a,
                    "STABLE-VARIANT-ID",
                    &stable_id(format!("iframe-{u}")),
                );
                attrs::set_quoted(&mut a, "URI", &url(&u, p));
            }
            attrs::set_quoted(&mut a, "PATHWAY-ID", p.id.as_str());
            out.push_str("#EXT-X-I-FRAME-STREAM-INF:");
            out.push_str(&attrs::write(&a));
            out.push('\n');
        }
    }
}

/// `uri` on pathway `p`: a relative URI against its prefix, a path-absolute one against its
/// origin, an absolute one as it is; then the pathway's query.
fn url(uri: &str, p: &PathwayUrls) -> String {
    let mut out = if uri.contains("://") {
        uri.to_owned()
    } else if let Some(path) = uri.strip_prefix('/') {
        let origin_end = p
            .prefix
            .find("://")
            .and_then(|i| p.prefix[i + 3..].find('/').map(|j| i + 3 + j))
            .unwrap_or(p.prefix.len());
        format!("{}/{path}", &p.prefix[..origin_end])
    } else {
        format!("{}{uri}", p.prefix)
    };
    if let Some(q) = &p.query {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(q);
    }
    out
}

/// A stable id made from a URI (its path without `/media.m3u8`) or a rendition's name, in
/// the character set the draft allows (`A-Z a-z 0-9 + / = . - _`).
fn stable_id(from: String) -> String {
    let trimmed = from
        .split('?')
        .next()
        .unwrap_or(&from)
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
