//! Unit tests of CPIX.

use super::*;

const KID: KeyId = KeyId([
    0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10, 0x00, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01,
]);
const KID_UUID: &str = "10000000-1000-1000-1000-100000000001";
const KEY: [u8; 16] = *b"0123456789abcdef";
// base64 of KEY
const KEY_B64: &str = "MDEyMzQ1Njc4OWFiY2RlZg==";

fn response(content_keys: &str, drm_systems: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<cpix:CPIX contentId="demo" version="2.3" xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
  <cpix:ContentKeyList>{content_keys}</cpix:ContentKeyList>
  <cpix:DRMSystemList>{drm_systems}</cpix:DRMSystemList>
  <cpix:ContentKeyUsageRuleList>
<cpix:ContentKeyUsageRule kid="{KID_UUID}" intendedTrackType="ALL"><cpix:AudioFilter/><cpix:VideoFilter/></cpix:ContentKeyUsageRule>
  </cpix:ContentKeyUsageRuleList>
</cpix:CPIX>"#
    )
}

fn content_key(kid: &str, plain: &str) -> String {
    format!(
        r#"<cpix:ContentKey kid="{kid}" commonEncryptionScheme="cbcs"><cpix:Data><pskc:Secret><pskc:PlainValue>{plain}</pskc:PlainValue></pskc:Secret></cpix:Data></cpix:ContentKey>"#
    )
}

fn reason(error: Error) -> String {
    error.to_string()
}

#[test]
fn request_has_the_speke_v2_shape() {
    let doc = request_document(
        "demo",
        KID,
        Scheme::Cbcs,
        &[SystemId::WIDEVINE, SystemId::FAIRPLAY, SystemId::WIDEVINE],
    )
    .unwrap();
    assert!(doc.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cpix:CPIX "));
    assert!(doc.contains(r#"contentId="demo""#));
    assert!(doc.contains(r#"version="2.3""#));
    assert!(doc.contains(r#"xmlns:cpix="urn:dashif:org:cpix""#));
    assert!(doc.contains(r#"xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc""#));
    assert!(doc.contains(&format!(
        r#"<cpix:ContentKey kid="{KID_UUID}" commonEncryptionScheme="cbcs"/>"#
    )));
    // One DRMSystem per distinct system, in the order asked.
    assert_eq!(doc.matches("<cpix:DRMSystem ").count(), 2);
    let widevine = doc
        .find(r#"systemId="edef8ba9-79d6-4ace-a3c8-27dcd51d21ed""#)
        .unwrap();
    let fairplay = doc
        .find(r#"systemId="94ce86fb-07ff-4f43-adb8-93d2fa968ca2""#)
        .unwrap();
    assert!(widevine < fairplay);
    // FairPlay asks for HLS signalling only.
    assert_eq!(doc.matches("<cpix:PSSH/>").count(), 1);
    assert_eq!(doc.matches("<cpix:ContentProtectionData/>").count(), 1);
    assert_eq!(
        doc.matches(r#"<cpix:HLSSignalingData playlist="media"/>"#)
            .count(),
        2
    );
    assert_eq!(
        doc.matches(r#"<cpix:HLSSignalingData playlist="master"/>"#)
            .count(),
        2
    );
    assert!(doc.contains(&format!(
        r#"<cpix:ContentKeyUsageRule kid="{KID_UUID}" intendedTrackType="ALL">"#
    )));
    assert!(doc.contains("<cpix:AudioFilter/>") && doc.contains("<cpix:VideoFilter/>"));
    // The lists come in the order of the CPIX schema.
    let order = [
        "<cpix:ContentKeyList>",
        "<cpix:DRMSystemList>",
        "<cpix:ContentKeyUsageRuleList>",
        "</cpix:CPIX>",
    ];
    let positions: Vec<usize> = order.iter().map(|s| doc.find(s).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    let cenc = request_document("demo", KID, Scheme::Cenc, &[SystemId::PLAYREADY]).unwrap();
    assert!(cenc.contains(r#"commonEncryptionScheme="cenc""#));
}

#[test]
fn request_escapes_the_content_id_and_refuses_what_xml_cannot_carry() {
    let doc = request_document("a&b<c>\"d'\te", KID, Scheme::Cenc, &[SystemId::COMMON]).unwrap();
    assert!(doc.contains(r#"contentId="a&amp;b&lt;c&gt;&quot;d&apos;&#9;e""#));
    assert!(request_document("", KID, Scheme::Cenc, &[SystemId::COMMON]).is_err());
    assert!(request_document("a\u{1}b", KID, Scheme::Cenc, &[SystemId::COMMON]).is_err());
    assert!(request_document("demo", KID, Scheme::Cenc, &[]).is_err());
}

#[test]
fn request_is_well_formed_xml_in_the_cpix_namespace() {
    // The request document is well-formed XML: quick-xml reads it to the end with
    // namespaces resolved and end names checked.
    let doc = request_document("démo/1", KID, Scheme::Cbcs, &[SystemId::PLAYREADY]).unwrap();
    let mut reader = NsReader::from_str(&doc);
    reader.config_mut().check_end_names = true;
    let mut elements = 0;
    loop {
        match reader.read_resolved_event().unwrap() {
            (ResolveResult::Bound(ns), Event::Start(_) | Event::Empty(_)) => {
                assert_eq!(ns.as_ref(), CPIX_NS.as_bytes());
                elements += 1;
            }
            (_, Event::Start(_) | Event::Empty(_)) => panic!("element outside cpix"),
            (_, Event::Eof) => break,
            _ => {}
        }
    }
    // CPIX, the three lists, ContentKey, DRMSystem and its 4 requests, the usage rule and
    // its 2 filters.
    assert_eq!(elements, 13);
}

#[test]
fn plain_value_gives_the_key() {
    let doc = response(&content_key(KID_UUID, KEY_B64), "");
    assert_eq!(
        content_key_from_response(doc.as_bytes(), KID).unwrap(),
        ContentKey(KEY)
    );
    // Whitespace around and inside the base64 and missing padding are fine.
    let doc = response(
        &content_key(&KID_UUID.to_uppercase(), "\n  MDEyMzQ1Njc4\n  OWFiY2RlZg\n"),
        "",
    );
    assert_eq!(
        content_key_from_response(doc.as_bytes(), KID).unwrap(),
        ContentKey(KEY)
    );
}

#[test]
fn any_prefix_or_a_default_namespace_works() {
    let doc = format!(
        r#"<CPIX xmlns="urn:dashif:org:cpix" xmlns:k="urn:ietf:params:xml:ns:keyprov:pskc" version="2.3">
<ContentKeyList><ContentKey kid="{KID_UUID}" explicitIV="AAECAwQFBgcICQoLDA0ODw=="><Data><k:Secret><k:PlainValue>{KEY_B64}</k:PlainValue></k:Secret></Data></ContentKey></ContentKeyList>
</CPIX>"#
    );
    let answer = parse_response(doc.as_bytes(), KID).unwrap();
    assert_eq!(answer.key, ContentKey(KEY));
    assert_eq!(
        answer.explicit_iv,
        Some([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
    );
}

#[test]
fn elements_in_the_wrong_namespace_do_not_count() {
    let doc = response(&content_key(KID_UUID, KEY_B64), "")
        .replace("urn:ietf:params:xml:ns:keyprov:pskc", "urn:example:other");
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(
        error.contains("has no cpix:Data/pskc:Secret/pskc:PlainValue"),
        "{error}"
    );
    let doc = response(&content_key(KID_UUID, KEY_B64), "")
        .replace("urn:dashif:org:cpix", "urn:dashif:org:cpix:9");
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(error.contains("root element is not CPIX"), "{error}");
}

#[test]
fn pssh_of_the_asked_kid_is_collected() {
    let other = "20000000-2000-2000-2000-200000000002";
    let systems = format!(
        r#"<cpix:DRMSystem kid="{KID_UUID}" systemId="edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"><cpix:PSSH>AAAAIHBzc2g=</cpix:PSSH><cpix:ContentProtectionData>eA==</cpix:ContentProtectionData></cpix:DRMSystem>
<cpix:DRMSystem kid="{other}" systemId="9a04f079-9840-4286-ab92-e65be0885f95"><cpix:PSSH>AAAA</cpix:PSSH></cpix:DRMSystem>
<cpix:DRMSystem kid="{KID_UUID}" systemId="94ce86fb-07ff-4f43-adb8-93d2fa968ca2"><cpix:HLSSignalingData playlist="media">eA==</cpix:HLSSignalingData></cpix:DRMSystem>"#
    );
    let doc = response(&content_key(KID_UUID, KEY_B64), &systems);
    let answer = parse_response(doc.as_bytes(), KID).unwrap();
    assert_eq!(
        answer.pssh,
        vec![(SystemId::WIDEVINE, b"\0\0\0\x20pssh".to_vec())]
    );
}

#[test]
fn a_missing_or_other_kid_is_an_error_naming_the_kids() {
    let other = "20000000-2000-2000-2000-200000000002";
    let doc = response(&content_key(other, KEY_B64), "");
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(
        error.contains(&format!("no ContentKey with kid {KID_UUID}")) && error.contains(other),
        "{error}"
    );
    assert!(!error.contains(KEY_B64));
    let doc = response("", "");
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(error.contains("no ContentKey"), "{error}");
}

#[test]
fn extra_keys_for_other_kids_are_ignored_but_duplicates_are_not() {
    let other = content_key("20000000-2000-2000-2000-200000000002", "AAAA");
    let doc = response(&format!("{other}{}", content_key(KID_UUID, KEY_B64)), "");
    assert_eq!(
        content_key_from_response(doc.as_bytes(), KID).unwrap(),
        ContentKey(KEY)
    );
    let mine = content_key(KID_UUID, KEY_B64);
    let doc = response(&format!("{mine}{mine}"), "");
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(error.contains("more than one ContentKey"), "{error}");
    let doc = response(
        &content_key(
            KID_UUID,
            &format!("{KEY_B64}</pskc:PlainValue><pskc:PlainValue>{KEY_B64}"),
        ),
        "",
    );
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(error.contains("more than one PlainValue"), "{error}");
}

#[test]
fn wrong_lengths_and_bad_base64_are_errors_without_the_value() {
    for (plain, expect) in [
        ("MDEyMzQ1Njc4OWFiY2Rl", "decodes to 15 bytes"),
        ("MDEyMzQ1Njc4OWFiY2RlZmc=", "decodes to 17 bytes"),
        ("", "decodes to 0 bytes"),
        ("MDEyMzQ1Njc4OWFiY2R$Zg==", "PlainValue is not base64"),
    ] {
        let doc = response(&content_key(KID_UUID, plain), "");
        let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
        assert!(error.contains(expect), "{plain:?}: {error}");
        if !plain.is_empty() {
            assert!(!error.contains(plain), "{error}");
        }
    }
    let long = "A".repeat(MAX_PLAIN_VALUE_CHARS + 1);
    let doc = response(&content_key(KID_UUID, &long), "");
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(error.contains("PlainValue longer than"), "{error}");
    let doc = response(&content_key("not-a-uuid", KEY_B64), "");
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(error.contains("ContentKey@kid is not a UUID"), "{error}");
    let doc = response(
        &format!(r#"<cpix:ContentKey kid="{KID_UUID}" explicitIV="AAEC"/>"#),
        "",
    );
    let error = reason(parse_response(doc.as_bytes(), KID).unwrap_err());
    assert!(error.contains("explicitIV decodes to 3 bytes"), "{error}");
}

#[test]
fn encrypted_keys_are_unsupported() {
    let doc = response(
        &format!(
            r#"<cpix:ContentKey kid="{KID_UUID}"><cpix:Data><pskc:Secret><pskc:EncryptedValue><pskc:CipherData/></pskc:EncryptedValue></pskc:Secret></cpix:Data></cpix:ContentKey>"#
        ),
        "",
    );
    assert!(matches!(
        parse_response(doc.as_bytes(), KID),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn the_debug_form_of_a_response_has_no_key() {
    let doc = response(&content_key(KID_UUID, KEY_B64), "");
    let answer = parse_response(doc.as_bytes(), KID).unwrap();
    let debug = format!("{answer:?}");
    assert!(
        !debug.contains("0123456789abcdef") && !debug.contains("[48, 49"),
        "{debug}"
    );
}

#[test]
fn hostile_input_gives_typed_errors() {
    let mine = content_key(KID_UUID, KEY_B64);
    let valid = response(&mine, "");
    let edit = |from: &str, to: &str| valid.replace(from, to).into_bytes();
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    let deep = format!(r#"<cpix:CPIX xmlns:cpix="{CPIX_NS}">{deep}</cpix:CPIX>"#);
    let doctype = r#"<!DOCTYPE x [<!ENTITY a "b"><!ENTITY c "&a;&a;">]>"#;
    let big_pssh = format!(
        r#"<cpix:DRMSystem kid="{KID_UUID}" systemId="{}"><cpix:PSSH>{}</cpix:PSSH></cpix:DRMSystem>"#,
        SystemId::WIDEVINE.uuid(),
        "A".repeat(MAX_PSSH_CHARS + 4)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("whitespace", b"   \n".to_vec()),
        ("not xml", b"this is not xml at all".to_vec()),
        ("json", br#"{"keys":[]}"#.to_vec()),
        (
            "html page",
            b"<html><body>502 Bad Gateway</body></html>".to_vec(),
        ),
        ("binary", (0u8..=255).cycle().take(4096).collect()),
        ("invalid utf-8", b"<cpix:CPIX \xff\xfe>".to_vec()),
        ("truncated", valid.as_bytes()[..300].to_vec()),
        (
            "unclosed",
            format!(r#"<cpix:CPIX xmlns:cpix="{CPIX_NS}">"#).into_bytes(),
        ),
        ("mismatched end", edit("</cpix:Data>", "</cpix:Date>")),
        ("unbound prefix", mine.clone().into_bytes()),
        ("second root", format!("{valid}<x/>").into_bytes()),
        ("deep nesting", deep.into_bytes()),
        ("huge", vec![b' '; MAX_RESPONSE_BYTES + 1]),
        (
            "doctype",
            format!("{doctype}{}", valid.replace(KEY_B64, "&c;")).into_bytes(),
        ),
        ("unknown entity", edit(KEY_B64, "&MDEyMzQ1;")),
        ("duplicate attribute", edit("commonEncryptionScheme", "kid")),
        ("huge pssh", response(&mine, &big_pssh).into_bytes()),
    ];
    for (name, input) in cases {
        match parse_response(&input, KID) {
            Err(error @ (Error::Malformed { what, .. } | Error::Unsupported { what, .. })) => {
                assert_eq!(what, RESPONSE, "{name}");
                assert!(!error.to_string().contains("MDEyMzQ1"), "{name}: {error}");
            }
            Ok(_) => panic!("{name}: accepted"),
        }
    }
}

#[test]
fn no_prefix_of_a_valid_response_panics() {
    let doc = response(
        &content_key(KID_UUID, KEY_B64),
        &format!(
            r#"<cpix:DRMSystem kid="{KID_UUID}" systemId="edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"><cpix:PSSH>AAAAIHBzc2g=</cpix:PSSH></cpix:DRMSystem>"#
        ),
    );
    let bytes = doc.as_bytes();
    for end in 0..bytes.len() {
        assert!(
            parse_response(&bytes[..end], KID).is_err(),
            "prefix of {end} bytes"
        );
    }
    assert!(parse_response(bytes, KID).is_ok());
}
