//! Hostile tokens: each is refused with a typed [`Refusal`] of the expected kind, never a
//! panic, and quickly (every case is timed against a generous bound; figures come from the
//! criterion benches, not from here). Where a case needs the claims to be read, the hostile
//! bytes are MACed with the right key, so the refusal comes from the claim parser and not
//! from the MAC check.

mod common;

use std::time::{Duration, Instant};

use access::cat::{self, cose, Key, KeySet, Policy};
use access::text::MAX_TOKEN_TEXT;
use access::{akamai, text, Refusal};
use ciborium::value::Value;
use common::{hs_keys, kind, request, HS_KEY, NOW};
use ring::hmac;

/// A generous bound for one verification (debug build, a busy shared machine).
const BOUND: Duration = Duration::from_millis(50);

fn keys() -> KeySet {
    hs_keys(b"k1", &HS_KEY)
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).unwrap();
    out
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

/// `{1: 5}`, HMAC 256/256, as the protected header's bytes.
fn hs256_protected() -> Vec<u8> {
    cbor(&Value::Map(vec![(int(1), int(5))]))
}

fn kid_header() -> Value {
    Value::Map(vec![(int(4), Value::Bytes(b"k1".to_vec()))])
}

fn mac(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &HS_KEY);
    let tbs = cose::structure("MAC0", protected, payload);
    hmac::sign(&key, &tbs).as_ref().to_vec()
}

/// A COSE_Mac0 (in `tags`, outermost first) over raw parts, with a valid MAC.
fn message(tags: &[u64], protected: Vec<u8>, unprotected: Value, payload: Vec<u8>) -> Vec<u8> {
    let tag = mac(&protected, &payload);
    let mut v = Value::Array(vec![
        Value::Bytes(protected),
        unprotected,
        Value::Bytes(payload),
        Value::Bytes(tag),
    ]);
    for t in tags.iter().rev() {
        v = Value::Tag(*t, Box::new(v));
    }
    cbor(&v)
}

/// A well-formed token around raw payload bytes, validly MACed.
fn with_payload(payload: Vec<u8>) -> Vec<u8> {
    message(&[61, 17], hs256_protected(), kid_header(), payload)
}

/// A well-formed token around a claims map, validly MACed.
fn with_claims(entries: Vec<(Value, Value)>) -> Vec<u8> {
    with_payload(cbor(&Value::Map(entries)))
}

/// Verifies bytes, timed; the refusal's label.
fn refused(what: &str, bytes: &[u8]) -> &'static str {
    let start = Instant::now();
    let r = cat::verify_bytes(bytes, &keys());
    let took = start.elapsed();
    assert!(took < BOUND, "{what}: {took:?}");
    kind(r)
}

#[test]
fn a_well_formed_token_from_these_helpers_verifies() {
    let t = with_claims(vec![(int(4), int(NOW as i64 + 60))]);
    assert_eq!(refused("control", &t), "ok");
}

#[test]
fn truncated_tokens_are_malformed_at_every_length() {
    let full = with_claims(vec![
        (int(1), Value::Text("issuer".into())),
        (int(4), int(NOW as i64 + 60)),
    ]);
    for n in 0..full.len() {
        assert_eq!(
            refused(&format!("first {n} bytes"), &full[..n]),
            "malformed",
            "{n}"
        );
    }
    // and as text, cut anywhere
    let text = text::encode(&full);
    for n in 1..text.len() {
        let r = cat::verify(&text[..n], &keys());
        assert_eq!(kind(r), "malformed", "first {n} characters");
    }
    assert_eq!(kind(cat::verify("", &keys())), "missing");
}

#[test]
fn oversized_text_is_refused_before_decoding() {
    let huge = "A".repeat(MAX_TOKEN_TEXT + 1);
    let start = Instant::now();
    assert_eq!(kind(cat::verify(&huge, &keys())), "malformed");
    let big = "A".repeat(10 * 1024 * 1024);
    assert_eq!(kind(cat::verify(&big, &keys())), "malformed");
    assert_eq!(kind(akamai::verify(&big, &[], &request(), 0)), "malformed");
    assert!(start.elapsed() < BOUND);
    // exactly at the limit is read (and here, as garbage, refused for what it is)
    let at_limit = "A".repeat(MAX_TOKEN_TEXT);
    assert_eq!(kind(cat::verify(&at_limit, &keys())), "malformed");
}

#[test]
fn deep_nesting_is_refused_in_bounded_stack() {
    for (what, opener) in [("arrays", 0x81u8), ("tags", 0xc6), ("maps", 0xa1)] {
        let mut deep = Vec::new();
        for _ in 0..5000 {
            deep.push(opener);
            if opener == 0xa1 {
                deep.push(0x01); // the key; the value nests
            }
        }
        deep.push(0x01);
        assert_eq!(refused(what, &deep), "malformed", "{what}");
        // inside a validly MACed payload, and as a claim's value
        assert_eq!(refused(what, &with_payload(deep.clone())), "malformed");
        let mut claim = vec![0xa1, 0x19, 0x01, 0x38]; // {312: ...}
        claim.extend_from_slice(&deep);
        assert_eq!(refused(what, &with_payload(claim)), "malformed");
    }
    // 20 levels of tags around the message
    let mut t = vec![0xc6; 20];
    t.extend(with_claims(vec![]));
    assert_eq!(refused("tagged 20 times", &t), "malformed");
}

#[test]
fn wrong_cose_tags_are_refused() {
    let body = |tags: &[u64]| {
        message(
            tags,
            hs256_protected(),
            kid_header(),
            cbor(&Value::Map(vec![])),
        )
    };
    assert_eq!(refused("COSE_Sign", &body(&[98])), "malformed");
    assert_eq!(refused("COSE_Encrypt", &body(&[96])), "malformed");
    assert_eq!(
        refused("CWT in COSE_Encrypt0", &body(&[61, 16])),
        "malformed"
    );
    assert_eq!(refused("CWT twice", &body(&[61, 61, 17])), "malformed");
    // a MAC algorithm in a COSE_Sign1
    assert_eq!(
        refused("HS256 tagged 18", &body(&[61, 18])),
        "bad_signature"
    );
    // untagged is read by its algorithm
    assert_eq!(refused("untagged", &body(&[])), "ok");
    // not an array, or the wrong number of items
    assert_eq!(
        refused(
            "a map",
            &cbor(&Value::Tag(17, Box::new(Value::Map(vec![]))))
        ),
        "malformed"
    );
    let three = Value::Tag(17, Box::new(Value::Array(vec![Value::Bytes(vec![]); 3])));
    assert_eq!(refused("3 items", &cbor(&three)), "malformed");
    assert_eq!(refused("an integer", &[0x01]), "malformed");
}

#[test]
fn missing_unknown_and_unprotected_algorithms_are_refused() {
    let payload = || cbor(&Value::Map(vec![]));
    let protected = |entries: Vec<(Value, Value)>| cbor(&Value::Map(entries));
    let cases: Vec<(&str, Vec<u8>, Value, &str)> = vec![
        (
            "no protected header (alg none)",
            vec![],
            kid_header(),
            "bad_signature",
        ),
        (
            "empty protected map",
            protected(vec![]),
            kid_header(),
            "bad_signature",
        ),
        (
            "alg 1 (A128GCM)",
            protected(vec![(int(1), int(1))]),
            kid_header(),
            "bad_signature",
        ),
        (
            "alg -8 (EdDSA)",
            protected(vec![(int(1), int(-8))]),
            kid_header(),
            "bad_signature",
        ),
        (
            "alg 0",
            protected(vec![(int(1), int(0))]),
            kid_header(),
            "bad_signature",
        ),
        (
            "alg as text",
            protected(vec![(int(1), Value::Text("HS256".into()))]),
            kid_header(),
            "bad_signature",
        ),
        (
            "alg only in the unprotected header",
            vec![],
            Value::Map(vec![
                (int(1), int(5)),
                (int(4), Value::Bytes(b"k1".to_vec())),
            ]),
            "bad_signature",
        ),
        (
            "alg given twice",
            protected(vec![(int(1), int(5)), (int(1), int(5))]),
            kid_header(),
            "malformed",
        ),
        (
            "crit header parameters",
            protected(vec![
                (int(1), int(5)),
                (int(2), Value::Array(vec![int(99)])),
            ]),
            kid_header(),
            "unsupported",
        ),
        (
            "protected header not a map",
            cbor(&Value::Array(vec![int(1), int(5)])),
            kid_header(),
            "malformed",
        ),
        (
            "kid as text",
            hs256_protected(),
            Value::Map(vec![(int(4), Value::Text("k1".into()))]),
            "malformed",
        ),
        (
            "unprotected header not a map",
            hs256_protected(),
            Value::Array(vec![]),
            "malformed",
        ),
    ];
    for (what, p, u, want) in cases {
        let bytes = message(&[61, 17], p, u, payload());
        assert_eq!(refused(what, &bytes), want, "{what}");
    }
}

#[test]
fn unknown_kids_and_wrong_keys_are_bad_signatures() {
    let unknown = message(
        &[61, 17],
        hs256_protected(),
        Value::Map(vec![(int(4), Value::Bytes(vec![0xee; 4000]))]),
        cbor(&Value::Map(vec![])),
    );
    assert_eq!(refused("unknown kid", &unknown), "bad_signature");
    // no kid with two keys configured
    let two = KeySet::new(vec![
        Key::hmac(b"k1", &HS_KEY).unwrap(),
        Key::hmac(b"k2", &HS_KEY).unwrap(),
    ])
    .unwrap();
    let no_kid = message(
        &[61, 17],
        hs256_protected(),
        Value::Map(vec![]),
        cbor(&Value::Map(vec![])),
    );
    assert_eq!(kind(cat::verify_bytes(&no_kid, &two)), "bad_signature");
    // a tag cut short, one too long, and none: well-formed CBOR, but not the MAC
    let protected = hs256_protected();
    let payload = cbor(&Value::Map(vec![]));
    let good = mac(&protected, &payload);
    for (what, tag) in [
        ("16-byte tag", good[..16].to_vec()),
        ("33-byte tag", [good.clone(), vec![0]].concat()),
        ("empty tag", vec![]),
    ] {
        let m = Value::Tag(
            17,
            Box::new(Value::Array(vec![
                Value::Bytes(protected.clone()),
                kid_header(),
                Value::Bytes(payload.clone()),
                Value::Bytes(tag),
            ])),
        );
        assert_eq!(refused(what, &cbor(&m)), "bad_signature", "{what}");
    }
    // the tag's length byte changed: 31 bytes, and one left over after the message
    let mut t = with_claims(vec![]);
    let n = t.len();
    assert_eq!(&t[n - 34..n - 32], &[0x58, 0x20]);
    t[n - 33] = 31;
    assert_eq!(refused("tag length changed", &t), "malformed");
    assert_eq!(
        kind(cat::verify_bytes(&with_claims(vec![]), &KeySet::default())),
        "bad_signature"
    );
}

#[test]
fn duplicate_claims_are_refused_even_when_validly_maced() {
    let dup = with_claims(vec![
        (int(4), int(NOW as i64 + 60)),
        (int(4), int(NOW as i64 + 999_999)),
    ]);
    let r = cat::verify_bytes(&dup, &keys()).unwrap_err();
    assert!(
        matches!(&r, Refusal::Malformed(m) if m.contains("twice")),
        "{r:?}"
    );
    let dup_text = with_claims(vec![
        (Value::Text("sid".into()), Value::Text("a".into())),
        (Value::Text("sid".into()), Value::Text("b".into())),
    ]);
    assert_eq!(refused("sid twice", &dup_text), "malformed");
    // inside catu's match map too
    let catu = Value::Map(vec![(
        int(3),
        Value::Map(vec![
            (int(1), Value::Text("/vod/".into())),
            (int(1), Value::Text("/".into())),
        ]),
    )]);
    assert_eq!(
        refused("catu key twice", &with_claims(vec![(int(312), catu)])),
        "malformed"
    );
}

fn catu_regex(pattern: &str) -> Vec<u8> {
    with_claims(vec![(
        int(312),
        Value::Map(vec![(
            int(3),
            Value::Map(vec![(
                int(4),
                Value::Array(vec![Value::Text(pattern.into())]),
            )]),
        )]),
    )])
}

#[test]
fn hostile_catu_regexes_are_refused_or_run_in_linear_time() {
    let long = "a".repeat(access::cat::uri::MAX_REGEX_PATTERN + 1);
    assert_eq!(
        refused("pattern over the size limit", &catu_regex(&long)),
        "malformed"
    );
    assert_eq!(
        refused(
            "compiles over the size limit",
            &catu_regex("(((a{100}){100}){100})")
        ),
        "malformed"
    );
    assert_eq!(
        refused(
            "nested too deep",
            &catu_regex(&format!("{}a{}", "(".repeat(100), ")".repeat(100)))
        ),
        "malformed"
    );
    assert_eq!(refused("invalid", &catu_regex("(a")), "malformed");
    assert_eq!(refused("backreference", &catu_regex(r"(a)\1")), "malformed");

    // catastrophic backtracking elsewhere, linear here: on a 3000-byte path
    let path: &'static str = Box::leak(format!("/{}b", "a".repeat(3000)).into_boxed_str());
    for pattern in ["(a+)+$", "(a|a)*c", "(a*)*b$", "^(a|aa)+$"] {
        let token = cat::verify_bytes(&catu_regex(pattern), &keys()).unwrap();
        let mut r = request();
        r.path = path;
        let start = Instant::now();
        let verdict = kind(token.check(&r, &Policy::default()));
        assert!(start.elapsed() < BOUND, "{pattern}: {:?}", start.elapsed());
        let want = if pattern == "(a*)*b$" {
            "ok"
        } else {
            "wrong_uri"
        };
        assert_eq!(verdict, want, "{pattern}");
    }
}

#[test]
fn huge_declared_lengths_are_refused_without_allocating() {
    // a byte string that claims 2^62 bytes, as the token, as the payload's content, and as
    // the payload's own length
    let bstr = [0x5b, 0x40, 0, 0, 0, 0, 0, 0, 0, 0xaa];
    assert_eq!(refused("bstr of 2^62 bytes", &bstr), "malformed");
    assert_eq!(
        refused("in the payload", &with_payload(bstr.to_vec())),
        "malformed"
    );
    let mut claims = vec![0xa1, 0x07]; // {7 (cti): h'...'}
    claims.extend_from_slice(&bstr);
    assert_eq!(refused("as cti", &with_payload(claims)), "malformed");
    let mut envelope = vec![0xd8, 0x3d, 0xd1, 0x84, 0x43, 0xa1, 0x01, 0x05, 0xa0];
    envelope.extend_from_slice(&bstr);
    assert_eq!(refused("as the payload", &envelope), "malformed");
    // an array and a map that claim 2^62 items
    let array = [0x9b, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x01];
    assert_eq!(refused("array of 2^62 items", &array), "malformed");
    assert_eq!(
        refused(
            "map of 2^62 pairs",
            &with_payload(vec![0xbb, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 1])
        ),
        "malformed"
    );
    // a text string of 2^32 bytes
    assert_eq!(
        refused("text of 2^32 bytes", &[0x7b, 0, 0, 0, 1, 0, 0, 0, 0, 0x61]),
        "malformed"
    );
}

#[test]
fn broken_indefinite_length_items_are_refused() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("an unterminated array", vec![0x9f, 0x01, 0x02]),
        ("an unterminated map", with_payload(vec![0xbf, 0x04, 0x01])),
        (
            "a map with a key and no value",
            with_payload(vec![0xbf, 0x04, 0xff]),
        ),
        (
            "text inside a byte string",
            with_payload(vec![0xa1, 0x07, 0x5f, 0x61, 0x61, 0xff]),
        ),
        (
            "an indefinite string inside one",
            vec![0x5f, 0x5f, 0x41, 0x00, 0xff, 0xff],
        ),
        ("a stray break", vec![0xff]),
        ("a break as a claim", with_payload(vec![0xa1, 0x04, 0xff])),
        ("thousands of open arrays", vec![0x9f; 5000]),
        ("an unterminated byte string", vec![0x5f, 0x41, 0x00]),
        ("an indefinite integer", vec![0x1f]),
        ("a reserved additional info", vec![0x1c]),
    ];
    for (what, bytes) in cases {
        assert_eq!(refused(what, &bytes), "malformed", "{what}");
    }
}

/// RFC 9052 restricts the encoding of the MAC_structure (which the verifier builds, with
/// definite lengths), not of the message: a message with indefinite-length items is read,
/// and its MAC is checked over the same bytes.
#[test]
fn well_formed_indefinite_length_items_are_read_as_definite_ones() {
    let protected = hs256_protected();
    let payload = cbor(&Value::Map(vec![(int(4), int(NOW as i64 + 60))]));
    let tag = mac(&protected, &payload);
    let mut m = vec![0xd8, 0x3d, 0xd1, 0x9f]; // 61(17([_ ...
    m.push(0x5f); // the protected header in two chunks
    m.extend([0x41, protected[0], 0x42, protected[1], protected[2], 0xff]);
    m.extend([0xbf, 0x04, 0x42, b'k', b'1', 0xff]); // {_ 4: h'6b31'}
    m.push(0x58);
    m.push(payload.len() as u8);
    m.extend(&payload);
    m.push(0x58);
    m.push(32);
    m.extend(&tag);
    m.push(0xff);
    let t = cat::verify_bytes(&m, &keys()).unwrap();
    assert_eq!(t.claims.exp, Some(NOW + 60));
    // and an indefinite-length claims map inside a valid MAC
    let indefinite = vec![0xbf, 0x04, 0x1a, 0x65, 0x53, 0xf1, 0x3c, 0xff];
    assert_eq!(
        refused("indefinite claims map", &with_payload(indefinite)),
        "ok"
    );
}

#[test]
fn float_nan_and_huge_times_are_refused() {
    let exp = |v: Value| with_claims(vec![(int(4), v)]);
    assert_eq!(refused("NaN", &exp(Value::Float(f64::NAN))), "malformed");
    assert_eq!(
        refused("infinity", &exp(Value::Float(f64::INFINITY))),
        "malformed"
    );
    assert_eq!(refused("1e300", &exp(Value::Float(1e300))), "malformed");
    assert_eq!(refused("-0.5", &exp(Value::Float(-0.5))), "malformed");
    // half-precision NaN (f9 7e00) in the raw bytes
    assert_eq!(
        refused(
            "half NaN",
            &with_payload(vec![0xa1, 0x04, 0xf9, 0x7e, 0x00])
        ),
        "malformed"
    );
    assert_eq!(
        refused(
            "2^64",
            &with_payload(vec![0xa1, 0x04, 0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        ),
        "malformed"
    );
    assert_eq!(
        refused(
            "-2^64",
            &exp(Value::Integer((-(1i128 << 64)).try_into().unwrap()))
        ),
        "malformed"
    );
    assert_eq!(refused("a bool", &exp(Value::Bool(true))), "malformed");
    assert_eq!(refused("null", &exp(Value::Null)), "malformed");
    // a finite float is a NumericDate
    assert_eq!(
        refused("float", &exp(Value::Float(NOW as f64 + 60.5))),
        "ok"
    );
    // a huge catr expadd or deadline is read; renewal saturates instead of overflowing
    let catr = with_claims(vec![
        (int(4), int(NOW as i64 + 60)),
        (
            int(323),
            Value::Map(vec![
                (int(0), int(1)),
                (int(1), Value::Integer(u64::MAX.into())),
                (int(2), Value::Integer(u64::MAX.into())),
            ]),
        ),
    ]);
    let t = cat::verify_bytes(&catr, &keys()).unwrap();
    assert!(t.renewal_due(NOW).is_some());
    let renewed = access::cat::mint::renewal(&t.claims, u64::MAX, NOW, &[1; 16], None, None);
    assert!(!renewed.payload().is_empty());
}

#[test]
fn hostile_catnip_and_claim_types_are_refused() {
    let claim = |k: i64, v: Value| with_claims(vec![(int(k), v)]);
    let tag52 = |v: Value| Value::Tag(52, Box::new(v));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "catnip prefix length 255",
            claim(
                311,
                Value::Array(vec![tag52(Value::Array(vec![
                    int(255),
                    Value::Bytes(vec![10]),
                ]))]),
            ),
            "malformed",
        ),
        (
            "catnip prefix length -1",
            claim(
                311,
                Value::Array(vec![tag52(Value::Array(vec![
                    int(-1),
                    Value::Bytes(vec![10]),
                ]))]),
            ),
            "malformed",
        ),
        (
            "catnip 17 bytes of IPv6",
            claim(
                311,
                Value::Array(vec![Value::Tag(54, Box::new(Value::Bytes(vec![0; 17])))]),
            ),
            "malformed",
        ),
        (
            "catnip a float",
            claim(311, Value::Array(vec![Value::Float(1.0)])),
            "malformed",
        ),
        (
            "catu not a map",
            claim(312, Value::Bytes(vec![1; 100])),
            "malformed",
        ),
        (
            "catu part -1",
            claim(312, Value::Map(vec![(int(-1), Value::Map(vec![]))])),
            "unsupported",
        ),
        (
            "catu part as text",
            claim(
                312,
                Value::Map(vec![(Value::Text("path".into()), Value::Map(vec![]))]),
            ),
            "malformed",
        ),
        (
            "catm of maps",
            claim(313, Value::Array(vec![Value::Map(vec![])])),
            "malformed",
        ),
        (
            "catr a string",
            claim(323, Value::Text("x".into())),
            "malformed",
        ),
        (
            "catr with a huge key",
            claim(
                323,
                Value::Map(vec![(Value::Integer(u64::MAX.into()), int(1))]),
            ),
            "malformed",
        ),
        (
            "catreplay 2^63",
            claim(308, Value::Integer(u64::MAX.into())),
            "malformed",
        ),
        ("crit a map", claim(45, Value::Map(vec![])), "malformed"),
        (
            "claims an array",
            with_payload(cbor(&Value::Array(vec![]))),
            "malformed",
        ),
        (
            "claims a bstr",
            with_payload(cbor(&Value::Bytes(vec![0xa0]))),
            "malformed",
        ),
        ("claims empty", with_payload(vec![]), "malformed"),
        (
            "claims with trailing bytes",
            with_payload(vec![0xa0, 0xa0]),
            "malformed",
        ),
    ];
    for (what, bytes, want) in cases {
        assert_eq!(refused(what, &bytes), want, "{what}");
    }
}

#[test]
fn hostile_akamai_tokens_are_refused() {
    let keys = [akamai::EdgeAuthKey::from_hex("52a152a152a152a152a152a152a1", None).unwrap()];
    let tilde = "~".repeat(4000);
    let eqs = format!("exp=1~{}~hmac=00", "acl=~".repeat(700));
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "malformed"),
        ("only tildes", tilde, "malformed"),
        ("no exp", "st=1~hmac=00".into(), "malformed"),
        (
            "exp overflows",
            "exp=99999999999999999999999~hmac=00".into(),
            "malformed",
        ),
        ("exp negative", "exp=-1~hmac=00".into(), "malformed"),
        ("hmac not hex", "exp=1~hmac=zz".into(), "malformed"),
        ("acl twice", eqs, "malformed"),
        ("unknown field", "exp=1~x=1~hmac=00".into(), "malformed"),
        (
            "wrong mac",
            "exp=9999999999~acl=/*~hmac=00".into(),
            "bad_signature",
        ),
        ("multibyte", "exp=1~acl=/é*~hmac=é".into(), "malformed"),
    ];
    for (what, token, want) in cases {
        let start = Instant::now();
        let r = akamai::verify(&token, &keys, &request(), 0);
        assert!(start.elapsed() < BOUND, "{what}");
        assert_eq!(kind(r), want, "{what}");
    }
    // a pathological ACL wildcard on a long path
    let key = &keys[0];
    let acl = format!("/{}b", "*a".repeat(200));
    let token = akamai::mint(
        key,
        &akamai::EdgeAuthToken {
            exp: NOW + 60,
            acl: Some(acl),
            ..Default::default()
        },
        None,
    );
    let path: &'static str = Box::leak(format!("/{}", "a".repeat(3000)).into_boxed_str());
    let mut r = request();
    r.path = path;
    let start = Instant::now();
    assert_eq!(kind(akamai::verify(&token, &keys, &r, 0)), "wrong_uri");
    assert!(start.elapsed() < BOUND, "{:?}", start.elapsed());
}
