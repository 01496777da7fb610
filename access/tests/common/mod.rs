//! What the access integration tests share: a request to check tokens against, keys, and
//! PEM encoding for the python-cwt oracle.
#![allow(dead_code)]

use std::net::IpAddr;

use access::cat::{Key, KeySet};
use access::RequestFacts;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

/// The fixed "now" of the known-answer tests (2023-11-14).
pub const NOW: u64 = 1_700_000_000;

/// The HMAC secret the known-answer tests share with the oracles.
pub const HS_KEY: [u8; 32] = *b"0123456789abcdef0123456789abcdef";

/// A GET of `/vod/demo/master.m3u8` over HTTPS/2 from 10.0.0.7 in California, at [`NOW`].
pub fn request() -> RequestFacts<'static> {
    RequestFacts {
        scheme: "https",
        host: "cdn.example.com",
        port: 443,
        path: "/vod/demo/master.m3u8",
        query: "",
        method: "GET",
        client_ip: Some(ip("10.0.0.7")),
        country: Some("US-CA"),
        alpn: "h2",
        now: NOW,
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn hs_keys(kid: &[u8], secret: &[u8]) -> KeySet {
    KeySet::new(vec![Key::hmac(kid, secret).unwrap()]).unwrap()
}

/// A fresh P-256 key pair: its PKCS#8 DER and its public point (65 bytes, 04||x||y).
pub fn p256() -> (Vec<u8>, Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    (pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec())
}

/// DER in PEM armour.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The SubjectPublicKeyInfo DER of a P-256 public point: the fixed header
/// `SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING }` and the point.
pub fn p256_spki(point: &[u8]) -> Vec<u8> {
    assert_eq!(point.len(), 65);
    let header = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
    [header, point.to_vec()].concat()
}

/// A result as a label: `ok`, or the refusal's [`access::Refusal::label`].
pub fn kind<T>(r: Result<T, access::Refusal>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.label(),
    }
}
