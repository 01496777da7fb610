//! Building the plane: databases opened and migrated, the event sink started, each service
//! embedded or remote, and the router of the embedded ones.

use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use billing::store::SqlBilling;
use billing::Billing;
use catalog::client::RemoteCatalog;
use catalog::store::SqlCatalog;
use catalog::Catalog;
use control_common::db::{self, Db, DbError};
use control_common::events::{EventMetrics, Events};
use control_common::serve::{self, DbReady, HttpMetrics, ReadyCheck};
use control_common::ApiKeys;
use entitlement::client::RemoteEntitlement;
use entitlement::revoke::Revoker;
use entitlement::store::SqlEntitlement;
use entitlement::Entitlement;

use crate::config::{ControlConfig, RemoteConfig, Service, SinkKind};
use crate::contracts;

#[derive(Debug, thiserror::Error)]
pub enum PlaneError {
    #[error("control configuration: {0}")]
    Config(String),
    #[error("{service} database: {source}")]
    Db {
        service: &'static str,
        source: DbError,
    },
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The assembled plane.
pub struct Plane {
    pub catalog: Arc<dyn Catalog>,
    pub entitlement: Option<Arc<dyn Entitlement>>,
    pub billing: Option<Arc<dyn Billing>>,
    /// The routes of the embedded services, with health, readiness, metrics and the
    /// contract documents.
    pub router: Router,
}

fn remote_timeout(r: &RemoteConfig) -> Duration {
    Duration::from_millis(if r.timeout_ms == 0 {
        2000
    } else {
        r.timeout_ms
    })
}

async fn open_db(
    config: &ControlConfig,
    service: &'static str,
    steps: &[db::Step],
) -> Result<Db, PlaneError> {
    let url = match &config.database_url {
        Some(u) => u.clone(),
        None => db::sqlite_file(&config.data_dir, &format!("{service}.db")),
    };
    Db::open(&url, config.max_connections, steps)
        .await
        .map_err(|source| PlaneError::Db { service, source })
}

fn contract_document(name: &'static str) -> axum::response::Response {
    match contracts::by_name(name) {
        Some(c) => (
            [(http::header::CONTENT_TYPE, "application/json")],
            c.committed,
        )
            .into_response(),
        None => http::StatusCode::NOT_FOUND.into_response(),
    }
}

impl Plane {
    /// Builds the plane. `revoker` carries revocations to the edge (in-process when the edge
    /// embeds the plane); `None` uses the configured edge admin URLs.
    pub async fn build(
        config: &ControlConfig,
        revoker: Option<Arc<dyn Revoker>>,
    ) -> Result<Plane, PlaneError> {
        config.validate().map_err(PlaneError::Config)?;
        let registry = prometheus::Registry::new();
        let http_metrics = HttpMetrics::new(&registry)?;
        let events = match config.events.sink {
            SinkKind::None => Events::none(),
            _ => config
                .events
                .start(&config.data_dir, Arc::new(EventMetrics::new(&registry)?)),
        };
        let keys = if config.open && config.api_keys.is_empty() {
            ApiKeys::open()
        } else {
            ApiKeys::new(&config.api_keys, config.open).map_err(PlaneError::Config)?
        };
        let mut routers = Vec::new();
        let mut checks: Vec<Box<dyn ReadyCheck>> = Vec::new();

        let catalog: Arc<dyn Catalog> = match &config.remote.catalog {
            Some(r) => Arc::new(
                RemoteCatalog::new(&r.url, r.api_key.clone(), remote_timeout(r))
                    .map_err(PlaneError::Config)?,
            ),
            None => {
                let db = open_db(config, "catalog", catalog::migrations::STEPS).await?;
                checks.push(Box::new(DbReady("catalog database".into(), db.clone())));
                Arc::new(SqlCatalog::new(db, events.clone()))
            }
        };
        if config.serves(Service::Catalog) {
            routers.push(catalog::server::router(catalog.clone(), keys.clone()));
        }

        let entitlement: Option<Arc<dyn Entitlement>> = match &config.remote.entitlement {
            Some(r) => Some(Arc::new(
                RemoteEntitlement::new(&r.url, r.api_key.clone(), remote_timeout(r))
                    .map_err(PlaneError::Config)?,
            )),
            None if config.serves(Service::Entitlement) => {
                let db = open_db(config, "entitlement", entitlement::migrations::STEPS).await?;
                checks.push(Box::new(DbReady("entitlement database".into(), db.clone())));
                let revoker: Arc<dyn Revoker> = match revoker {
                    Some(r) => r,
                    None if config.entitlement.revocation.edge_admin_urls.is_empty() => {
                        Arc::new(entitlement::revoke::Nowhere)
                    }
                    None => Arc::new(
                        entitlement::revoke::EdgeAdmin::new(&config.entitlement.revocation)
                            .map_err(PlaneError::Config)?,
                    ),
                };
                Some(Arc::new(
                    SqlEntitlement::new(
                        db,
                        catalog.clone(),
                        config.entitlement.clone(),
                        revoker,
                        events.clone(),
                    )
                    .map_err(PlaneError::Config)?,
                ))
            }
            None => None,
        };
        if let (true, Some(e)) = (config.serves(Service::Entitlement), &entitlement) {
            routers.push(entitlement::server::router(e.clone(), keys.clone()));
        }

        let billing: Option<Arc<dyn Billing>> = if config.serves(Service::Billing) {
            let Some(e) = entitlement.clone() else {
                return Err(PlaneError::Config(
                    "control: billing needs entitlement, served here or in [control.remote.entitlement]"
                        .into(),
                ));
            };
            let db = open_db(config, "billing", billing::migrations::STEPS).await?;
            checks.push(Box::new(DbReady("billing database".into(), db.clone())));
            let b: Arc<dyn Billing> = Arc::new(
                SqlBilling::new(db, e, config.billing.clone(), events.clone())
                    .map_err(PlaneError::Config)?,
            );
            routers.push(billing::server::router(b.clone(), keys.clone()));
            Some(b)
        } else {
            None
        };

        routers.push(
            Router::new()
                .route(
                    "/openapi/catalog.v1.json",
                    get(|| async { contract_document("catalog") }),
                )
                .route(
                    "/openapi/entitlement.v1.json",
                    get(|| async { contract_document("entitlement") }),
                )
                .route(
                    "/openapi/billing.v1.json",
                    get(|| async { contract_document("billing") }),
                ),
        );
        let router = serve::app(routers, registry, http_metrics, checks);
        Ok(Plane {
            catalog,
            entitlement,
            billing,
            router,
        })
    }
}
