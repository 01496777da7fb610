//! What a token is checked against: the request as the edge saw it, and the time.

use std::net::IpAddr;

/// One request, as far as the claims care.
#[derive(Debug, Clone, Copy)]
pub struct RequestFacts<'a> {
    /// `http` or `https`.
    pub scheme: &'a str,
    /// Host without port, lower case.
    pub host: &'a str,
    /// The port the client addressed (explicit or the scheme's default).
    pub port: u16,
    /// The path, starting with `/`, not decoded.
    pub path: &'a str,
    /// The query without `?`, with the token's own parameter removed; empty when none.
    pub query: &'a str,
    /// The method, upper case.
    pub method: &'a str,
    /// The client's address, when known.
    pub client_ip: Option<IpAddr>,
    /// The client's ISO 3166 country (alpha-2, optionally `-subdivision`), from the CDN in
    /// front, when known.
    pub country: Option<&'a str>,
    /// The HTTP version as an ALPN id: `http/1.1`, `h2` or `h3`.
    pub alpn: &'a str,
    /// Seconds since the Unix epoch.
    pub now: u64,
}
