//! The delivery configurations the daemon refuses, from its file or made in code.

use edge::{Config, Daemon};

use super::support::{config, toml_text};

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_refuses_a_delivery_config_that_makes_no_sense() {
    let entry = |id: &str, base: &str, more: &str| {
        format!("[[delivery.cdns]]\nid = \"{id}\"\nbase_url = \"{base}\"\n{more}\n")
    };
    let good = || {
        vec![
            entry("cdn-a", "https://cdn-a.example.com", ""),
            entry("cdn-b", "https://cdn-b.example.com/edge", "weight = 2"),
        ]
    };
    let c = config("", &good());
    assert_eq!(c.delivery.cdns.len(), 2);
    assert_eq!(c.delivery.probe_path, "/healthz");
    assert_eq!(c.delivery.cdns[0].weight, 1);
    assert!(c.delivery.covers("demo"));

    let refused: Vec<(&str, String, Vec<String>)> = vec![
        (
            "listed twice",
            String::new(),
            vec![
                entry("cdn-a", "https://a.example.com", ""),
                entry("cdn-a", "https://b.example.com", ""),
            ],
        ),
        (
            "\"cdn a\"",
            String::new(),
            vec![entry("cdn a", "https://a.example.com", "")],
        ),
        (
            "\"\"",
            String::new(),
            vec![entry("", "https://a.example.com", "")],
        ),
        (
            "1 to 64",
            String::new(),
            vec![entry(&"x".repeat(65), "https://a.example.com", "")],
        ),
        (
            "trailing slash",
            String::new(),
            vec![entry("cdn-a", "https://a.example.com/", "")],
        ),
        (
            ".r and digits",
            String::new(),
            vec![entry("edge.r2", "https://a.example.com", "")],
        ),
        (
            "base_url",
            String::new(),
            vec![entry("cdn-a", "a.example.com", "")],
        ),
        (
            "base_url",
            String::new(),
            vec![entry("cdn-a", "ftp://a.example.com", "")],
        ),
        (
            "probe_url",
            String::new(),
            vec![entry(
                "cdn-a",
                "https://a.example.com",
                "probe_url = \"/up\"",
            )],
        ),
        (
            "weight above 0",
            String::new(),
            vec![entry("cdn-a", "https://a.example.com", "weight = 0")],
        ),
        ("probe_interval_ms", "probe_interval_ms = 50".into(), good()),
        ("ttl_seconds", "ttl_seconds = 0".into(), good()),
        (
            "steering_base_url",
            "steering_base_url = \"steer.example.com\"".into(),
            good(),
        ),
        (
            "clone",
            "hls_layout = \"clone\"".into(),
            vec![
                entry("cdn-a", "https://a.example.com", ""),
                entry("cdn-b", "https://b.example.com:8443", ""),
            ],
        ),
        (
            "unknown field",
            String::new(),
            vec![entry("cdn-a", "https://a.example.com", "wieght = 3")],
        ),
        (
            "unknown variant",
            String::new(),
            vec![entry(
                "cdn-a",
                "https://a.example.com",
                "signing = { scheme = \"jwt\" }",
            )],
        ),
    ];
    for (why, settings, cdns) in refused {
        let text = toml_text(&settings, &cdns);
        match Config::from_toml(&text) {
            Ok(_) => panic!("accepted ({why}):\n{text}"),
            Err(e) => assert!(e.to_string().contains(why), "{why}: {e}\n{text}"),
        }
    }

    // What only the daemon can check: the signing keys. And validation is the daemon's too,
    // for a configuration made in code.
    let signing = [
        "signing = { scheme = \"cat\", kid = \"k\" }",
        "signing = { scheme = \"cat\", secret_hex = \"zz\" }",
        "signing = { scheme = \"cat\", alg = \"ES256\", secret_hex = \"00\" }",
        "signing = { scheme = \"akamai\" }",
        "signing = { scheme = \"akamai\", key_hex = \"0102\" }",
    ];
    for s in signing {
        let c = config("", &[entry("cdn-a", "https://a.example.com", s)]);
        match Daemon::new(c) {
            Ok(_) => panic!("the daemon took {s}"),
            Err(e) => assert!(e.to_string().contains("cdn-a"), "{s}: {e}"),
        }
    }
    let mut twice = config("", &good());
    twice.delivery.cdns[1].id = "cdn-a".into();
    match Daemon::new(twice) {
        Ok(_) => panic!("the daemon took a CDN listed twice"),
        Err(e) => assert!(e.to_string().contains("listed twice"), "{e}"),
    }
}
