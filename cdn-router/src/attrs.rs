//! HLS attribute lists (RFC 8216 4.2): `NAME=value,NAME="quoted, value"` read into pairs, so
//! a tag can be written again one attribute at a time.

/// One attribute: its name and its value as written (a quoted string keeps its quotes),
/// borrowed from the list.
pub(crate) type Attr<'a> = (&'a str, &'a str);

/// The attributes of `list`, or `None` when it is not an attribute list.
pub(crate) fn parse(list: &str) -> Option<Vec<Attr<'_>>> {
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
        out.push((name, value));
        rest = match after.strip_prefix(',') {
            Some(r) => r,
            None if after.is_empty() => after,
            None => return None,
        };
    }
    Some(out)
}

/// The value of `name`, without quotes.
pub(crate) fn get<'a>(attrs: &[Attr<'a>], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| *n == name).map(|(_, v)| {
        v.strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_values_as_written() {
        let list = r#"BANDWIDTH=1,CODECS="avc1.64000c,mp4a.40.2",RESOLUTION=320x180,AUDIO="a""#;
        let attrs = parse(list).unwrap();
        let names: Vec<&str> = attrs.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["BANDWIDTH", "CODECS", "RESOLUTION", "AUDIO"]);
        assert_eq!(attrs[1].1, r#""avc1.64000c,mp4a.40.2""#);
        assert_eq!(get(&attrs, "CODECS"), Some("avc1.64000c,mp4a.40.2"));
        assert_eq!(get(&attrs, "RESOLUTION"), Some("320x180"));
    }

    #[test]
    fn not_attribute_lists() {
        for bad in ["X", "X=\"open", "x=1", "A=\"q\"B=1", "=1"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
