//! The test ad server is honest: every VAST document it answers (testdata/vast) is valid
//! against the IAB Tech Lab's VAST 4.2 schema, checked by xmllint, and a copy with one element
//! out of place is not (so the check can fail). The VMAP document, which has no published
//! schema beside VAST's, is read by `ssai::vmap`.

use std::path::Path;
use std::process::Command;

use super::sessions::document;
use crate::common::repo_root;

const VAST: [&str; 3] = ["pod_two_ads.xml", "wrapper_outer.xml", "wrapper_inner.xml"];

/// xmllint's verdict on `text` against the VAST 4.2 schema: Ok, or its message.
fn validate(text: &str, dir: &Path) -> Result<(), String> {
    let file = dir.join("doc.xml");
    std::fs::write(&file, text).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(repo_root().join("testdata/vast/vast_4.2.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint (libxml2-utils) must be installed");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A document as the ad server answers it: URLs filled.
fn answered(name: &str) -> String {
    document(name, "http://ads.test:8080").replace("{session}", "0123456789abcdef0123456789abcdef")
}

#[test]
fn every_vast_document_of_the_test_ad_server_is_valid_vast_4_2() {
    let dir = tempfile::tempdir().unwrap();
    for name in VAST {
        let text = answered(name);
        if let Err(why) = validate(&text, dir.path()) {
            panic!("{name} is not valid VAST 4.2: {why}");
        }
        let parsed = ssai::vast::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!parsed.ads.is_empty(), "{name}");
    }
}

#[test]
fn a_document_with_an_element_out_of_place_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // AdTitle before AdServingId: the schema's sequence says otherwise.
    let broken = answered("pod_two_ads.xml").replacen(
        "<AdServingId>serving-1</AdServingId>\n      <AdTitle>Tone one</AdTitle>",
        "<AdTitle>Tone one</AdTitle>\n      <AdServingId>serving-1</AdServingId>",
        1,
    );
    assert_ne!(
        broken,
        answered("pod_two_ads.xml"),
        "the negative control changed nothing"
    );
    let why = validate(&broken, dir.path()).unwrap_err();
    assert!(why.contains("AdTitle"), "{why}");
}

#[test]
fn the_vmap_document_has_a_pre_roll_and_a_mid_roll() {
    let vmap = ssai::vmap::parse(&answered("vmap_pre_mid.xml")).unwrap();
    let offsets: Vec<String> = vmap
        .breaks
        .iter()
        .map(|b| format!("{:?}", b.offset))
        .collect();
    assert_eq!(vmap.breaks.len(), 2, "{offsets:?}");
    assert!(vmap
        .breaks
        .iter()
        .all(|b| b.is_linear() && b.source.is_some()));
}
