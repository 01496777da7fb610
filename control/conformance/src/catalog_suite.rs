//! The catalog contract's suite: products and assets created, replaced (a repeat is a no-op),
//! read, listed a page at a time and deleted; references checked; every error answer.

use http::Method;
use serde_json::{json, Value};

use crate::http_check::{bad_bodies, field, fresh, problem, status, Check, Outcome, Req, Suite};

pub async fn run(check: &Check) -> Vec<Outcome> {
    let mut s = Suite::default();
    let product = fresh("conf-product");
    let product2 = fresh("conf-product");
    let asset = fresh("conf-asset");
    let product_path = format!("/v1/products/{product}");
    let asset_path = format!("/v1/assets/{asset}");
    let product_body = json!({"name": "Conformance", "max_streams": 2});

    let r = check
        .send(Req::new(Method::PUT, &product_path).json(&product_body))
        .await;
    let created = r.and_then(|a| {
        status(&a, 201)?;
        field(&a.json, "id", &json!(product))?;
        field(&a.json, "max_streams", &json!(2))?;
        Ok(a.json)
    });
    let revision = created.as_ref().ok().map(|v| v["revision"].clone());
    s.record(
        "PUT a new product is 201 with the product",
        created.map(|_| ()),
    );

    let r = check
        .send(Req::new(Method::PUT, &product_path).json(&product_body))
        .await;
    s.record(
        "PUT the same product again is 200 and keeps its revision",
        r.and_then(|a| {
            status(&a, 200)?;
            field(
                &a.json,
                "revision",
                revision.as_ref().unwrap_or(&Value::Null),
            )
        }),
    );
    let r = check
        .send(
            Req::new(Method::PUT, &product_path)
                .json(&json!({"name": "Conformance", "max_streams": 3})),
        )
        .await;
    s.record(
        "PUT a changed product is 200 with the change",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "max_streams", &json!(3))
        }),
    );
    let _ = check
        .send(
            Req::new(Method::PUT, &format!("/v1/products/{product2}"))
                .json(&json!({"name": "Second", "max_streams": 1})),
        )
        .await;
    let r = check.send(Req::new(Method::GET, &product_path)).await;
    s.record(
        "GET a product",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "name", &json!("Conformance"))
        }),
    );
    let r = check
        .send(
            Req::new(Method::PUT, "/v1/products/conf-bad")
                .json(&json!({"name": "", "max_streams": 0})),
        )
        .await;
    s.record(
        "PUT an invalid product is 400",
        r.and_then(|a| problem(&a, 400, "bad-request")),
    );
    bad_bodies(
        check,
        &mut s,
        "PUT product",
        Method::PUT,
        &product_path,
        &product_body,
    )
    .await;

    // Paging: walk the whole list one item at a time; both products must appear once.
    let mut seen = Vec::new();
    let mut after = String::new();
    let mut paging: Result<(), String> = Ok(());
    for _ in 0..10_000 {
        let path = if after.is_empty() {
            "/v1/products?limit=1".to_string()
        } else {
            format!("/v1/products?limit=1&after={after}")
        };
        match check.send(Req::new(Method::GET, &path)).await {
            Ok(a) if a.status == 200 => {
                if let Some(items) = a.json["items"].as_array() {
                    if items.len() > 1 {
                        paging = Err(format!("limit=1 gave {} items", items.len()));
                        break;
                    }
                    seen.extend(
                        items
                            .iter()
                            .filter_map(|i| i["id"].as_str().map(str::to_owned)),
                    );
                }
                match a.json["next"].as_str() {
                    Some(n) => after = n.to_owned(),
                    None => break,
                }
            }
            Ok(a) => {
                paging = Err(format!("status {}", a.status));
                break;
            }
            Err(e) => {
                paging = Err(e);
                break;
            }
        }
    }
    s.record(
        "GET /v1/products a page at a time lists every product once",
        paging.and_then(|()| {
            for p in [&product, &product2] {
                if seen.iter().filter(|s| *s == p).count() != 1 {
                    return Err(format!(
                        "{p} seen {} times",
                        seen.iter().filter(|s| *s == p).count()
                    ));
                }
            }
            Ok(())
        }),
    );
    let r = check
        .send(Req::new(Method::GET, "/v1/products?limit=0"))
        .await;
    s.record(
        "a limit of 0 is 400",
        r.and_then(|a| problem(&a, 400, "bad-request")),
    );
    let r = check
        .send(Req::new(Method::GET, "/v1/products?color=red"))
        .await;
    s.record(
        "an unknown query parameter is 400",
        r.and_then(|a| problem(&a, 400, "bad-request")),
    );

    let asset_body = json!({
        "title": "Conformance asset",
        "encryption": {"scheme": "cbcs", "drm_systems": ["widevine", "fairplay"]},
        "ads": {"ad_server": "https://ads.example/vast?s=[session.id]", "cue_points": ["start", "00:00:10.000", "50%"]},
        "availability": {"starts_at": 0, "ends_at": 4_102_444_800i64},
        "territories": ["FR", "DE"],
        "products": [product, product2],
    });
    let r = check
        .send(Req::new(Method::PUT, &asset_path).json(&asset_body))
        .await;
    s.record(
        "PUT a new asset is 201 with every field",
        r.and_then(|a| {
            status(&a, 201)?;
            field(&a.json, "title", &json!("Conformance asset"))?;
            field(&a.json, "territories", &json!(["FR", "DE"]))?;
            field(&a.json["encryption"], "scheme", &json!("cbcs"))?;
            let mut products = vec![product.clone(), product2.clone()];
            products.sort();
            field(&a.json, "products", &json!(products))
        }),
    );
    let mut unknown_ref = asset_body.clone();
    unknown_ref["products"] = json!(["conf-no-such-product"]);
    let r = check
        .send(Req::new(Method::PUT, &asset_path).json(&unknown_ref))
        .await;
    s.record(
        "PUT an asset in a product that does not exist is 422",
        r.and_then(|a| problem(&a, 422, "reference-unknown")),
    );
    let mut bad_cue = asset_body.clone();
    bad_cue["ads"]["cue_points"] = json!(["soon"]);
    let r = check
        .send(Req::new(Method::PUT, &asset_path).json(&bad_cue))
        .await;
    s.record(
        "PUT an asset with a malformed cue point is 400",
        r.and_then(|a| problem(&a, 400, "bad-request")),
    );
    let r = check.send(Req::new(Method::GET, &asset_path)).await;
    s.record(
        "GET an asset",
        r.and_then(|a| {
            status(&a, 200)?;
            field(
                &a.json["ads"],
                "cue_points",
                &json!(["start", "00:00:10.000", "50%"]),
            )
        }),
    );
    let r = check
        .send(Req::new(
            Method::GET,
            &format!("/v1/assets?product={product2}&limit=500"),
        ))
        .await;
    s.record(
        "GET /v1/assets?product= lists the product's assets",
        r.and_then(|a| {
            status(&a, 200)?;
            let ids: Vec<&str> = a.json["items"]
                .as_array()
                .map(|v| v.iter().filter_map(|i| i["id"].as_str()).collect())
                .unwrap_or_default();
            if ids != [asset.as_str()] {
                return Err(format!("items {ids:?}"));
            }
            Ok(())
        }),
    );
    bad_bodies(
        check,
        &mut s,
        "PUT asset",
        Method::PUT,
        &asset_path,
        &asset_body,
    )
    .await;

    // A deleted product leaves the assets that were in it.
    let r = check
        .send(Req::new(
            Method::DELETE,
            &format!("/v1/products/{product2}"),
        ))
        .await;
    s.record("DELETE a product is 204", r.and_then(|a| status(&a, 204)));
    let r = check.send(Req::new(Method::GET, &asset_path)).await;
    s.record(
        "an asset no longer lists a deleted product",
        r.and_then(|a| field(&a.json, "products", &json!([product]))),
    );
    let r = check.send(Req::new(Method::DELETE, &asset_path)).await;
    s.record("DELETE an asset is 204", r.and_then(|a| status(&a, 204)));
    let r = check.send(Req::new(Method::GET, &asset_path)).await;
    s.record(
        "GET a deleted asset is 404",
        r.and_then(|a| problem(&a, 404, "not-found")),
    );
    let r = check.send(Req::new(Method::DELETE, &asset_path)).await;
    s.record(
        "DELETE a deleted asset is 404",
        r.and_then(|a| problem(&a, 404, "not-found")),
    );
    let r = check
        .send(Req::new(Method::GET, "/v1/assets/no-such-asset-0"))
        .await;
    s.record(
        "GET an unknown asset is 404",
        r.and_then(|a| problem(&a, 404, "not-found")),
    );
    let r = check
        .send(Req::new(Method::GET, &product_path).anonymous())
        .await;
    s.record(
        "GET without an API key is 401",
        r.and_then(|a| problem(&a, 401, "api-key-invalid")),
    );
    let r = check.send(Req::new(Method::DELETE, &product_path)).await;
    s.record("DELETE the product is 204", r.and_then(|a| status(&a, 204)));
    s.outcomes
}
