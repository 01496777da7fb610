//! Conformance suites, one per contract, that run against any base URL. Each suite exercises
//! every operation of its contract, the error answers it promises (problem documents with
//! their types) and its idempotency rules, through plain HTTP, so it can judge any
//! implementation: ours on SQLite or PostgreSQL, or an operator's own system.
//!
//! Run them with `edgepack conformance --contract NAME --url URL --api-key KEY` or from a
//! test ([`run`]). Every suite makes its own resources with random ids, so it can run against
//! a service that holds real data, and it leaves what it made deleted where the contract
//! allows deletion.
#![forbid(unsafe_code)]

mod billing_suite;
mod catalog_suite;
mod entitlement_suite;
mod http_check;

pub use http_check::{Check, Outcome};

/// What a suite needs besides the URL.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// An API key with every scope the contract names.
    pub api_key: String,
    /// For entitlement and billing: a product that exists in the catalog the service uses,
    /// and an asset in it.
    pub product: Option<String>,
    pub asset: Option<String>,
    /// For billing: the webhook signing secret the service holds.
    pub webhook_secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("no conformance suite for contract {0:?} (catalog, entitlement, billing)")]
    UnknownContract(String),
    #[error("the {0} suite needs --{1}")]
    Missing(&'static str, &'static str),
    #[error("{0}")]
    Client(String),
}

/// Runs the suite of `contract` against `base`; every check's outcome, in order.
pub async fn run(
    contract: &str,
    base: &str,
    options: &Options,
) -> Result<Vec<Outcome>, SuiteError> {
    let check = Check::new(base, &options.api_key).map_err(SuiteError::Client)?;
    match contract {
        "catalog" => Ok(catalog_suite::run(&check).await),
        "entitlement" => {
            let product = options
                .product
                .as_deref()
                .ok_or(SuiteError::Missing("entitlement", "product"))?;
            let asset = options
                .asset
                .as_deref()
                .ok_or(SuiteError::Missing("entitlement", "asset"))?;
            Ok(entitlement_suite::run(&check, product, asset).await)
        }
        "billing" => {
            let product = options
                .product
                .as_deref()
                .ok_or(SuiteError::Missing("billing", "product"))?;
            let secret = options
                .webhook_secret
                .as_deref()
                .ok_or(SuiteError::Missing("billing", "webhook-secret"))?;
            Ok(billing_suite::run(&check, product, secret).await)
        }
        other => Err(SuiteError::UnknownContract(other.into())),
    }
}

/// A report of outcomes, one line per check, and whether all passed.
pub fn report(outcomes: &[Outcome]) -> (String, bool) {
    let mut text = String::new();
    let mut ok = true;
    for o in outcomes {
        match &o.failure {
            None => text.push_str(&format!("ok    {}\n", o.name)),
            Some(f) => {
                ok = false;
                text.push_str(&format!("FAIL  {}: {f}\n", o.name));
            }
        }
    }
    let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
    text.push_str(&format!(
        "{} checks, {} passed, {failed} failed\n",
        outcomes.len(),
        outcomes.len() - failed
    ));
    (text, ok)
}
