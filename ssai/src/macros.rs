//! URL templates filled in: the `[NAME]` macros of VAST tracking and error URLs
//! (`[ERRORCODE]`, `[CACHEBUSTING]`, `[TIMESTAMP]`...) and of the ad decision server URL
//! template (MediaTailor's `[session.id]`, `[player_params.NAME]`, `[avail.index]`,
//! `[avail.duration]`...). Values are percent-encoded; a macro without a value is left as it
//! is. The result is capped at [`MAX_URL_BYTES`].

/// The longest URL produced; a longer one is cut at the last whole macro or byte that fits.
pub const MAX_URL_BYTES: usize = 8192;

/// `template` with each `[NAME]` for which `value(NAME)` gives a value replaced by it,
/// percent-encoded. A macro written percent-encoded (`%5BNAME%5D`, as ad servers that keep
/// their URLs valid `xs:anyURI` write it) is the same macro.
pub fn expand(template: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let decoded = decode_brackets(template, value);
    let mut out = String::with_capacity(decoded.len() + 32);
    let mut rest: &str = &decoded;
    while let Some(open) = rest.find('[') {
        let (before, from) = rest.split_at(open);
        out.push_str(before);
        let close = from.find(']').filter(|&c| c <= 128);
        match close.and_then(|c| value(&from[1..c]).map(|v| (c, v))) {
            Some((c, v)) => {
                encode_into(&mut out, &v);
                rest = &from[c + 1..];
            }
            None => {
                out.push('[');
                rest = &from[1..];
            }
        }
        if out.len() > MAX_URL_BYTES {
            break;
        }
    }
    out.push_str(rest);
    if out.len() > MAX_URL_BYTES {
        let mut cut = MAX_URL_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        // Never in the middle of a `%XX` escape (looked for in bytes: the two before the
        // cut may end a multi-byte character, and `%` is never inside one).
        let from = cut.saturating_sub(2);
        if let Some(p) = out.as_bytes()[from..cut].iter().position(|&b| b == b'%') {
            cut = from + p;
        }
        out.truncate(cut);
    }
    out
}

/// `template` with every `%5BNAME%5D` (either case) whose NAME has a value written `[NAME]`;
/// the rest as it is.
fn decode_brackets<'a>(
    template: &'a str,
    value: &dyn Fn(&str) -> Option<String>,
) -> std::borrow::Cow<'a, str> {
    let lower = template.to_ascii_lowercase();
    if !lower.contains("%5b") {
        return std::borrow::Cow::Borrowed(template);
    }
    let mut out = String::with_capacity(template.len());
    let mut at = 0;
    while let Some(open) = lower[at..].find("%5b").map(|i| at + i) {
        let name_start = open + 3;
        let close = lower[name_start..]
            .find("%5d")
            .map(|i| name_start + i)
            .filter(|&c| c - name_start <= 128);
        let name = close.map(|c| &template[name_start..c]);
        match (close, name) {
            (Some(c), Some(n)) if value(n).is_some() => {
                out.push_str(&template[at..open]);
                out.push('[');
                out.push_str(n);
                out.push(']');
                at = c + 3;
            }
            _ => {
                out.push_str(&template[at..name_start]);
                at = name_start;
            }
        }
    }
    out.push_str(&template[at..]);
    std::borrow::Cow::Owned(out)
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn encode_into(out: &mut String, v: &str) {
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Option<String> {
        match name {
            "ERRORCODE" => Some("303".into()),
            "session.id" => Some("s-1".into()),
            "player_params.device" => Some("tv & box".into()),
            "avail.index" => Some("2".into()),
            _ => None,
        }
    }

    #[test]
    fn known_macros_are_filled_and_encoded_unknown_ones_kept() {
        assert_eq!(
            expand("https://ads.example/e?c=[ERRORCODE]&s=[session.id]&d=[player_params.device]&i=[avail.index]&x=[UNKNOWN]&y=[", &values),
            "https://ads.example/e?c=303&s=s-1&d=tv%20%26%20box&i=2&x=[UNKNOWN]&y=["
        );
        assert_eq!(expand("no macros", &values), "no macros");
    }

    #[test]
    fn percent_encoded_macros_are_macros_too() {
        assert_eq!(
            expand(
                "https://e.example/?c=%5BERRORCODE%5D&d=%5bavail.index%5d&x=%5BUNKNOWN%5D&y=%5B",
                &values
            ),
            "https://e.example/?c=303&d=2&x=%5BUNKNOWN%5D&y=%5B"
        );
    }

    #[test]
    fn the_result_is_bounded() {
        let template = "[session.id]".repeat(10_000);
        assert!(expand(&template, &|_| Some("x".repeat(100))).len() <= MAX_URL_BYTES);
        // Cut anywhere, an escape stays whole.
        for pad in 0..3 {
            let t = format!("{}{}", "a".repeat(pad), "[v]".repeat(5_000));
            let out = expand(&t, &|_| Some(" ".into()));
            assert!(out.len() <= MAX_URL_BYTES);
            let tail = &out[out.len() - 3..];
            assert!(tail == "%20" || !tail.contains('%'), "{tail:?}");
        }
        // A cut that falls just after a multi-byte character (the fuzzer's find).
        let t = format!("{}[v]", "€".repeat(2800));
        let out = expand(&t, &|_| Some("x".into()));
        assert!(out.len() <= MAX_URL_BYTES && out.ends_with('€'));
        let long = format!("[{}]", "a".repeat(1000));
        assert_eq!(expand(&long, &values), long);
    }
}
