//! The rules an asset or product must meet beyond its JSON shape; each broken rule is a
//! `bad-request` problem that names the field.

use control_common::Problem;

use crate::model::{AssetInput, ProductInput, Scheme};

const MAX_TITLE: usize = 500;
const MAX_LIST: usize = 250;

fn bad(field: &str, why: impl std::fmt::Display) -> Problem {
    Problem::bad_request(format!("{field}: {why}"))
}

fn title(field: &str, t: &str) -> Result<(), Problem> {
    if t.trim().is_empty() || t.chars().count() > MAX_TITLE || t.chars().any(char::is_control) {
        return Err(bad(field, format!("1 to {MAX_TITLE} printable characters")));
    }
    Ok(())
}

pub fn asset(a: &AssetInput) -> Result<(), Problem> {
    title("title", &a.title)?;
    if let Some(s) = &a.source {
        if s.is_empty() || s.len() > 2048 || s.chars().any(char::is_control) {
            return Err(bad("source", "1 to 2048 printable characters"));
        }
    }
    let drm = &a.encryption.drm_systems;
    match a.encryption.scheme {
        Scheme::None | Scheme::Aes128 if !drm.is_empty() => {
            return Err(bad(
                "encryption.drm_systems",
                "DRM systems need scheme sample-aes, cenc or cbcs",
            ))
        }
        _ => {}
    }
    if let Some(ads) = &a.ads {
        if !(ads.ad_server.starts_with("http://") || ads.ad_server.starts_with("https://")) {
            return Err(bad("ads.ad_server", "an http(s) URL template"));
        }
        if ads.cue_points.len() > MAX_LIST {
            return Err(bad("ads.cue_points", format!("at most {MAX_LIST}")));
        }
        for c in &ads.cue_points {
            if ssai::time::parse_offset(c).is_none() {
                return Err(bad(
                    "ads.cue_points",
                    format!("{c:?} is not start, end, HH:MM:SS.mmm, n% or #n"),
                ));
            }
        }
        if ads.break_seconds == Some(0) {
            return Err(bad("ads.break_seconds", "more than 0"));
        }
    }
    if let (Some(s), Some(e)) = (a.availability.starts_at, a.availability.ends_at) {
        if e <= s {
            return Err(bad("availability", "ends_at must be after starts_at"));
        }
    }
    if a.territories.len() > MAX_LIST {
        return Err(bad("territories", format!("at most {MAX_LIST}")));
    }
    for t in &a.territories {
        if t.len() != 2 || !t.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(
                "territories",
                format!("{t:?} is not an ISO 3166-1 alpha-2 code such as \"FR\""),
            ));
        }
    }
    if a.products.len() > MAX_LIST {
        return Err(bad("products", format!("at most {MAX_LIST}")));
    }
    for p in &a.products {
        if !control_common::ids::valid_id(p) {
            return Err(bad("products", format!("{p:?} is not a product id")));
        }
    }
    Ok(())
}

pub fn product(p: &ProductInput) -> Result<(), Problem> {
    title("name", &p.name)?;
    if !(1..=100).contains(&p.max_streams) {
        return Err(bad("max_streams", "1 to 100"));
    }
    Ok(())
}

/// An id that is looked up: one no resource can have is simply not found (404), as the
/// contract's read and delete operations promise.
pub fn known_id(what: &str, id: &str) -> Result<(), Problem> {
    if !control_common::ids::valid_id(id) {
        return Err(Problem::not_found(what, id));
    }
    Ok(())
}

pub fn id(what: &str, id: &str) -> Result<(), Problem> {
    if !control_common::ids::valid_id(id) {
        return Err(Problem::bad_request(format!(
            "{what} id {id:?}: 1 to 128 characters of A-Z a-z 0-9 . _ - :, not starting with a dot"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AdPolicy, Availability, DrmSystem, Encryption};

    /// A change that breaks one rule.
    type Change = Box<dyn Fn(&mut AssetInput)>;

    fn ok_asset() -> AssetInput {
        AssetInput {
            title: "Demo".into(),
            source: None,
            encryption: Encryption::default(),
            ads: None,
            availability: Availability::default(),
            territories: vec!["FR".into()],
            products: vec!["basic".into()],
        }
    }

    #[test]
    fn a_good_asset_passes_and_each_broken_rule_is_named() {
        assert!(asset(&ok_asset()).is_ok());
        let cases: Vec<(&str, Change)> = vec![
            ("title", Box::new(|a| a.title = " ".into())),
            (
                "territories",
                Box::new(|a| a.territories = vec!["fr".into()]),
            ),
            ("products", Box::new(|a| a.products = vec!["a/b".into()])),
            (
                "availability",
                Box::new(|a| {
                    a.availability = Availability {
                        starts_at: Some(10),
                        ends_at: Some(5),
                    }
                }),
            ),
            (
                "encryption.drm_systems",
                Box::new(|a| {
                    a.encryption = Encryption {
                        scheme: Scheme::Aes128,
                        drm_systems: vec![DrmSystem::Widevine],
                    }
                }),
            ),
            (
                "ads.cue_points",
                Box::new(|a| {
                    a.ads = Some(AdPolicy {
                        ad_server: "https://ads.example/vast".into(),
                        cue_points: vec!["soon".into()],
                        break_seconds: None,
                        mode: Default::default(),
                    })
                }),
            ),
        ];
        for (field, change) in cases {
            let mut a = ok_asset();
            change(&mut a);
            let e = asset(&a).unwrap_err();
            assert!(e.detail.starts_with(field), "{field}: {}", e.detail);
        }
    }

    #[test]
    fn products_need_a_name_and_a_sane_stream_count() {
        let p = |n: &str, s| ProductInput {
            name: n.into(),
            max_streams: s,
        };
        assert!(product(&p("Basic", 2)).is_ok());
        assert!(product(&p("", 2)).is_err());
        assert!(product(&p("Basic", 0)).is_err());
        assert!(product(&p("Basic", 101)).is_err());
    }
}
