//! TLS for the listener: the rustls server configurations (ring provider) for TCP, with
//! ALPN `h2` and `http/1.1`, and for QUIC, with ALPN `h3` and TLS 1.3 only, both from the
//! same certificate. The certificate chain and key come from PEM files, or with
//! `tls.self_signed` a certificate is made at start-up (for demos and tests).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::config::TlsConfig;

/// ALPN protocol ids offered over TCP, preferred first.
pub const TCP_ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];
/// ALPN protocol id of HTTP/3.
pub const H3_ALPN: &[u8] = b"h3";

/// Names a self-signed certificate is made for when `tls.self_signed_names` is empty.
pub const DEFAULT_SELF_SIGNED_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// Everything the listeners need to speak TLS.
#[derive(Clone)]
pub struct TlsSetup {
    /// For TCP (HTTP/1.1 and HTTP/2 by ALPN).
    pub tcp: Arc<ServerConfig>,
    /// For QUIC (HTTP/3): TLS 1.3 only, ALPN `h3`.
    pub quic: Arc<ServerConfig>,
    /// The certificate chain served, in PEM (leaf first), so that a client can be told to
    /// trust a self-signed certificate.
    pub cert_pem: String,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup").finish_non_exhaustive()
    }
}

/// Why the TLS configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS is not configured (set tls.cert and tls.key, or tls.self_signed = true)")]
    NotConfigured,
    #[error("tls.cert is set without tls.key (or the other way round); they go together")]
    Incomplete,
    #[error("cannot read the TLS {what} file {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid PEM in the TLS {what} file {path}: {message}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("no certificate (BEGIN CERTIFICATE) in the TLS certificate file {0}")]
    NoCertificate(PathBuf),
    #[error(
        "no private key (BEGIN PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) in the TLS key file {0}"
    )]
    NoKey(PathBuf),
    #[error("the private key in {key} does not match the certificate in {cert}")]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("the TLS certificate {cert} or key {key} cannot be used: {source}")]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot make a self-signed certificate for {names:?}: {message}")]
    SelfSigned { names: Vec<String>, message: String },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
}

impl TlsSetup {
    /// Builds the server configurations that `config` asks for.
    pub fn from_config(config: &TlsConfig) -> Result<Self, TlsError> {
        match (&config.cert, &config.key) {
            (Some(cert), Some(key)) => Self::from_files(cert, key),
            (None, None) if config.self_signed => Self::self_signed(&config.self_signed_names),
            (None, None) => Err(TlsError::NotConfigured),
            _ => Err(TlsError::Incomplete),
        }
    }

    /// Loads a PEM certificate chain (leaf first) and its private key.
    pub fn from_files(cert_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let read = |what, path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                what,
                path: path.to_owned(),
                source,
            })
        };
        let cert_pem = read("certificate", cert_path)?;
        let key_pem = read("key", key_path)?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem {
                what: "certificate",
                path: cert_path.to_owned(),
                message: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate(cert_path.to_owned()));
        }
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey(key_path.to_owned()),
            e => TlsError::Pem {
                what: "key",
                path: key_path.to_owned(),
                message: e.to_string(),
            },
        })?;
        let cert_pem = String::from_utf8_lossy(&cert_pem).into_owned();
        Self::build(chain, key, cert_pem).map_err(|e| match e {
            TlsError::Rustls(rustls::Error::InconsistentKeys(
                rustls::InconsistentKeys::KeyMismatch,
            )) => TlsError::KeyMismatch {
                cert: cert_path.to_owned(),
                key: key_path.to_owned(),
            },
            TlsError::Rustls(source) => TlsError::Unusable {
                cert: cert_path.to_owned(),
                key: key_path.to_owned(),
                source,
            },
            e => e,
        })
    }

    /// Makes a self-signed certificate for `names` (DNS names or IP addresses), or for
    /// [`DEFAULT_SELF_SIGNED_NAMES`] when empty.
    pub fn self_signed(names: &[String]) -> Result<Self, TlsError> {
        let names: Vec<String> = if names.is_empty() {
            DEFAULT_SELF_SIGNED_NAMES.map(str::to_owned).to_vec()
        } else {
            names.to_vec()
        };
        let made = rcgen::generate_simple_self_signed(names.clone()).map_err(|e| {
            TlsError::SelfSigned {
                names: names.clone(),
                message: e.to_string(),
            }
        })?;
        let cert_pem = made.cert.pem();
        let key = PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
        Self::build(vec![made.cert.der().clone()], key, cert_pem)
    }

    fn build(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        cert_pem: String,
    ) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tcp = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain.clone(), key.clone_key())?;
        tcp.alpn_protocols = TCP_ALPN.iter().map(|p| p.to_vec()).collect();
        // QUIC carries TLS 1.3 only (RFC 9001); 0-RTT stays off (replayable requests).
        let mut quic = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        quic.alpn_protocols = vec![H3_ALPN.to_vec()];
        Ok(TlsSetup {
            tcp: Arc::new(tcp),
            quic: Arc::new(quic),
            cert_pem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_has_both_alpn_sets() {
        let setup = TlsSetup::self_signed(&[]).unwrap();
        assert_eq!(
            setup.tcp.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert_eq!(setup.quic.alpn_protocols, vec![b"h3".to_vec()]);
        assert!(setup.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn files_load_and_errors_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let other_key = dir.path().join("other.pem");
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        std::fs::write(&other_key, other.signing_key.serialize_pem()).unwrap();
        TlsSetup::from_files(&cert, &key).unwrap();

        let err = TlsSetup::from_files(&dir.path().join("missing.pem"), &key).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot read the TLS certificate file"),
            "{err}"
        );
        assert!(err.to_string().contains("missing.pem"), "{err}");

        let err = TlsSetup::from_files(&cert, &cert).unwrap_err();
        assert!(matches!(err, TlsError::NoKey(_)), "{err}");

        let err = TlsSetup::from_files(&key, &key).unwrap_err();
        assert!(matches!(err, TlsError::NoCertificate(_)), "{err}");

        let err = TlsSetup::from_files(&cert, &other_key).unwrap_err();
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
        assert!(err.to_string().contains("does not match"), "{err}");
    }
}
