//! The `/metrics` exposition of a control plane (`edgepack control`, or a node's `[control]`
//! table): a catalog on SQLite with its events going to a JSON-lines file, after an asset
//! was stored (an event) and read over HTTP (request counters and latency).

use catalog::model::{AssetInput, Encryption};
use control_plane::config::{EventsConfig, Service, SinkKind};
use control_plane::{ControlConfig, Plane};

use crate::common::get;

pub(super) async fn control_exposition() -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = ControlConfig {
        data_dir: dir.path().to_path_buf(),
        open: true,
        serve: vec![Service::Catalog],
        events: EventsConfig {
            sink: SinkKind::Jsonl,
            ..EventsConfig::default()
        },
        ..ControlConfig::default()
    };
    let plane = Plane::build(&config, None).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(control_plane::serve(
        listener,
        plane.router.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    plane
        .catalog
        .put_asset(
            "demo",
            AssetInput {
                title: "Demo".into(),
                source: None,
                encryption: Encryption::default(),
                ads: None,
                availability: Default::default(),
                territories: vec![],
                products: vec![],
            },
        )
        .await
        .unwrap();
    let read = get(addr, "/v1/assets/demo").await;
    assert_eq!(read.status, 200, "{}", read.text());
    let metrics = get(addr, "/metrics").await;
    assert_eq!(metrics.status, 200, "{}", metrics.text());
    let _ = stop.send(());
    metrics.text()
}
