//! TLS for the daemon's own outbound requests (HTTP origins, the SPEKE key server): rustls
//! on ring with the operating system's trust roots, HTTP/1.1 by ALPN. ring is already in
//! the build through `drm`; reqwest's own rustls feature would add aws-lc-rs.

use std::sync::Arc;

/// A client configuration that verifies servers against the system's roots; with
/// `verify_with_system_roots` false, one with no roots at all (for plain-HTTP clients,
/// which never use it, on hosts without a CA bundle).
pub fn client_config(
    verify_with_system_roots: bool,
) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?;
    let mut config = if verify_with_system_roots {
        use rustls_platform_verifier::BuilderVerifierExt as _;
        builder.with_platform_verifier()?.with_no_client_auth()
    } else {
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
