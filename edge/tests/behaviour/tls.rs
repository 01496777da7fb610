//! TLS on the listener, seen from a real TLS client: HTTP/1.1 and HTTP/2 chosen by ALPN on
//! a self-signed certificate, an untrusting client refused, and unusable certificate
//! settings reported clearly at start-up.

use crate::common::{self_signed_demo, start_with, tls_client};
use edge::config::TlsConfig;
use edge::{Daemon, Server};

#[tokio::test(flavor = "multi_thread")]
async fn http1_and_http2_by_alpn_on_a_self_signed_certificate() {
    let server = start_with(self_signed_demo()).await;
    let pem = server.tls_cert_pem.clone().expect("TLS is on");
    let h1 = tls_client::get(server.addr, &pem, "/vod/demo/master.m3u8", false).await;
    assert_eq!(h1.alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(h1.version, http::Version::HTTP_11);
    assert_eq!(h1.status, 200);
    assert!(h1.body.starts_with(b"#EXTM3U"), "{:?}", h1.body);
    // TLS alone does not advertise HTTP/3.
    assert_eq!(h1.header("alt-svc"), None);

    let h2 = tls_client::get(server.addr, &pem, "/vod/demo/master.m3u8", true).await;
    assert_eq!(h2.alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(h2.version, http::Version::HTTP_2);
    assert_eq!(h2.status, 200);
    assert_eq!(h2.body, h1.body);

    // The playlists point at https URLs when they are absolute, never at http ones.
    assert!(!String::from_utf8_lossy(&h1.body).contains("http://"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_does_not_trust_the_certificate_fails_the_handshake() {
    let server = start_with(self_signed_demo()).await;
    // No roots at all.
    let none = tls_client::client_config(None, &[b"http/1.1"]);
    let err = tls_client::connect(server.addr, none).await.err();
    assert!(
        err.is_some(),
        "handshake succeeded without trusting the certificate"
    );
    // Trusting another self-signed certificate.
    let other = edge::http::tls::TlsSetup::self_signed(&[]).unwrap();
    let config = tls_client::client_config(Some(&other.cert_pem), &[b"h2"]);
    let err = tls_client::connect(server.addr, config).await.err();
    let err = err.expect("handshake succeeded with the wrong certificate");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    // The server is unharmed.
    let pem = server.tls_cert_pem.clone().unwrap();
    let ok = tls_client::get(server.addr, &pem, "/healthz", false).await;
    assert_eq!(ok.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_certificate_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "").unwrap();
    let mut config = self_signed_demo();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = TlsConfig {
        cert: Some(missing.clone()),
        key: Some(key),
        ..TlsConfig::default()
    };
    let daemon = Daemon::new(config).unwrap();
    let err = Server::bind(daemon).await.err().expect("bind must fail");
    let text = err.to_string();
    assert!(
        text.contains("cannot read the TLS certificate file"),
        "{text}"
    );
    assert!(text.contains("no-such-cert.pem"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_file_without_a_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let made = edge::http::tls::TlsSetup::self_signed(&[]).unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, &made.cert_pem).unwrap();
    let mut config = self_signed_demo();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = TlsConfig {
        cert: Some(cert.clone()),
        key: Some(cert),
        ..TlsConfig::default()
    };
    let err = Server::bind(Daemon::new(config).unwrap())
        .await
        .err()
        .expect("bind must fail");
    assert!(err.to_string().contains("no private key"), "{err}");
}
