//! The playback decision, pure: an asset (or none), the account's grants, the stream limit of
//! each product, the viewer's country and the time in; allowed (with the product that
//! allows it) or denied with every reason out. No IO, so every rule is a unit test.

use catalog::Asset;
use control_common::problem::{Reason, PROBLEM_BASE};

use crate::model::Grant;

/// Reason types of a denial (`reasons[].type`).
pub const ASSET_UNKNOWN: &str = "asset-unknown";
pub const ASSET_NOT_AVAILABLE: &str = "asset-not-available";
pub const TERRITORY_NOT_ALLOWED: &str = "territory-not-allowed";
pub const NOT_ENTITLED: &str = "not-entitled";

fn reason(slug: &str, detail: String) -> Reason {
    Reason {
        type_uri: format!("{PROBLEM_BASE}{slug}"),
        detail,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed { product: String, max_streams: u32 },
    Denied(Vec<Reason>),
}

/// What the decision looks at.
pub struct Facts<'a> {
    pub asset_id: &'a str,
    pub asset: Option<&'a Asset>,
    pub grants: &'a [Grant],
    /// The stream limit of each product the asset is in (`None` when the catalog no longer
    /// has the product).
    pub max_streams: &'a dyn Fn(&str) -> Option<u32>,
    pub country: Option<&'a str>,
    pub now: i64,
}

pub fn decide(f: &Facts<'_>) -> Decision {
    let Some(asset) = f.asset else {
        return Decision::Denied(vec![reason(
            ASSET_UNKNOWN,
            format!("the catalog has no asset {:?}", f.asset_id),
        )]);
    };
    let mut reasons = Vec::new();
    if !asset.availability.contains(f.now) {
        reasons.push(reason(
            ASSET_NOT_AVAILABLE,
            "the asset is outside its availability window".into(),
        ));
    }
    let territories = &asset.territories;
    if !territories.is_empty() {
        match f.country {
            Some(c) if territories.iter().any(|t| t.eq_ignore_ascii_case(c)) => {}
            Some(c) => reasons.push(reason(
                TERRITORY_NOT_ALLOWED,
                format!("the asset is not offered in {c}"),
            )),
            None => reasons.push(reason(
                TERRITORY_NOT_ALLOWED,
                "the asset is offered in some countries only, and the request names none".into(),
            )),
        }
    }
    // The best grant: one that holds now, for a product the asset is in, with the highest
    // stream limit (ties: the product id, so the choice is stable).
    let best = f
        .grants
        .iter()
        .filter(|g| g.holds_at(f.now) && asset.products.contains(&g.product))
        .filter_map(|g| (f.max_streams)(&g.product).map(|n| (n, &g.product)))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)));
    match best {
        None => {
            reasons.push(reason(
                NOT_ENTITLED,
                "the account holds no product that includes the asset".into(),
            ));
            Decision::Denied(reasons)
        }
        Some(_) if !reasons.is_empty() => Decision::Denied(reasons),
        Some((max_streams, product)) => Decision::Allowed {
            product: product.clone(),
            max_streams,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GrantInput;
    use catalog::model::{AssetInput, Availability, Encryption};

    fn asset(products: &[&str], territories: &[&str], window: Availability) -> Asset {
        Asset::new(
            "demo".into(),
            AssetInput {
                title: "Demo".into(),
                source: None,
                encryption: Encryption::default(),
                ads: None,
                availability: window,
                territories: territories.iter().map(|s| s.to_string()).collect(),
                products: products.iter().map(|s| s.to_string()).collect(),
            },
            1,
            0,
        )
    }

    fn grant(product: &str, starts: Option<i64>, ends: Option<i64>) -> Grant {
        Grant::new(
            format!("g-{product}"),
            GrantInput {
                account: "acct".into(),
                product: product.into(),
                starts_at: starts,
                ends_at: ends,
                source: "test".into(),
            },
            1,
            0,
        )
    }

    fn limits(p: &str) -> Option<u32> {
        match p {
            "basic" => Some(1),
            "premium" => Some(4),
            _ => None,
        }
    }

    fn run(asset: Option<&Asset>, grants: &[Grant], country: Option<&str>, now: i64) -> Decision {
        decide(&Facts {
            asset_id: "demo",
            asset,
            grants,
            max_streams: &limits,
            country,
            now,
        })
    }

    fn slugs(d: &Decision) -> Vec<String> {
        match d {
            Decision::Denied(r) => r
                .iter()
                .map(|r| r.type_uri.trim_start_matches(PROBLEM_BASE).to_owned())
                .collect(),
            Decision::Allowed { .. } => vec![],
        }
    }

    #[test]
    fn the_grant_with_the_most_streams_allows() {
        let a = asset(&["basic", "premium"], &[], Availability::default());
        let d = run(
            Some(&a),
            &[grant("basic", None, None), grant("premium", None, None)],
            None,
            100,
        );
        assert_eq!(
            d,
            Decision::Allowed {
                product: "premium".into(),
                max_streams: 4
            }
        );
    }

    #[test]
    fn grants_outside_their_window_or_for_other_products_do_not() {
        let a = asset(&["basic"], &[], Availability::default());
        for g in [
            grant("basic", Some(200), None),
            grant("basic", None, Some(100)),
            grant("premium", None, None),
        ] {
            assert_eq!(slugs(&run(Some(&a), &[g], None, 100)), vec![NOT_ENTITLED]);
        }
        // The end is exclusive, the start inclusive.
        assert!(matches!(
            run(Some(&a), &[grant("basic", Some(100), Some(101))], None, 100),
            Decision::Allowed { .. }
        ));
    }

    #[test]
    fn every_reason_is_given() {
        let a = asset(
            &["basic"],
            &["FR"],
            Availability {
                starts_at: Some(500),
                ends_at: None,
            },
        );
        let d = run(Some(&a), &[], Some("DE"), 100);
        assert_eq!(
            slugs(&d),
            vec![ASSET_NOT_AVAILABLE, TERRITORY_NOT_ALLOWED, NOT_ENTITLED]
        );
        let entitled = [grant("basic", None, None)];
        assert_eq!(
            slugs(&run(Some(&a), &entitled, None, 600)),
            vec![TERRITORY_NOT_ALLOWED]
        );
        assert!(matches!(
            run(Some(&a), &entitled, Some("FR"), 600),
            Decision::Allowed { .. }
        ));
        assert_eq!(slugs(&run(None, &entitled, None, 600)), vec![ASSET_UNKNOWN]);
    }

    #[test]
    fn a_product_gone_from_the_catalog_allows_nothing() {
        let a = asset(&["gone"], &[], Availability::default());
        assert_eq!(
            slugs(&run(Some(&a), &[grant("gone", None, None)], None, 1)),
            vec![NOT_ENTITLED]
        );
    }
}
