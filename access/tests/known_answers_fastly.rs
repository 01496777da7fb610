//! Known answers against an independent implementation: Fastly's `common-access-token` crate
//! (0.2.7, HMAC only, no CBOR tags), a dev-dependency used as an oracle only.
//!
//! - Tokens it mints (kid in the protected header as a byte string) verify with
//!   `access::cat::verify`; every `catu` match type it makes (exact, prefix, suffix,
//!   contains, regex, SHA-256, its SHA-512/256), on each URI part both implementations split
//!   the same way, accepts and refuses the same requests here as its own `verify_claims`
//!   does; so do `catm` and several match types on one part (all must hold). Its `catr` and
//!   `catreplay` values read as written; a wrong key is refused, and a text kid (which it
//!   can write) is refused as malformed.
//! - Tokens we mint (HS256 with a kid; claims it can decode) verify with its
//!   `Token::from_bytes` + `verify` + `verify_claims`, which checks `catu` and `catm`
//!   against a URI and a method, and refuses them under a wrong key or after `exp`.

mod common;

use std::collections::BTreeMap;

use access::cat::mint::{renewal, ClaimsBuilder};
use access::cat::{self, Delivery, Key, Policy, Replay};
use access::{text, RequestFacts};
use ciborium::value::Value;
use common::{hs_keys, kind, request, HS_KEY, NOW};
use common_access_token::{
    cat_keys, catm, catr, catreplay, catu, match_types, uri_components, Algorithm, CborValue,
    KeyId, RegisteredClaims, TokenBuilder, VerificationOptions,
};
use ring::digest;

/// A token Fastly's crate mints with our shared key and the given CAT claims.
fn fastly_token(kid: KeyId, claims: Vec<(i32, CborValue)>) -> String {
    let mut b = TokenBuilder::new()
        .algorithm(Algorithm::HmacSha256)
        .protected_key_id(kid)
        .registered_claims(
            RegisteredClaims::new()
                .with_issuer("issuer.example")
                .with_audience("edge")
                .with_expiration(NOW + 300)
                .with_not_before(NOW - 60)
                .with_issued_at(NOW - 60)
                .with_cti(vec![1u8, 2, 3, 4]),
        );
    for (key, value) in claims {
        b = b.custom_cbor(key, value);
    }
    text::encode(&b.sign(&HS_KEY).unwrap().to_bytes().unwrap())
}

fn k1() -> KeyId {
    KeyId::binary(b"k1".to_vec())
}

fn the_uri(r: &RequestFacts<'_>) -> String {
    format!("{}://{}{}", r.scheme, r.host, r.path)
}

/// Fastly's own verdict on a token for a request (times not checked: its clock is real).
fn fastly_accepts(token: &str, r: &RequestFacts<'_>) -> bool {
    let t = common_access_token::Token::from_bytes(&text::decode(token).unwrap()).unwrap();
    t.verify(&HS_KEY).unwrap();
    t.verify_claims(
        &VerificationOptions::new()
            .verify_exp(false)
            .verify_nbf(false)
            .verify_catu(true)
            .uri(the_uri(r))
            .verify_catm(true)
            .http_method(r.method),
    )
    .is_ok()
}

fn sha256(s: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, s.as_bytes())
        .as_ref()
        .to_vec()
}

/// Fastly's "SHA-512/256": the first 32 bytes of SHA-512.
fn sha512_first_half(s: &str) -> Vec<u8> {
    digest::digest(&digest::SHA512, s.as_bytes()).as_ref()[..32].to_vec()
}

#[test]
fn fastly_tokens_verify_and_every_catu_match_type_agrees() {
    use uri_components::*;
    let path = "/vod/demo/master.m3u8";
    let cases: Vec<(i32, BTreeMap<i32, CborValue>, bool)> = vec![
        (SCHEME, catu::exact_match("https"), true),
        (SCHEME, catu::exact_match("http"), false),
        (HOST, catu::exact_match("cdn.example.com"), true),
        (HOST, catu::exact_match("cdn.example.org"), false),
        (HOST, catu::suffix_match(".example.com"), true),
        (PATH, catu::prefix_match("/vod/"), true),
        (PATH, catu::prefix_match("/live/"), false),
        (PATH, catu::suffix_match(".m3u8"), true),
        (PATH, catu::suffix_match(".mpd"), false),
        (PATH, catu::contains_match("/demo/"), true),
        (PATH, catu::contains_match("/other/"), false),
        (
            PATH,
            catu::regex_match(r"^/vod/\w+/master\.m3u8$", vec![]),
            true,
        ),
        (
            PATH,
            catu::regex_match(r"^/vod/(\w+)/", vec![Some("demo".into()), None]),
            true,
        ),
        (PATH, catu::regex_match(r"^/live/", vec![]), false),
        (PATH, catu::sha256_match(sha256(path)), true),
        (
            PATH,
            catu::sha256_match(sha256("/vod/demo/other.m3u8")),
            false,
        ),
        (PATH, catu::sha512_256_match(sha512_first_half(path)), true),
        (
            PATH,
            catu::sha512_256_match(sha512_first_half("/vod/x.m3u8")),
            false,
        ),
        (QUERY, catu::exact_match(""), true),
        (PARENT_PATH, catu::exact_match("/vod/demo"), true),
        (PARENT_PATH, catu::exact_match("/vod"), false),
        (FILENAME, catu::exact_match("master.m3u8"), true),
        (FILENAME, catu::prefix_match("media"), false),
        (STEM, catu::exact_match("master"), true),
        (STEM, catu::exact_match("master.m3u8"), false),
        (EXTENSION, catu::exact_match(".m3u8"), true),
        (EXTENSION, catu::exact_match(".ts"), false),
    ];
    let keys = hs_keys(b"k1", &HS_KEY);
    for (part, matcher, want) in cases {
        let what = format!("part {part} {matcher:?}");
        let catu = catu::create(BTreeMap::from([(part, matcher)]));
        let token = fastly_token(k1(), vec![(cat_keys::CATU, catu)]);
        let verified = cat::verify(&token, &keys).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(verified.kid, b"k1");
        let ours = verified.check(&request(), &Policy::default());
        assert_eq!(
            kind(ours),
            if want { "ok" } else { "wrong_uri" },
            "ours, {what}"
        );
        assert_eq!(fastly_accepts(&token, &request()), want, "Fastly's, {what}");
    }
}

#[test]
fn several_match_types_on_one_part_must_all_hold() {
    let keys = hs_keys(b"k1", &HS_KEY);
    for (suffix, want) in [(".m3u8", "ok"), (".ts", "wrong_uri")] {
        let mut m = catu::prefix_match("/vod/");
        m.extend(catu::suffix_match(suffix));
        let catu = catu::create(BTreeMap::from([(uri_components::PATH, m)]));
        let token = fastly_token(k1(), vec![(cat_keys::CATU, catu)]);
        let t = cat::verify(&token, &keys).unwrap();
        assert_eq!(kind(t.check(&request(), &Policy::default())), want);
        assert_eq!(fastly_accepts(&token, &request()), want == "ok");
    }
}

#[test]
fn fastly_registered_claims_catm_catr_and_catreplay_read_as_written() {
    let keys = hs_keys(b"k1", &HS_KEY);
    let token = fastly_token(
        k1(),
        vec![
            (
                cat_keys::CATM,
                CborValue::Array(catm::create(vec!["GET", "HEAD"])),
            ),
            (
                cat_keys::CATR,
                catr::create(catr::header_renewal(
                    120,
                    Some(60),
                    Some("X-Renewed-Token"),
                    Some(vec!["Max-Age=120"]),
                )),
            ),
            (cat_keys::CATREPLAY, catreplay::prohibited()),
        ],
    );
    let t = cat::verify(&token, &keys).unwrap();
    let c = &t.claims;
    assert_eq!(c.iss.as_deref(), Some("issuer.example"));
    assert_eq!(c.aud, ["edge"]);
    assert_eq!(
        (c.exp, c.nbf, c.iat),
        (Some(NOW + 300), Some(NOW - 60), Some(NOW - 60))
    );
    assert_eq!(c.cti.as_deref(), Some(&[1u8, 2, 3, 4][..]));
    assert_eq!(c.catreplay, Replay::Prohibited);
    let r = c.catr.as_ref().unwrap();
    assert_eq!(
        (r.delivery, r.expadd, r.deadline),
        (Delivery::Header, 120, 60)
    );
    assert_eq!(r.header_name.as_deref(), Some("X-Renewed-Token"));
    assert_eq!(r.header_params, ["Max-Age=120"]);

    let policy = Policy {
        issuers: vec!["issuer.example".into()],
        audiences: vec!["edge".into()],
        leeway: 0,
        require_exp: true,
    };
    let at = |method: &'static str, now: u64| {
        let mut r = request();
        r.method = method;
        r.now = now;
        kind(t.check(&r, &policy))
    };
    assert_eq!(at("GET", NOW), "ok");
    assert_eq!(at("HEAD", NOW), "ok");
    assert_eq!(at("POST", NOW), "wrong_method");
    assert_eq!(at("GET", NOW + 300), "expired");
    assert_eq!(at("GET", NOW - 61), "not_yet_valid");
    let mut post = request();
    post.method = "POST";
    assert!(!fastly_accepts(&token, &post));
    assert!(fastly_accepts(&token, &request()));

    let renewal_of = |value| {
        let token = fastly_token(k1(), vec![(cat_keys::CATR, catr::create(value))]);
        cat::verify(&token, &keys).map(|t| t.claims.catr.unwrap())
    };
    let r = renewal_of(catr::cookie_renewal(
        300,
        None,
        Some("cat"),
        Some(vec!["Secure", "Path=/"]),
    ))
    .unwrap();
    assert_eq!(
        (r.delivery, r.expadd, r.deadline),
        (Delivery::Cookie, 300, 60)
    );
    assert_eq!(
        (r.cookie_name.as_deref(), r.cookie_params.len()),
        (Some("cat"), 2)
    );
    let r = renewal_of(catr::redirect_renewal(60, Some(30), Some(307))).unwrap();
    assert_eq!(
        (r.delivery, r.status, r.deadline),
        (Delivery::Redirect, 307, 30)
    );
    let r = renewal_of(catr::automatic_renewal(90, None)).unwrap();
    assert_eq!(r.delivery, Delivery::Automatic);
    assert_eq!(
        kind(renewal_of(catr::redirect_renewal(60, None, Some(200)))),
        "malformed"
    );

    for (value, want) in [
        (catreplay::permitted(), Ok(Replay::Permitted)),
        (catreplay::reuse_detection(), Ok(Replay::ReuseDetection)),
        (catreplay::create(3), Err("unsupported")),
    ] {
        let token = fastly_token(k1(), vec![(cat_keys::CATREPLAY, value)]);
        let got = cat::verify(&token, &keys).map(|t| t.claims.catreplay);
        assert_eq!(got.map_err(|e| e.label()), want);
    }
}

#[test]
fn fastly_tokens_under_a_wrong_key_or_with_a_text_kid_are_refused() {
    let token = fastly_token(k1(), vec![]);
    assert_eq!(
        kind(cat::verify(&token, &hs_keys(b"k1", &[9; 32]))),
        "bad_signature"
    );
    assert_eq!(
        kind(cat::verify(&token, &hs_keys(b"k9", &HS_KEY))),
        "bad_signature"
    );
    // a kid in the unprotected header is found too
    let unprotected = TokenBuilder::new()
        .algorithm(Algorithm::HmacSha256)
        .unprotected_key_id(k1())
        .registered_claims(RegisteredClaims::new().with_expiration(NOW + 1))
        .sign(&HS_KEY)
        .unwrap();
    let t = cat::verify_bytes(&unprotected.to_bytes().unwrap(), &hs_keys(b"k1", &HS_KEY));
    assert_eq!(t.unwrap().kid, b"k1");
    // COSE kids are byte strings; Fastly's KeyId::string writes text
    let text_kid = fastly_token(KeyId::string("k1"), vec![]);
    assert_eq!(
        kind(cat::verify(&text_kid, &hs_keys(b"k1", &HS_KEY))),
        "malformed"
    );
}

/// Claims we mint that Fastly's crate can decode: no CBOR tags, integer keys only.
fn our_token(exp: u64) -> String {
    let catu = Value::Map(vec![
        (
            Value::Integer(3.into()),
            Value::Map(vec![(
                Value::Integer(1.into()),
                Value::Text("/vod/".into()),
            )]),
        ),
        (
            Value::Integer(8.into()),
            Value::Map(vec![(
                Value::Integer(0.into()),
                Value::Text(".m3u8".into()),
            )]),
        ),
    ]);
    ClaimsBuilder::new()
        .iss("edgepack")
        .aud("edge")
        .nbf(NOW)
        .iat(NOW)
        .exp(exp)
        .cti(&[7; 16])
        .catu(catu)
        .catm(&["GET", "HEAD"])
        .catreplay(Replay::ReuseDetection)
        .catr(2, 120, 30)
        .countries(&["US", "CA"])
        .mint(
            &Key::hmac(b"k1", &HS_KEY).unwrap(),
            &ring::rand::SystemRandom::new(),
        )
        .unwrap()
}

fn fastly_verify(token: &str, key: &[u8], uri: &str, method: &str) -> Result<(), String> {
    let t = common_access_token::Token::from_bytes(&text::decode(token).unwrap())
        .map_err(|e| format!("decode: {e}"))?;
    t.verify(key).map_err(|e| format!("verify: {e}"))?;
    t.verify_claims(
        &VerificationOptions::new()
            .require_exp(true)
            .expected_issuer("edgepack")
            .expected_audience("edge")
            .verify_catu(true)
            .uri(uri)
            .verify_catm(true)
            .http_method(method)
            .verify_catreplay(true),
    )
    .map_err(|e| format!("claims: {e}"))
}

#[test]
fn tokens_we_mint_verify_with_fastly() {
    // Fastly checks exp against the real clock: this one ends in 2096.
    let token = our_token(4_000_000_000);
    let uri = "https://cdn.example.com/vod/demo/master.m3u8";
    fastly_verify(&token, &HS_KEY, uri, "GET").unwrap();
    fastly_verify(&token, &HS_KEY, uri, "HEAD").unwrap();
    assert!(fastly_verify(&token, &HS_KEY, uri, "POST").is_err());
    assert!(fastly_verify(
        &token,
        &HS_KEY,
        "https://cdn.example.com/live/a.m3u8",
        "GET"
    )
    .is_err());
    assert!(fastly_verify(&token, &HS_KEY, "https://cdn.example.com/vod/1.ts", "GET").is_err());
    let wrong = fastly_verify(&token, &[9; 32], uri, "GET").unwrap_err();
    assert!(wrong.starts_with("verify"), "{wrong}");
    let expired = fastly_verify(&our_token(NOW + 300), &HS_KEY, uri, "GET").unwrap_err();
    assert!(expired.starts_with("claims"), "{expired}");

    // what it decoded is what we wrote
    let t = common_access_token::Token::from_bytes(&text::decode(&token).unwrap()).unwrap();
    assert_eq!(t.header.key_id(), Some(k1()));
    assert_eq!(t.issuer(), Some("edgepack"));
    assert_eq!(t.expiration(), Some(4_000_000_000));
    assert_eq!(t.get_custom_int(cat_keys::CATREPLAY), Some(2));
    let catr = t.get_custom_claim(cat_keys::CATR).unwrap();
    assert_eq!(
        catr,
        &CborValue::Map(BTreeMap::from([
            (0, CborValue::Integer(2)),
            (1, CborValue::Integer(120)),
            (2, CborValue::Integer(30)),
        ]))
    );
    let CborValue::Map(catu) = t.get_custom_claim(cat_keys::CATU).unwrap() else {
        panic!("catu is a map")
    };
    assert_eq!(
        catu[&uri_components::EXTENSION],
        CborValue::Map(BTreeMap::from([(
            match_types::EXACT,
            CborValue::Text(".m3u8".into())
        )]))
    );

    // and a renewal of it, made from our verified token
    let ours = cat::verify(&token, &hs_keys(b"k1", &HS_KEY)).unwrap();
    let renewed = renewal(&ours.claims, 600, 3_999_999_000, &[8; 16], None, None)
        .mint(
            &Key::hmac(b"k1", &HS_KEY).unwrap(),
            &ring::rand::SystemRandom::new(),
        )
        .unwrap();
    fastly_verify(&renewed, &HS_KEY, uri, "GET").unwrap();
    let t = common_access_token::Token::from_bytes(&text::decode(&renewed).unwrap()).unwrap();
    assert_eq!(t.expiration(), Some(3_999_999_600));
    assert_eq!(t.issued_at(), Some(3_999_999_000));
    assert!(!t.has_custom_claim(cat_keys::CATREPLAY));
}
