//! Any bytes as a playback token must verify or be refused, never panic:
//! - as CAT bytes, `access::cat::verify_bytes` with an HMAC key (kid `fuzz`) and an ES256
//!   key (kid `es`), and a verified token checked against a request and renewed;
//! - the envelope opened and its claims read and checked whatever the MAC says, so mutated
//!   tokens reach the claim parser (a fuzzer cannot forge the MAC);
//! - as UTF-8 text, `access::cat::verify` (base64url) and `access::akamai::verify`.
//!
//! The keys are those of scripts/make-fuzz-corpus.py, whose seeds carry valid MACs.
#![no_main]

use std::sync::OnceLock;

use access::akamai::{self, EdgeAuthKey};
use access::cat::mint::{renewal, ClaimsBuilder};
use access::cat::{self, cose, Claims, Key, KeySet, Policy, Token};
use access::RequestFacts;
use libfuzzer_sys::fuzz_target;
use ring::rand::SystemRandom;

const HMAC_KID: &[u8] = b"fuzz";
const HMAC_KEY: &[u8; 32] = b"edgepack fuzz key: 32 bytes long";
/// The P-256 generator, a valid public point (nobody signs with its private key, 1).
const ES_POINT: &str = "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
const AKAMAI_KEY: &str = "52a152a152a152a152a152a152a1";
const NOW: u64 = 1_700_000_100;

struct Fixture {
    keys: KeySet,
    hmac: Key,
    akamai: Vec<EdgeAuthKey>,
    rng: SystemRandom,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture {
        keys: KeySet::new(vec![
            Key::hmac(HMAC_KID, HMAC_KEY).unwrap(),
            Key::es256_public(b"es", &hex::decode(ES_POINT).unwrap()).unwrap(),
        ])
        .unwrap(),
        hmac: Key::hmac(HMAC_KID, HMAC_KEY).unwrap(),
        akamai: vec![
            EdgeAuthKey::from_hex(AKAMAI_KEY, None).unwrap(),
            EdgeAuthKey::from_hex(AKAMAI_KEY, Some("s".into())).unwrap(),
        ],
        rng: SystemRandom::new(),
    })
}

fn facts() -> RequestFacts<'static> {
    RequestFacts {
        scheme: "https",
        host: "cdn.example.com",
        port: 443,
        path: "/vod/demo/master.m3u8",
        query: "lang=en",
        method: "GET",
        client_ip: Some("10.0.0.7".parse().unwrap()),
        country: Some("US-CA"),
        alpn: "h2",
        now: NOW,
    }
}

fn policy() -> Policy {
    Policy {
        issuers: vec!["issuer.example".into()],
        audiences: vec!["edge".into()],
        leeway: 30,
        require_exp: true,
    }
}

/// Everything the edge does with a token's claims.
fn use_token(token: &Token) {
    let f = fixture();
    let _ = token.check(&facts(), &policy());
    let _ = token.check(&facts(), &Policy::default());
    let _ = token.renewal_due(NOW);
    for name in ["sub", "iss", "sid", "aud", "cti"] {
        let _ = token.claims.text_of(name);
    }
    let renewed = renewal(&token.claims, 300, NOW, &[7; 16], Some("edge"), Some("s"));
    let _ = renewed.mint_bytes(&f.hmac, &f.rng);
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    if let Ok(token) = cat::verify_bytes(data, &f.keys) {
        use_token(&token);
        // a token we accepted, sealed again unchanged, is accepted again
        let again = ClaimsBuilder::from_claims(&token.claims)
            .mint_bytes(&f.hmac, &f.rng)
            .unwrap();
        cat::verify_bytes(&again, &f.keys).expect("a re-sealed accepted token verifies");
    }
    if let Ok(envelope) = cose::open(data) {
        if let Ok(claims) = Claims::parse(&envelope.payload) {
            use_token(&Token {
                alg: envelope.alg,
                kid: envelope.kid,
                claims,
            });
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(token) = cat::verify(text, &f.keys) {
            use_token(&token);
        }
        let _ = cat::inspect(text);
        let _ = akamai::verify(text, &f.akamai, &facts(), 0);
        let _ = akamai::verify(text, &f.akamai, &facts(), 60);
    }
});
