//! HLS attribute lists (RFC 8216 4.2): `NAME=value,NAME="quoted, value"` read into pairs and
//! written back, so a tag can be changed one attribute at a time.

/// One attribute: its name and its value as written (a quoted string keeps its quotes).
pub(crate) type Attr = (String, String);

/// The attributes of `list`, or `None` when it is not an attribute list.
pub(crate) fn parse(list: &str) -> Option<Vec<Attr>> {
    let mut out = Vec::new();
    let mut rest = list;
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=')?;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        {
            return None;
        }
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&after[..end + 2], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        out.push((name.to_owned(), value.to_owned()));
        rest = match after.strip_prefix(',') {
            Some(r) => r,
            None if after.is_empty() => after,
            None => return None,
        };
    }
    Some(out)
}

/// The value of `name`, without quotes.
pub(crate) fn get<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| {
        v.strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v)
    })
}

/// Sets `name` to the quoted string `value` (replacing it, or appending it).
pub(crate) fn set_quoted(attrs: &mut Vec<Attr>, name: &str, value: &str) {
    let quoted = format!("\"{value}\"");
    match attrs.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => *v = quoted,
        None => attrs.push((name.to_owned(), quoted)),
    }
}

/// The attribute list as text.
pub(crate) fn write(attrs: &[Attr]) -> String {
    let mut out = String::new();
    for (i, (n, v)) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(n);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_back_unchanged() {
        let list = r#"BANDWIDTH=1,CODECS="avc1.64000c,mp4a.40.2",RESOLUTION=320x180,AUDIO="a""#;
        let attrs = parse(list).unwrap();
        assert_eq!(attrs.len(), 4);
        assert_eq!(get(&attrs, "CODECS"), Some("avc1.64000c,mp4a.40.2"));
        assert_eq!(get(&attrs, "RESOLUTION"), Some("320x180"));
        assert_eq!(write(&attrs), list);
    }

    #[test]
    fn not_attribute_lists() {
        for bad in ["X", "X=\"open", "x=1", "A=\"q\"B=1", "=1"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn set_replaces_or_appends() {
        let mut a = parse("A=1").unwrap();
        set_quoted(&mut a, "A", "x");
        set_quoted(&mut a, "B", "y");
        assert_eq!(write(&a), r#"A="x",B="y""#);
    }
}
