//! A real TLS client for the behaviour tests: rustls (ring) trusting only the certificate
//! given, ALPN as asked, then hyper's HTTP/1.1 or HTTP/2 client on top.
//! Included with `#[path = "common/tls_client.rs"] mod tls_client;`.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A client configuration trusting only `cert_pem` (nothing at all when `None`).
pub fn client_config(cert_pem: Option<&str>, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = cert_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// Connects and completes the TLS handshake for the name `localhost`.
pub async fn connect(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(config).connect(name, tcp).await
}

/// A response as seen over TLS.
pub struct TlsFetched {
    pub version: http::Version,
    pub alpn: Option<Vec<u8>>,
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl TlsFetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// GET `path` over a new TLS connection trusting `cert_pem`: HTTP/2 when `h2` (ALPN `h2`
/// only), else HTTP/1.1 (ALPN `http/1.1` only).
pub async fn get(addr: SocketAddr, cert_pem: &str, path: &str, h2: bool) -> TlsFetched {
    let alpn: &[&[u8]] = if h2 { &[b"h2"] } else { &[b"http/1.1"] };
    let stream = connect(addr, client_config(Some(cert_pem), alpn))
        .await
        .unwrap_or_else(|e| panic!("TLS connect to {addr}: {e}"));
    let negotiated = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let io = TokioIo::new(stream);
    let req = http::Request::builder()
        .uri(format!("https://localhost:{}{path}", addr.port()))
        .header(http::header::HOST, format!("localhost:{}", addr.port()))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = if h2 {
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = req;
        req.headers_mut().remove(http::header::HOST);
        sender.send_request(req).await.unwrap()
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(conn);
        let mut req = req;
        *req.uri_mut() = path.parse().unwrap();
        sender.send_request(req).await.unwrap()
    };
    let version = res.version();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    TlsFetched {
        version,
        alpn: negotiated,
        status,
        headers,
        body,
    }
}
