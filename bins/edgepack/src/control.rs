//! `edgepack control`: the control plane alone, from the `[control]` table of a
//! configuration file; and `edgepack conformance`: a contract's suite against any URL.

use std::process::ExitCode;

use anyhow::Context;
use control_plane::{ControlConfig, Plane};
use serde::Deserialize;

/// The part of a configuration file `edgepack control` reads: other tables (the node's own)
/// may sit beside it.
#[derive(Deserialize)]
struct ControlFile {
    #[serde(default)]
    control: Option<ControlConfig>,
}

pub fn load(path: &std::path::Path) -> anyhow::Result<ControlConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: ControlFile = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let config = file
        .control
        .with_context(|| format!("{} has no [control] table", path.display()))?;
    config.validate().map_err(anyhow::Error::msg)?;
    Ok(config)
}

pub fn run(
    config_path: &std::path::Path,
    listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    crate::init_logs();
    let mut config = load(config_path)?;
    if let Some(l) = listen {
        config.listen = l;
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let plane = Plane::build(&config, None).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let served: Vec<&str> = config
            .serve
            .iter()
            .map(|s| match s {
                control_plane::config::Service::Catalog => "catalog",
                control_plane::config::Service::Entitlement => "entitlement",
                control_plane::config::Service::Billing => "billing",
            })
            .collect();
        println!(
            "edgepack control listening on http://{addr} ({})",
            served.join(", ")
        );
        control_plane::serve(listener, plane.router, crate::shutdown_signal()).await?;
        println!("edgepack control stopped");
        Ok(ExitCode::SUCCESS)
    })
}

pub fn conformance(
    contract: &str,
    url: &str,
    options: conformance::Options,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let outcomes = runtime.block_on(conformance::run(contract, url, &options))?;
    let (report, ok) = conformance::report(&outcomes);
    print!("{report}");
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
