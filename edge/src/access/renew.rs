//! Renewal (`catr`): a request whose CAT is inside its renewal window gets a new token with a
//! fresh `cti`, `iat = now`, `exp = now + expadd` and the same session, delivered the way the
//! claim asks: a `Set-Cookie`, a response header, or a redirect to the same URL carrying the
//! new token. "Automatic" answers the way the token came; a token in a manifest's query is
//! renewed in the URLs of the manifests instead (see `manifest_tokens`).

use access::cat::mint::renewal;
use access::cat::Delivery;
use http::header::{self, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};

use crate::access::clock;
use crate::access::extract::Carrier;
use crate::access::gate::Viewer;
use crate::access::Access;
use crate::http::body::PartsBody;

/// What the response gets.
#[derive(Debug)]
pub enum Renewed {
    /// Answer with a redirect to this location instead of the object.
    Redirect(StatusCode, HeaderValue),
    /// Add this header to the response.
    Header(HeaderName, HeaderValue),
}

/// The renewal due for `viewer`'s token, if any. `manifest` says whether the object is a
/// manifest (whose URLs carry renewed tokens already).
pub fn due(
    access: &Access,
    viewer: &Viewer,
    req: &Parts,
    manifest: bool,
    tls: bool,
) -> Option<Renewed> {
    let token = viewer.cat()?;
    let now = clock::now_s();
    let catr = token.renewal_due(now)?;
    let delivery = match (catr.delivery, &viewer.carrier) {
        (Delivery::Automatic, Carrier::Header(_)) => Delivery::Header,
        (Delivery::Automatic, Carrier::Cookie(_)) => Delivery::Cookie,
        (Delivery::Automatic, Carrier::Query(_)) => Delivery::Redirect,
        (d, _) => d,
    };
    if delivery == Delivery::Redirect && (manifest || req.method == Method::POST) {
        return None;
    }
    let signer = access.signer()?;
    let mut cti = [0u8; 16];
    ring::rand::SecureRandom::fill(&access.rng, &mut cti).ok()?;
    let text = renewal(
        &token.claims,
        catr.expadd,
        now,
        &cti,
        Some(&access.config.issuer),
        viewer.session.as_deref(),
    )
    .mint(signer, &access.rng)
    .ok()?;
    let label = match delivery {
        Delivery::Cookie => "cookie",
        Delivery::Header => "header",
        _ => "redirect",
    };
    access.metrics.renewals.with_label_values(&[label]).inc();
    match delivery {
        Delivery::Header => {
            let name = catr
                .header_name
                .clone()
                .or_else(|| match &viewer.carrier {
                    Carrier::Header(n) => Some(n.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| access::cat::renewal::DEFAULT_NAME.to_owned());
            let mut value = text;
            for p in &catr.header_params {
                value.push_str("; ");
                value.push_str(p);
            }
            Some(Renewed::Header(
                HeaderName::from_bytes(name.as_bytes()).ok()?,
                HeaderValue::from_str(&value).ok()?,
            ))
        }
        Delivery::Cookie => {
            let name = catr
                .cookie_name
                .clone()
                .or_else(|| match &viewer.carrier {
                    Carrier::Cookie(n) => Some(n.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| access::cat::renewal::DEFAULT_NAME.to_owned());
            let mut cookie = format!("{name}={text}; Path=/; Max-Age={}; HttpOnly", catr.expadd);
            // Browsers drop `SameSite=None` cookies that are not `Secure`, and `Secure` ones
            // set over plain HTTP.
            cookie.push_str(if tls {
                "; Secure; SameSite=None"
            } else {
                "; SameSite=Lax"
            });
            for p in &catr.cookie_params {
                cookie.push_str("; ");
                cookie.push_str(p);
            }
            Some(Renewed::Header(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).ok()?,
            ))
        }
        _ => {
            let name = match &viewer.carrier {
                Carrier::Query(n) => n.as_ref(),
                _ => "cat",
            };
            let mut location = req.uri.path().to_owned();
            let mut sep = '?';
            for pair in req
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
            {
                if pair.split_once('=').map_or(pair, |(n, _)| n) != name {
                    location.push(sep);
                    location.push_str(pair);
                    sep = '&';
                }
            }
            location.push(sep);
            location.push_str(name);
            location.push('=');
            location.push_str(&text);
            Some(Renewed::Redirect(
                StatusCode::from_u16(catr.status).unwrap_or(StatusCode::FOUND),
                HeaderValue::from_str(&location).ok()?,
            ))
        }
    }
}

/// The redirect answer.
pub fn redirect(status: StatusCode, location: HeaderValue) -> Response<PartsBody> {
    let mut res = Response::new(PartsBody::empty());
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    res
}

/// Adds a renewal header to a response, and keeps shared caches from storing it.
pub fn decorate(res: &mut Response<PartsBody>, name: HeaderName, value: HeaderValue) {
    let h = res.headers_mut();
    h.append(name, value);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
}
