//! The node's events of an ad session (`[events]`, here a JSON-lines file): what the stitched
//! session test (sessions.rs) checks of them once its two sessions are over. Each line is
//! also read by the CNCF CloudEvents SDK (tests/control/check_cloudevents.py), an
//! implementation independent of ours.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use edge::Config;

use crate::common::repo_root;

/// `config` with its events in `path`.
pub(super) fn with_events(mut config: Config, path: &Path) -> Config {
    config.events.sink = control_common::events::config::SinkKind::Jsonl;
    config.events.path = path.to_owned();
    config.events.buffer = 1000;
    config
}

fn events(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of<'a>(all: &'a [serde_json::Value], kind: &str, session: &str) -> Vec<&'a serde_json::Value> {
    all.iter()
        .filter(|e| e["type"] == format!("dev.edgepack.{kind}.v1") && e["subject"] == session)
        .collect()
}

/// The first session: both breaks skipped (creatives not conditioned yet), error beacons
/// sent. The second: both breaks filled, and one event for each of the `beacons` tracking
/// requests the ad server received for it.
pub(super) async fn check(path: &Path, first: &str, second: &str, beacons: usize) {
    // The beacons' outcomes come in as their requests end.
    let start = std::time::Instant::now();
    let all = loop {
        let all = events(path);
        let sent = of(&all, "ads.beacon.sent", second).len();
        if sent >= beacons || start.elapsed() > Duration::from_secs(5) {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for session in [first, second] {
        let started = of(&all, "ads.session.started", session);
        assert_eq!(started.len(), 1, "{session}: {all:#?}");
        assert_eq!(started[0]["data"]["asset"], "demo");
        assert_eq!(started[0]["source"], "/edgepack/edge");
        assert_eq!(
            started[0]["partitionkey"], session,
            "an anonymous session keys its own events"
        );
    }
    let results = |session| -> Vec<String> {
        of(&all, "ads.break.decided", session)
            .iter()
            .map(|e| e["data"]["result"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(results(first), ["not_ready", "not_ready"], "{all:#?}");
    assert_eq!(results(second), ["filled", "filled"], "{all:#?}");
    let errors = of(&all, "ads.beacon.sent", first);
    assert_eq!(errors.len(), 5, "the five error URLs: {errors:#?}");
    assert!(errors
        .iter()
        .all(|e| e["data"]["event"] == "error 407" && e["data"]["attempts"] == 1));
    let sent = of(&all, "ads.beacon.sent", second);
    for event in [
        "impression",
        "start",
        "firstQuartile",
        "midpoint",
        "complete",
    ] {
        assert!(
            sent.iter().any(|e| e["data"]["event"] == event),
            "no {event} beacon event: {sent:#?}"
        );
    }
    // One per beacon, however often the session fetched the segments.
    assert_eq!(sent.len(), beacons, "{sent:#?}");
    let checked = Command::new("python3")
        .arg(repo_root().join("tests/control/check_cloudevents.py"))
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        checked.status.success(),
        "the CloudEvents SDK refused the events: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}
