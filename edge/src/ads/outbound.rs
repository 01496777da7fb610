//! Where ad servers may send the edge. Wrapper URLs, media files and beacons come from ad
//! server answers, which the operator does not write: a hostile or broken one could make the
//! edge call into the network it sits in (an admin port on loopback, a metadata service on a
//! link-local address). Unless `ads.allow_private_addresses` is on, such URLs are refused
//! before any request ([`check`]), host names are resolved to public addresses only
//! ([`PublicOnly`]), and redirects are held to the same rule ([`redirects`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10, carrier-grade NAT; 198.18.0.0/15, benchmarking.
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link local, 2001:db8::/32 documentation.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8))
}

/// Refuses a URL an ad server gave that the edge must not call: not `http(s)`, or naming a
/// non-public address (unless `allow_private`). Host names are checked as they resolve.
pub fn check(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?}: only http and https URLs are followed"));
    }
    if allow_private {
        return Ok(());
    }
    let host = parsed.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let private = match bare.parse::<IpAddr>() {
        Ok(ip) => !is_public(ip),
        Err(_) => {
            host.is_empty()
                || host.eq_ignore_ascii_case("localhost")
                || host.to_ascii_lowercase().ends_with(".localhost")
        }
    };
    if private {
        return Err(format!(
            "{url:?}: a private address (ads.allow_private_addresses is off)"
        ));
    }
    Ok(())
}

/// A resolver that hands out public addresses only.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// A redirect policy: at most `max` hops, each to a URL [`check`] lets through.
pub fn redirects(max: usize, allow_private: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= max {
            attempt.error("too many redirects")
        } else if check(attempt.url().as_str(), allow_private).is_err() {
            attempt.error("a redirect to a private address")
        } else {
            attempt.follow()
        }
    })
}

/// A client builder for ad server traffic: TLS, a user agent, redirects and addresses held to
/// the rules above.
pub fn client_builder(allow_private: bool) -> Result<reqwest::ClientBuilder, String> {
    let tls = crate::outbound_tls::client_config(true).map_err(|e| e.to_string())?;
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(redirects(3, allow_private))
        .user_agent(concat!("edgepack/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_odd_urls_are_refused() {
        for url in [
            "http://127.0.0.1:9090/admin",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:192.168.0.1]/",
            "http://localhost/",
            "http://100.64.0.1/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "not a url",
        ] {
            assert!(check(url, false).is_err(), "{url}");
        }
        assert!(check("https://ads.example.com/vast", false).is_ok());
        assert!(check("http://8.8.8.8/", false).is_ok());
        assert!(check("http://127.0.0.1:9090/", true).is_ok());
        assert!(check("file:///etc/passwd", true).is_err());
    }
}
