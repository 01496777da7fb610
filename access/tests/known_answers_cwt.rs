//! Known answers against an independent implementation: python-cwt (PyPI `cwt`, pinned by
//! scripts/install-test-deps.sh, driven through scripts/cat_oracle.py).
//!
//! - Tokens cwt mints (HS256 in COSE_Mac0, ES256 in COSE_Sign1, CWT-tagged, kid in the
//!   unprotected header) verify with `access::cat::verify`, and `Token::check` accepts and
//!   refuses requests as each claim says: catu (path prefix, extension, SHA-256 of the parent
//!   path), catm, catnip (an RFC 9164 tag-52 prefix and an AS number), catgeoiso3166, exp,
//!   nbf, iss, aud; catr and catreplay are read as written; a wrong key, an unknown kid and
//!   a key of the other algorithm are refused.
//! - Tokens `access::cat::mint` makes (HS256, ES256, and a `renewal` of a verified token)
//!   verify with cwt, which reads back the claims we wrote; cwt refuses them under a wrong
//!   key or, by its own clock check, once expired.
//!
//! Without python3 or cwt the tests fail when `CI` is set and are skipped (with a line
//! saying so) otherwise.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use access::cat::mint::{renewal, ClaimsBuilder};
use access::cat::{self, Alg, Delivery, Key, KeySet, Policy, Replay};
use access::{Refusal, RequestFacts};
use common::{hs_keys, ip, kind, p256, p256_spki, pem, request, HS_KEY, NOW};
use ring::digest;
use ring::rand::SystemRandom;
use serde_json::{json, Value};

/// The oracle script, with a directory for the key files it reads.
struct Oracle {
    script: PathBuf,
    dir: tempfile::TempDir,
}

/// The oracle, or `None` (after saying why) when python3 or cwt is missing outside CI.
fn oracle() -> Option<Oracle> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/cat_oracle.py");
    let why = match Command::new("python3")
        .arg(&script)
        .arg("--version")
        .output()
    {
        Ok(o) if o.status.success() => {
            let version = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            if version != "3.3.0" {
                eprintln!("known_answers_cwt: cwt {version}; the pinned version is 3.3.0");
            }
            return Some(Oracle {
                script,
                dir: tempfile::tempdir().unwrap(),
            });
        }
        Ok(o) => format!(
            "scripts/cat_oracle.py --version failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("python3 cannot be run: {e}"),
    };
    if std::env::var_os("CI").is_some() {
        panic!("the python-cwt known-answer tests cannot run: {why} (scripts/install-test-deps.sh installs cwt)");
    }
    // Written to stderr itself, not through eprintln!, which the test harness captures.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED known_answers_cwt: {why}; run scripts/install-test-deps.sh (in CI this fails)"
    );
    None
}

impl Oracle {
    fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("python3")
            .arg(&self.script)
            .args(args)
            .output()
            .expect("python3 runs");
        if out.status.success() {
            Ok(String::from_utf8(out.stdout).unwrap().trim().to_owned())
        } else {
            assert_eq!(
                out.status.code(),
                Some(1),
                "cat_oracle.py {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn mint_hs(&self, secret: &[u8], kid: &str, claims: &Value) -> String {
        let args = [
            "mint",
            "--alg",
            "HS256",
            "--key-hex",
            &hex::encode(secret),
            "--kid",
            kid,
            "--claims",
            &claims.to_string(),
        ];
        self.run(&args).expect("cwt mints")
    }

    fn mint_es(&self, pkcs8: &[u8], kid: &str, claims: &Value) -> String {
        let file = self.write("private.pem", &pem("PRIVATE KEY", pkcs8));
        let args = [
            "mint",
            "--alg",
            "ES256",
            "--key-pem",
            &file,
            "--kid",
            kid,
            "--claims",
            &claims.to_string(),
        ];
        self.run(&args).expect("cwt mints")
    }

    fn verify_hs(
        &self,
        secret: &[u8],
        kid: &str,
        token: &str,
        now: Option<u64>,
    ) -> Result<Value, String> {
        let hex_key = hex::encode(secret);
        let mut args = vec![
            "verify",
            "--alg",
            "HS256",
            "--key-hex",
            &hex_key,
            "--kid",
            kid,
        ];
        let now = now.map(|n| n.to_string());
        if let Some(n) = &now {
            args.extend(["--now", n]);
        }
        args.push(token);
        self.run(&args)
            .map(|out| serde_json::from_str(&out).unwrap())
    }

    fn verify_es(
        &self,
        point: &[u8],
        kid: &str,
        token: &str,
        now: Option<u64>,
    ) -> Result<Value, String> {
        let file = self.write("public.pem", &pem("PUBLIC KEY", &p256_spki(point)));
        let mut args = vec!["verify", "--alg", "ES256", "--pub-pem", &file, "--kid", kid];
        let now = now.map(|n| n.to_string());
        if let Some(n) = &now {
            args.extend(["--now", n]);
        }
        args.push(token);
        self.run(&args)
            .map(|out| serde_json::from_str(&out).unwrap())
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, s.as_bytes()))
}

/// Every claim the edge checks, in the JSON form of cat_oracle.py.
fn full_claims() -> Value {
    json!({
        "1": "issuer.example",
        "3": "edge",
        "4": NOW + 300,
        "5": NOW - 60,
        "6": NOW - 60,
        "7": {"bytes_hex": "00112233445566778899aabbccddeeff"},
        "312": {
            "3": {"1": "/vod/demo/"},
            "8": {"0": ".m3u8"},
            "5": {"-1": {"bytes_hex": sha256_hex("/vod/demo")}},
        },
        "313": ["GET", "HEAD"],
        "311": [{"tag": 52, "value": [24, {"bytes_hex": "0a0000"}]}, 64512],
        "323": {"0": 2, "1": 120, "2": 60},
        "308": 2,
        "316": ["US", "CA-QC"],
    })
}

fn policy() -> Policy {
    Policy {
        issuers: vec!["issuer.example".into()],
        audiences: vec!["edge".into()],
        leeway: 0,
        require_exp: true,
    }
}

/// Each claim accepts the request it allows and refuses, with the right kind, one it does not.
fn check_every_claim(token: &cat::Token) {
    let p = policy();
    let with = |f: &dyn Fn(&mut RequestFacts<'static>)| {
        let mut r = request();
        f(&mut r);
        kind(token.check(&r, &p))
    };
    assert_eq!(with(&|_| {}), "ok");
    // catm
    assert_eq!(with(&|r| r.method = "HEAD"), "ok");
    assert_eq!(with(&|r| r.method = "POST"), "wrong_method");
    // catu: path prefix, extension, SHA-256 of the parent path
    assert_eq!(with(&|r| r.path = "/vod/demo/v1/media.m3u8"), "wrong_uri");
    assert_eq!(with(&|r| r.path = "/vod/other/master.m3u8"), "wrong_uri");
    assert_eq!(with(&|r| r.path = "/vod/demo/1.ts"), "wrong_uri");
    assert_eq!(with(&|r| r.path = "/vod/demo/index.m3u8"), "ok");
    // catnip: 10.0.0.0/24
    assert_eq!(with(&|r| r.client_ip = Some(ip("10.0.0.250"))), "ok");
    assert_eq!(with(&|r| r.client_ip = Some(ip("::ffff:10.0.0.9"))), "ok");
    assert_eq!(
        with(&|r| r.client_ip = Some(ip("10.0.1.7"))),
        "ip_not_allowed"
    );
    assert_eq!(with(&|r| r.client_ip = None), "ip_not_allowed");
    // catgeoiso3166: US (any region), CA-QC only
    assert_eq!(with(&|r| r.country = Some("US")), "ok");
    assert_eq!(with(&|r| r.country = Some("CA-QC")), "ok");
    assert_eq!(with(&|r| r.country = Some("CA-ON")), "geo_not_allowed");
    assert_eq!(with(&|r| r.country = Some("FR")), "geo_not_allowed");
    assert_eq!(with(&|r| r.country = None), "geo_not_allowed");
    // exp and nbf
    assert_eq!(with(&|r| r.now = NOW + 299), "ok");
    assert_eq!(with(&|r| r.now = NOW + 300), "expired");
    assert_eq!(with(&|r| r.now = NOW - 60), "ok");
    assert_eq!(with(&|r| r.now = NOW - 61), "not_yet_valid");
    // iss and aud
    let strict = |issuers: &[&str], audiences: &[&str]| {
        let p = Policy {
            issuers: issuers.iter().map(|s| s.to_string()).collect(),
            audiences: audiences.iter().map(|s| s.to_string()).collect(),
            ..policy()
        };
        kind(token.check(&request(), &p))
    };
    assert_eq!(strict(&["other"], &["edge"]), "wrong_party");
    assert_eq!(strict(&["issuer.example"], &["other"]), "wrong_party");
    assert_eq!(strict(&[], &[]), "ok");
}

fn check_claims_read(token: &cat::Token) {
    let c = &token.claims;
    assert_eq!(c.iss.as_deref(), Some("issuer.example"));
    assert_eq!(c.aud, ["edge"]);
    assert_eq!(
        (c.exp, c.nbf, c.iat),
        (Some(NOW + 300), Some(NOW - 60), Some(NOW - 60))
    );
    assert_eq!(
        c.text_of("cti").as_deref(),
        Some("00112233445566778899aabbccddeeff")
    );
    assert_eq!(
        c.catm.as_deref(),
        Some(&["GET".to_owned(), "HEAD".to_owned()][..])
    );
    assert_eq!(c.catreplay, Replay::ReuseDetection);
    let r = c.catr.as_ref().expect("catr");
    assert_eq!(
        (r.delivery, r.expadd, r.deadline),
        (Delivery::Header, 120, 60)
    );
    assert_eq!(token.renewal_due(NOW + 239), None);
    assert!(token.renewal_due(NOW + 240).is_some());
}

#[test]
fn hs256_tokens_minted_by_cwt_verify_and_every_claim_accepts_and_refuses() {
    let Some(o) = oracle() else { return };
    let text = o.mint_hs(&HS_KEY, "k1", &full_claims());
    // cwt's envelope: tag 61, tag 17, alg 5 protected
    let bytes = access::text::decode(&text).unwrap();
    assert_eq!(&bytes[..4], &[0xd8, 0x3d, 0xd1, 0x84]);
    let token = cat::verify(&text, &hs_keys(b"k1", &HS_KEY)).unwrap();
    assert_eq!((token.alg, token.kid.as_slice()), (Alg::Hs256, &b"k1"[..]));
    check_claims_read(&token);
    check_every_claim(&token);

    // the wrong key under the same kid, an unknown kid, a key of the other algorithm
    let wrong = cat::verify(&text, &hs_keys(b"k1", &[0x55; 32]));
    assert!(matches!(wrong, Err(Refusal::BadSignature(_))), "{wrong:?}");
    let unknown = cat::verify(&text, &hs_keys(b"k2", &HS_KEY)).unwrap_err();
    assert!(
        matches!(&unknown, Refusal::BadSignature(m) if m.contains("unknown key id")),
        "{unknown:?}"
    );
    let (_, point) = p256();
    let es_keys = KeySet::new(vec![Key::es256_public(b"k1", &point).unwrap()]).unwrap();
    assert_eq!(kind(cat::verify(&text, &es_keys)), "bad_signature");
}

#[test]
fn es256_tokens_signed_by_cwt_verify_and_every_claim_accepts_and_refuses() {
    let Some(o) = oracle() else { return };
    let (pkcs8, point) = p256();
    let text = o.mint_es(&pkcs8, "es1", &full_claims());
    let bytes = access::text::decode(&text).unwrap();
    assert_eq!(&bytes[..4], &[0xd8, 0x3d, 0xd2, 0x84]);
    let keys = KeySet::new(vec![Key::es256_public(b"es1", &point).unwrap()]).unwrap();
    let token = cat::verify(&text, &keys).unwrap();
    assert_eq!((token.alg, token.kid.as_slice()), (Alg::Es256, &b"es1"[..]));
    check_claims_read(&token);
    check_every_claim(&token);

    let (_, other) = p256();
    let wrong = KeySet::new(vec![Key::es256_public(b"es1", &other).unwrap()]).unwrap();
    assert_eq!(kind(cat::verify(&text, &wrong)), "bad_signature");
    assert_eq!(
        kind(cat::verify(&text, &hs_keys(b"es1", &HS_KEY))),
        "bad_signature"
    );
    assert_eq!(
        kind(cat::verify(
            &text,
            &KeySet::new(vec![Key::es256_public(b"es2", &point).unwrap()]).unwrap()
        )),
        "bad_signature"
    );
}

#[test]
fn cwt_tokens_with_each_replay_value_and_malformed_claims() {
    let Some(o) = oracle() else { return };
    let keys = hs_keys(b"k1", &HS_KEY);
    let mint = |extra: Value| {
        // cwt adds nbf and iat from the clock unless they are given
        let mut claims = json!({"4": NOW + 300, "5": NOW - 60, "6": NOW - 60});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        cat::verify(&o.mint_hs(&HS_KEY, "k1", &claims), &keys)
    };
    for (value, want) in [
        (0, Replay::Permitted),
        (1, Replay::Prohibited),
        (2, Replay::ReuseDetection),
    ] {
        assert_eq!(mint(json!({"308": value})).unwrap().claims.catreplay, want);
    }
    assert_eq!(kind(mint(json!({"308": 7}))), "unsupported");
    assert_eq!(kind(mint(json!({"308": "once"}))), "malformed");
    // catnip: an IPv6 prefix (tag 54) and a whole IPv4 address (tag 52 with a bstr)
    let t = mint(json!({"311": [
        {"tag": 54, "value": [32, {"bytes_hex": "20010db8"}]},
        {"tag": 52, "value": {"bytes_hex": "c0000207"}},
    ]}))
    .unwrap();
    let at = |a: &str| {
        let mut r = request();
        r.client_ip = Some(ip(a));
        kind(t.check(&r, &Policy::default()))
    };
    assert_eq!(at("2001:db8::1"), "ok");
    assert_eq!(at("192.0.2.7"), "ok");
    assert_eq!(at("192.0.2.8"), "ip_not_allowed");
    assert_eq!(at("2001:db9::1"), "ip_not_allowed");
    // an unknown tag inside catnip, a catu regex and its refusal
    assert_eq!(
        kind(mint(json!({"311": [{"tag": 99, "value": 1}]}))),
        "malformed"
    );
    let t = mint(json!({"312": {"3": {"4": [r"^/vod/[a-z]+/master\.m3u8$", null]}}})).unwrap();
    assert_eq!(kind(t.check(&request(), &Policy::default())), "ok");
    let mut r = request();
    r.path = "/vod/demo1/master.m3u8";
    assert_eq!(kind(t.check(&r, &Policy::default())), "wrong_uri");
}

fn real_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims we mint for cwt to read, valid around `now`.
fn our_claims(now: u64) -> ClaimsBuilder {
    ClaimsBuilder::new()
        .iss("edgepack")
        .aud("edge")
        .iat(now - 10)
        .nbf(now - 10)
        .exp(now + 600)
        .cti(&[9, 8, 7, 6])
        .path_prefix("/vod/demo/")
        .catm(&["GET"])
        .catreplay(Replay::Prohibited)
        .catr(1, 300, 60)
        .countries(&["US"])
        .sid("session-1")
}

fn assert_read_back(claims: &Value, now: u64) {
    assert_eq!(claims["1"], "edgepack");
    assert_eq!(claims["3"], "edge");
    assert_eq!(claims["4"], now + 600);
    assert_eq!(claims["5"], now - 10);
    assert_eq!(claims["7"], json!({"bytes_hex": "09080706"}));
    assert_eq!(claims["312"], json!({"3": {"1": "/vod/demo/"}}));
    assert_eq!(claims["313"], json!(["GET"]));
    assert_eq!(claims["308"], 1);
    assert_eq!(claims["323"], json!({"0": 1, "1": 300, "2": 60}));
    assert_eq!(claims["316"], json!(["US"]));
    assert_eq!(claims["sid"], "session-1");
}

#[test]
fn hs256_tokens_we_mint_and_renew_verify_with_cwt() {
    let Some(o) = oracle() else { return };
    let rng = SystemRandom::new();
    let key = Key::hmac(b"k1", &HS_KEY).unwrap();
    let now = real_now();
    let text = our_claims(now).mint(&key, &rng).unwrap();

    // cwt checks the MAC, the kid and, by its own clock, exp and nbf
    let claims = o.verify_hs(&HS_KEY, "k1", &text, None).unwrap();
    assert_read_back(&claims, now);
    let refused = o.verify_hs(&[0x55; 32], "k1", &text, None).unwrap_err();
    assert!(refused.contains("refused"), "{refused}");
    assert!(o.verify_hs(&HS_KEY, "k1", &text, Some(now + 700)).is_err());
    assert!(o.verify_hs(&HS_KEY, "k1", &text, Some(now + 600)).is_ok());
    let expired = ClaimsBuilder::new()
        .exp(now - 3600)
        .mint(&key, &rng)
        .unwrap();
    let refused = o.verify_hs(&HS_KEY, "k1", &expired, None).unwrap_err();
    assert!(refused.contains("expired"), "{refused}");

    // a renewal of the verified token: every claim kept but iat, exp, cti, iss, sid and the
    // single-use mark
    let token = cat::verify(&text, &hs_keys(b"k1", &HS_KEY)).unwrap();
    let later = now + 550;
    let renewed = renewal(
        &token.claims,
        300,
        later,
        &[0xaa; 16],
        Some("renewer"),
        Some("session-2"),
    )
    .mint(&key, &rng)
    .unwrap();
    let claims = o.verify_hs(&HS_KEY, "k1", &renewed, Some(later)).unwrap();
    assert_eq!(claims["1"], "renewer");
    assert_eq!(claims["6"], later);
    assert_eq!(claims["4"], later + 300);
    assert_eq!(claims["7"], json!({"bytes_hex": "aa".repeat(16)}));
    assert_eq!(claims["sid"], "session-2");
    assert_eq!(claims.get("308"), None);
    assert_eq!(claims["312"], json!({"3": {"1": "/vod/demo/"}}));
    assert_eq!(claims["323"], json!({"0": 1, "1": 300, "2": 60}));
    assert_eq!(claims["3"], "edge");
}

#[test]
fn es256_tokens_we_sign_and_renew_verify_with_cwt() {
    let Some(o) = oracle() else { return };
    let rng = SystemRandom::new();
    let (pkcs8, point) = p256();
    let key = Key::es256_private(b"es1", &pkcs8, &rng).unwrap();
    let now = real_now();
    let text = our_claims(now).mint(&key, &rng).unwrap();
    assert_read_back(&o.verify_es(&point, "es1", &text, None).unwrap(), now);
    let (_, other) = p256();
    assert!(o.verify_es(&other, "es1", &text, None).is_err());
    // a kid that does not match the token's is refused by cwt too
    assert!(o.verify_es(&point, "es2", &text, None).is_err());

    let keys = KeySet::new(vec![Key::es256_public(b"es1", &point).unwrap()]).unwrap();
    let token = cat::verify(&text, &keys).unwrap();
    let renewed = renewal(&token.claims, 120, now, &[1; 16], None, None)
        .mint(&key, &rng)
        .unwrap();
    let claims = o.verify_es(&point, "es1", &renewed, None).unwrap();
    assert_eq!(claims["1"], "edgepack");
    assert_eq!(claims["4"], now + 120);
    assert_eq!(claims["sid"], "session-1");
}
