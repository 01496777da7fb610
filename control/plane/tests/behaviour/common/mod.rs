//! Starting a control plane on an ephemeral port, with a known API key, signing key and
//! webhook secret, and the catalog seeded with a product and an asset.

pub mod postgres;

use std::net::SocketAddr;

use catalog::model::{AssetInput, ProductInput};
use control_common::auth::ApiKeyConfig;
use control_plane::config::SinkKind;
use control_plane::{ControlConfig, Plane};
use entitlement::config::SigningKeyConfig;

pub const API_KEY: &str = "test-api-key-0123456789";
pub const WEBHOOK_SECRET: &str = "whsec_test_secret_0123456789";
pub const SECRET_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
pub const PRODUCT: &str = "basic";
pub const ASSET: &str = "demo";

#[allow(dead_code)]
pub struct Running {
    pub addr: SocketAddr,
    pub plane: Plane,
    pub dir: tempfile::TempDir,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The configuration of a test plane on `database_url` (SQLite in a temporary directory when
/// `None`), with events written to `events.jsonl`.
pub fn config(dir: &std::path::Path, database_url: Option<String>) -> ControlConfig {
    let mut c = ControlConfig {
        data_dir: dir.to_path_buf(),
        database_url,
        api_keys: vec![ApiKeyConfig {
            name: "tests".into(),
            key: API_KEY.into(),
            scopes: vec!["*".into()],
        }],
        ..ControlConfig::default()
    };
    c.events.sink = SinkKind::Jsonl;
    c.entitlement.signing = SigningKeyConfig {
        kid: "control-test".into(),
        alg: "HS256".into(),
        secret_hex: Some(SECRET_HEX.into()),
        private_pem: None,
    };
    c.billing.webhook_secrets = vec![WEBHOOK_SECRET.into()];
    c
}

/// Starts a plane with `config` and seeds the catalog.
pub async fn start(config: ControlConfig, dir: tempfile::TempDir) -> Running {
    let plane = Plane::build(&config, None).await.expect("the plane builds");
    plane
        .catalog
        .put_product(
            PRODUCT,
            ProductInput {
                name: "Basic".into(),
                max_streams: 2,
            },
        )
        .await
        .expect("seed product");
    plane
        .catalog
        .put_asset(
            ASSET,
            AssetInput {
                title: "Demo".into(),
                source: None,
                encryption: Default::default(),
                ads: None,
                availability: Default::default(),
                territories: vec![],
                products: vec![PRODUCT.into()],
            },
        )
        .await
        .expect("seed asset");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = plane.router.clone();
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    Running { addr, plane, dir }
}

/// A plane on SQLite in a fresh directory.
pub async fn sqlite() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path(), None);
    start(c, dir).await
}

pub fn options() -> conformance::Options {
    conformance::Options {
        api_key: API_KEY.into(),
        product: Some(PRODUCT.into()),
        asset: Some(ASSET.into()),
        webhook_secret: Some(WEBHOOK_SECRET.into()),
    }
}

/// Runs a suite and fails with its report unless every check passed.
pub async fn passes(contract: &str, url: &str) {
    let outcomes = conformance::run(contract, url, &options())
        .await
        .expect("the suite runs");
    let (report, ok) = conformance::report(&outcomes);
    println!("{contract} at {url}:\n{report}");
    assert!(ok, "{contract} conformance failed:\n{report}");
    assert!(
        outcomes.len() >= 10,
        "the {contract} suite ran too few checks"
    );
}
