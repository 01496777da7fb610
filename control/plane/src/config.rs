//! `[control]`: where the control plane listens, where its data lives, who may call it, where
//! its events go, and which services are embedded or remote.

use std::net::SocketAddr;
use std::path::PathBuf;

use billing::config::BillingConfig;
use control_common::auth::ApiKeyConfig;
use entitlement::config::EntitlementConfig;
use serde::Deserialize;

/// The services of the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Catalog,
    Entitlement,
    Billing,
}

pub use control_common::events::config::{EventsConfig, SinkKind};

/// A service reached through its contract over HTTP instead of embedded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    /// Base URL (`https://crm.example.com`); the contract's `/v1/...` paths follow it.
    pub url: String,
    pub api_key: Option<String>,
    /// Milliseconds a call may take (default 2000).
    #[serde(default)]
    pub timeout_ms: u64,
}

/// `[control.remote]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemotesConfig {
    pub catalog: Option<RemoteConfig>,
    pub entitlement: Option<RemoteConfig>,
}

/// `[control]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// Where the control API listens.
    pub listen: SocketAddr,
    /// SQLite files and the events file live here.
    pub data_dir: PathBuf,
    /// `postgres://...` for one PostgreSQL database shared by the three services; unset for
    /// a SQLite file per service in `data_dir`.
    pub database_url: Option<String>,
    /// Connections per service pool.
    pub max_connections: u32,
    /// The services this process embeds and serves.
    pub serve: Vec<Service>,
    /// Calls without an API key get every scope (the demo, loopback-only set-ups).
    pub open: bool,
    pub api_keys: Vec<ApiKeyConfig>,
    pub events: EventsConfig,
    pub remote: RemotesConfig,
    pub entitlement: EntitlementConfig,
    pub billing: BillingConfig,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            data_dir: PathBuf::from("data/control"),
            database_url: None,
            max_connections: 16,
            serve: vec![Service::Catalog, Service::Entitlement, Service::Billing],
            open: false,
            api_keys: Vec::new(),
            events: EventsConfig::default(),
            remote: RemotesConfig::default(),
            entitlement: EntitlementConfig::default(),
            billing: BillingConfig::default(),
        }
    }
}

impl ControlConfig {
    pub fn serves(&self, s: Service) -> bool {
        self.serve.contains(&s)
    }

    pub fn validate(&self) -> Result<(), String> {
        if !self.open && self.api_keys.is_empty() {
            return Err(
                "control: no [[control.api_keys]] and open = false: nobody could call it".into(),
            );
        }
        if self.serves(Service::Catalog) && self.remote.catalog.is_some() {
            return Err("control: the catalog is both served and remote".into());
        }
        if self.serves(Service::Entitlement) && self.remote.entitlement.is_some() {
            return Err("control: entitlement is both served and remote".into());
        }
        self.events.validate("control.events")?;
        if self.serves(Service::Entitlement) {
            self.entitlement.validate()?;
        }
        if self.serves(Service::Billing) {
            self.billing.validate()?;
        }
        Ok(())
    }
}
