//! Unit tests of the SPEKE key source.

use super::*;

#[test]
fn config_defaults_and_unknown_fields() {
    let config: SpekeConfig =
        toml::from_str(r#"url = "https://keys.example/speke/v2""#).expect("minimal config");
    assert_eq!(config, SpekeConfig::new("https://keys.example/speke/v2"));
    assert_eq!(config.timeout_ms, 2000);
    assert_eq!(config.cache_seconds, 300);
    assert_eq!(config.scheme, Scheme::Cbcs);
    assert!(config.headers.is_empty());
    let config: SpekeConfig = toml::from_str(
        r#"
        url = "http://127.0.0.1:9000/"
        timeout_ms = 500
        cache_seconds = 0
        scheme = "cenc"
        systems = ["widevine", "playready"]
        headers = { Authorization = "Bearer s3cret" }
        "#,
    )
    .expect("full config");
    assert_eq!(config.scheme, Scheme::Cenc);
    assert_eq!(config.systems, [DrmSystem::Widevine, DrmSystem::PlayReady]);
    assert!(toml::from_str::<SpekeConfig>("url = \"http://x/\"\nsystems = [\"nagra\"]").is_err());
    assert!(toml::from_str::<SpekeConfig>("url = \"http://x/\"\nretries = 3").is_err());
    assert!(toml::from_str::<SpekeConfig>("url = \"http://x/\"\nscheme = \"cbc1\"").is_err());
    assert!(toml::from_str::<SpekeConfig>("timeout_ms = 3").is_err());
}

#[test]
fn debug_never_shows_header_values() {
    let mut config = SpekeConfig::new("https://keys.example/");
    config
        .headers
        .insert("Authorization".into(), "Bearer s3cret".into());
    let debug = format!("{config:?}");
    assert!(
        debug.contains("Authorization") && !debug.contains("s3cret"),
        "{debug}"
    );
    let source = SpekeKeySource::new(&SpekeConfig {
        url: "http://127.0.0.1:1/".into(),
        ..config
    })
    .expect("source");
    assert!(!format!("{source:?}").contains("s3cret"));
    let config = SpekeConfig::new("https://user:pw@keys.example:8443/v2?token=t0k");
    let debug = format!("{config:?}");
    assert!(
        debug.contains("\"https://keys.example:8443/v2?<redacted>\""),
        "{debug}"
    );
    assert!(!debug.contains("pw") && !debug.contains("t0k"), "{debug}");
}

#[test]
fn bad_configs_are_refused_without_header_values() {
    let base = SpekeConfig::new("http://127.0.0.1:1/");
    let with = |edit: &dyn Fn(&mut SpekeConfig)| {
        let mut config = base.clone();
        edit(&mut config);
        SpekeKeySource::new(&config).map(|_| ()).unwrap_err()
    };
    assert!(matches!(
        with(&|c| c.url = "keys.example/speke".into()),
        SpekeConfigError::Url(_)
    ));
    assert!(matches!(
        with(&|c| c.url = "ftp://keys.example/".into()),
        SpekeConfigError::Url(_)
    ));
    assert_eq!(with(&|c| c.timeout_ms = 0), SpekeConfigError::Timeout);
    assert_eq!(
        with(&|c| c.cache_seconds = u64::MAX),
        SpekeConfigError::CacheSeconds
    );
    assert_eq!(with(&|c| c.systems.clear()), SpekeConfigError::NoSystems);
    assert_eq!(
        with(&|c| c.scheme = Scheme::Cenc),
        SpekeConfigError::FairPlayNeedsCbcs
    );
    let error = with(&|c| {
        c.headers
            .insert("X-Api-Key".into(), "s3cret\nInjected: 1".into());
    });
    assert_eq!(error, SpekeConfigError::HeaderValue("X-Api-Key".into()));
    assert!(!error.to_string().contains("s3cret"));
    let error = with(&|c| {
        c.headers.insert("Content-Type".into(), "text/plain".into());
    });
    assert_eq!(
        error,
        SpekeConfigError::ReservedHeader("Content-Type".into())
    );
    let error = with(&|c| {
        c.headers.insert("bad header".into(), "x".into());
    });
    assert_eq!(error, SpekeConfigError::HeaderName("bad header".into()));
}

#[test]
fn status_codes_map_to_key_errors() {
    assert_eq!(
        status_error(StatusCode::UNPROCESSABLE_ENTITY, b"Missing CPIX@contentId"),
        KeyError::Refused("HTTP 422 Unprocessable Entity: Missing CPIX@contentId".into())
    );
    assert!(matches!(
        status_error(StatusCode::FORBIDDEN, b""),
        KeyError::Refused(_)
    ));
    assert!(matches!(
        status_error(StatusCode::FOUND, b""),
        KeyError::Refused(_)
    ));
    for status in [
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::BAD_GATEWAY,
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::REQUEST_TIMEOUT,
    ] {
        assert!(
            matches!(status_error(status, b"x"), KeyError::Unavailable(_)),
            "{status}"
        );
    }
}

#[test]
fn error_messages_are_short_single_lines() {
    assert_eq!(
        short_message(b"  Missing\r\n CPIX@version \x07 "),
        "Missing CPIX@version"
    );
    let long = short_message("x".repeat(5000).as_bytes());
    assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + 1);
    assert_eq!(short_message(b"\xff\xfeok"), "\u{fffd}\u{fffd}ok");
}
