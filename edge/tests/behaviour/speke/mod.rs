//! The SPEKE v2 key source against a small CPIX key server each test starts on a loopback
//! port. The server reads every request with an independent XML parser (roxmltree), checks
//! it is a SPEKE v2 / CPIX 2.3 request, and answers with the key filled in, or misbehaves on
//! purpose: 422 with a fixed message, no answer, an answer for another kid, broken XML, a 5xx,
//! an oversized body.

mod key_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use drm::cenc::Scheme;
use drm::{DrmSystem, KeyId};
use edge::keys::speke::{SpekeConfig, SpekeKeySource};
use edge::keys::{KeyError, KeyRequest, KeySource};

use key_server::*;

fn kid(n: u8) -> KeyId {
    let mut bytes = [0x42u8; 16];
    bytes[15] = n;
    KeyId(bytes)
}

fn request(content_id: &str, kid: KeyId) -> KeyRequest {
    KeyRequest {
        content_id: content_id.into(),
        kid,
    }
}

fn source(server: &KeyServer, edit: impl FnOnce(&mut SpekeConfig)) -> SpekeKeySource {
    let mut config = SpekeConfig::new(server.url());
    edit(&mut config);
    SpekeKeySource::new(&config).unwrap()
}

#[tokio::test]
async fn the_key_for_the_kid_asked_is_the_one_the_server_holds() {
    let server = KeyServer::start(Mode::Answer).await;
    let keys = source(&server, |_| {});
    let pair = keys.content_key(&request("demo", kid(1))).await.unwrap();
    assert_eq!(pair.kid, kid(1));
    assert_eq!(Some(pair.key.0), server.key_for(kid(1)));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_second_request_for_the_same_asset_comes_from_the_cache() {
    let server = KeyServer::start(Mode::Answer).await;
    let keys = source(&server, |_| {});
    let first = keys.content_key(&request("demo", kid(1))).await.unwrap();
    let second = keys.content_key(&request("demo", kid(1))).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(server.requests(), 1);
    // Another asset is another exchange.
    let other = keys
        .content_key(&request("movie.mp4", kid(2)))
        .await
        .unwrap();
    assert_eq!(Some(other.key.0), server.key_for(kid(2)));
    assert_ne!(other.key, first.key);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn concurrent_requests_for_one_key_share_one_exchange() {
    let server = KeyServer::start(Mode::Answer).await;
    server.set_delay(Duration::from_millis(200));
    let keys = Arc::new(source(&server, |_| {}));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let keys = keys.clone();
            tokio::spawn(async move { keys.content_key(&request("demo", kid(1))).await })
        })
        .collect();
    for task in tasks {
        let pair = task.await.unwrap().unwrap();
        assert_eq!(Some(pair.key.0), server.key_for(kid(1)));
    }
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn the_cache_expires_and_failures_are_not_cached() {
    let server = KeyServer::start(Mode::Down).await;
    let keys = source(&server, |c| c.cache_seconds = 0);
    assert!(matches!(
        keys.content_key(&request("demo", kid(1))).await,
        Err(KeyError::Unavailable(_))
    ));
    server.set_mode(Mode::Answer);
    keys.content_key(&request("demo", kid(1))).await.unwrap();
    keys.content_key(&request("demo", kid(1))).await.unwrap();
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn the_request_is_a_speke_v2_cpix_2_3_document() {
    let server = KeyServer::start(Mode::Answer).await;
    let keys = source(&server, |c| {
        c.scheme = Scheme::Cenc;
        c.systems = vec![
            DrmSystem::Widevine,
            DrmSystem::PlayReady,
            DrmSystem::ClearKey,
        ];
    });
    keys.content_key(&request("ep 1 & <2>", kid(7)))
        .await
        .unwrap();
    let recorded = server.recorded();
    let [sent] = recorded.as_slice() else {
        panic!("{} requests", recorded.len());
    };
    assert_eq!(sent.headers["content-type"], "application/xml");
    assert_eq!(sent.headers["x-speke-version"], "2.0");
    // The server's own checks passed (else it answers 422); now the details.
    let asked = check_request(&sent.headers, sent.body.as_bytes()).unwrap();
    assert_eq!(asked.content_id, "ep 1 & <2>");
    assert_eq!(asked.kid, kid(7).uuid());
    assert_eq!(asked.kid, "42424242-4242-4242-4242-424242424207");
    assert_eq!(asked.scheme, "cenc");
    assert_eq!(
        asked.systems,
        [
            "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed",
            "9a04f079-9840-4286-ab92-e65be0885f95",
            "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b",
        ]
    );
    assert_eq!(asked.usage_rule, "ALL");
    let doc = roxmltree::Document::parse(&sent.body).unwrap();
    for system in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "DRMSystem")
    {
        let asks: Vec<_> = system
            .children()
            .filter(|n| n.is_element())
            .map(|n| (n.tag_name().name(), n.attribute("playlist")))
            .collect();
        assert_eq!(
            asks,
            [
                ("PSSH", None),
                ("ContentProtectionData", None),
                ("HLSSignalingData", Some("media")),
                ("HLSSignalingData", Some("master")),
            ]
        );
    }
}

#[tokio::test]
async fn fairplay_asks_for_hls_signalling_only() {
    let server = KeyServer::start(Mode::Answer).await;
    let keys = source(&server, |c| c.systems = vec![DrmSystem::FairPlay]);
    keys.content_key(&request("demo", kid(1))).await.unwrap();
    let body = &server.recorded()[0].body;
    let doc = roxmltree::Document::parse(body).unwrap();
    let system = doc
        .descendants()
        .find(|n| n.tag_name().name() == "DRMSystem")
        .unwrap();
    assert_eq!(
        system.attribute("systemId"),
        Some("94ce86fb-07ff-4f43-adb8-93d2fa968ca2")
    );
    assert!(!body.contains("PSSH"));
    assert!(body.contains(r#"commonEncryptionScheme="cbcs""#));
}

#[tokio::test]
async fn configured_auth_headers_are_sent() {
    let server = KeyServer::start(Mode::Answer).await;
    let keys = source(&server, |c| {
        c.headers
            .insert("Authorization".into(), "Bearer s3cret-token".into());
        c.headers.insert("X-Api-Key".into(), "k-123".into());
    });
    keys.content_key(&request("demo", kid(1))).await.unwrap();
    let sent = &server.recorded()[0].headers;
    assert_eq!(sent["authorization"], "Bearer s3cret-token");
    assert_eq!(sent["x-api-key"], "k-123");
}

#[tokio::test]
async fn a_422_is_refused_with_the_servers_message() {
    let server = KeyServer::start(Mode::Refuse).await;
    let keys = source(&server, |_| {});
    match keys.content_key(&request("demo", kid(1))).await {
        Err(KeyError::Refused(message)) => {
            assert!(message.contains("422"), "{message}");
            assert!(message.contains(REFUSAL), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn no_answer_within_the_timeout_is_unavailable() {
    let server = KeyServer::start(Mode::Silent).await;
    let keys = source(&server, |c| c.timeout_ms = 300);
    let started = Instant::now();
    let result = keys.content_key(&request("demo", kid(1))).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(KeyError::Unavailable(_))),
        "{result:?}"
    );
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn a_5xx_is_unavailable() {
    let server = KeyServer::start(Mode::Down).await;
    let keys = source(&server, |_| {});
    match keys.content_key(&request("demo", kid(1))).await {
        Err(KeyError::Unavailable(message)) => assert!(message.contains("503"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let keys = SpekeKeySource::new(&SpekeConfig::new(format!("http://{addr}/"))).unwrap();
    assert!(matches!(
        keys.content_key(&request("demo", kid(1))).await,
        Err(KeyError::Unavailable(_))
    ));
}

#[tokio::test]
async fn an_answer_for_another_kid_is_refused_without_its_key() {
    let server = KeyServer::start(Mode::WrongKid).await;
    let keys = source(&server, |_| {});
    let result = keys.content_key(&request("demo", kid(1))).await;
    let Err(KeyError::Refused(message)) = &result else {
        panic!("{result:?}");
    };
    assert!(message.contains(&kid(1).uuid()), "{message}");
    let other: KeyId = other_kid(&kid(1).uuid()).parse().unwrap();
    let key = server.key_for(other).expect("the server sent a key");
    let error = result.unwrap_err().to_string();
    assert!(
        !error.contains(&base64(&key)) && !error.contains(&hex(&key)),
        "{error}"
    );
}

#[tokio::test]
async fn malformed_xml_is_refused() {
    let server = KeyServer::start(Mode::Malformed).await;
    let keys = source(&server, |_| {});
    let result = keys.content_key(&request("demo", kid(1))).await;
    let Err(KeyError::Refused(message)) = &result else {
        panic!("{result:?}");
    };
    let key = server.key_for(kid(1)).unwrap();
    assert!(!message.contains(&base64(&key)), "{message}");
}

#[tokio::test]
async fn an_oversized_answer_is_refused() {
    let server = KeyServer::start(Mode::Huge).await;
    let keys = source(&server, |_| {});
    match keys.content_key(&request("demo", kid(1))).await {
        Err(KeyError::Refused(message)) => assert!(message.contains("larger"), "{message}"),
        other => panic!("{other:?}"),
    }
}
