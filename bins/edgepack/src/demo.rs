//! The demo's control plane: with no configuration file, `edgepack serve` also runs the
//! catalog, entitlement and billing on loopback, seeded with the demo title, a product and a
//! test account, and prints the `curl` that opens a playback session. The signing key is
//! made at start and given to both the entitlement service and the node, so the demo's
//! tokens verify.

use std::sync::OnceLock;

use catalog::model::{AssetInput, ProductInput};
use control_plane::ControlConfig;
use edge::access::config::CatKeyConfig;
use edge::Config;
use entitlement::config::SigningKeyConfig;
use entitlement::model::GrantInput;

pub const ACCOUNT: &str = "demo-viewer";
pub const PRODUCT: &str = "demo-basic";
pub const ASSET: &str = "demo";
const KID: &str = "demo-control";

/// The demo signing key, one per process (a reload keeps it).
fn secret_hex() -> &'static str {
    static SECRET: OnceLock<String> = OnceLock::new();
    SECRET.get_or_init(|| {
        let mut bytes = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap_or(());
        hex::encode(bytes)
    })
}

/// Adds the demo control plane to `config` (the one used when no file is given).
pub fn add_control(config: &mut Config) {
    let scheme = if config.tls.enabled() {
        "https"
    } else {
        "http"
    };
    // In memory: the demo needs nothing on disk, and several demo nodes on one machine (the
    // player tests start many) never share a database file.
    let mut control = ControlConfig {
        data_dir: std::env::temp_dir(),
        database_url: Some("sqlite::memory:".into()),
        open: true,
        ..ControlConfig::default()
    };
    control.listen.set_port(8090);
    control.entitlement.edge_base_url = format!("{scheme}://{}", config.listen);
    control.entitlement.signing = SigningKeyConfig {
        kid: KID.into(),
        alg: "HS256".into(),
        secret_hex: Some(secret_hex().into()),
        private_pem: None,
    };
    config.access.keys.push(CatKeyConfig {
        kid: KID.into(),
        alg: "HS256".into(),
        secret_hex: Some(secret_hex().into()),
        public_pem: None,
        private_pem: None,
    });
    config.access.issuers.clear();
    config.control = Some(control);
}

/// Seeds the demo catalog and the test account's grant (idempotent).
pub async fn seed(plane: &control_plane::Plane) -> anyhow::Result<()> {
    plane
        .catalog
        .put_product(
            PRODUCT,
            ProductInput {
                name: "Demo basic".into(),
                max_streams: 2,
            },
        )
        .await?;
    plane
        .catalog
        .put_asset(
            ASSET,
            AssetInput {
                title: "edgepack demo".into(),
                source: None,
                encryption: Default::default(),
                ads: None,
                availability: Default::default(),
                territories: vec![],
                products: vec![PRODUCT.into()],
            },
        )
        .await?;
    if let Some(e) = &plane.entitlement {
        e.put_grant(
            "demo-viewer-basic",
            GrantInput {
                account: ACCOUNT.into(),
                product: PRODUCT.into(),
                starts_at: None,
                ends_at: None,
                source: "demo".into(),
            },
        )
        .await?;
    }
    Ok(())
}

/// What the demo prints about its control plane.
pub fn print(addr: std::net::SocketAddr) {
    println!("control plane (catalog, entitlement, billing, in memory): http://{addr}");
    println!("  open a playback session for the test account, then play its manifests.hls URL:");
    println!(
        "    curl -s -X POST http://{addr}/v1/playback-sessions -H 'content-type: application/json' \\\n      -d '{{\"account\": \"{ACCOUNT}\", \"device\": \"my-laptop\", \"asset\": \"{ASSET}\"}}'"
    );
    println!("  contracts: http://{addr}/openapi/entitlement.v1.json (and catalog, billing)");
}
