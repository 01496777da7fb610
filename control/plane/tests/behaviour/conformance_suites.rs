//! Our HTTP servers pass every conformance suite, on SQLite and on PostgreSQL.

use crate::common::postgres::Postgres;
use crate::common::{config, passes, sqlite, start};

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_passes_every_suite() {
    let plane = sqlite().await;
    for contract in ["catalog", "entitlement", "billing"] {
        passes(contract, &plane.url()).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_passes_every_suite() {
    let pg = Postgres::start();
    let url = pg.database("control");
    let dir = tempfile::tempdir().unwrap();
    let c = config(dir.path(), Some(url));
    let plane = start(c, dir).await;
    for contract in ["catalog", "entitlement", "billing"] {
        passes(contract, &plane.url()).await;
    }
}
