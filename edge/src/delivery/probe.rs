//! Health probes: every `probe_interval_ms`, a GET of each CDN's probe URL (by default its
//! base URL + `/healthz`, which a CDN in front of this node passes through), all CDNs at once,
//! each bounded by `probe_timeout_ms`. A 2xx answer is a good probe; another status, a timeout
//! or a connection error a failed one. The task holds only a weak reference to its delivery,
//! and stops as soon as a reload hands the health board to a new configuration.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::delivery::Delivery;

/// Starts the probe task of `delivery` on the running tokio runtime.
pub fn start(delivery: &Arc<Delivery>) -> Result<(), String> {
    let rt = tokio::runtime::Handle::try_current()
        .map_err(|_| "CDN probes need a running tokio runtime".to_owned())?;
    let tls = crate::outbound_tls::client_config(true).map_err(|e| e.to_string())?;
    let timeout = Duration::from_millis(delivery.config.probe_timeout_ms);
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("edgepack-probe/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let interval = Duration::from_millis(delivery.config.probe_interval_ms);
    rt.spawn(run(Arc::downgrade(delivery), client, interval));
    Ok(())
}

async fn run(delivery: Weak<Delivery>, client: reqwest::Client, interval: Duration) {
    // The first probe one interval after start: a CDN that fronts this node would otherwise
    // be probed before the node listens, fail, and be taken out at every start.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(d) = delivery.upgrade() else {
            return;
        };
        if !d.probes_current() {
            return;
        }
        let probes = d.cdns.iter().map(|c| probe(&client, &c.probe_url));
        let results = futures_util::future::join_all(probes).await;
        for (i, (result, took)) in results.into_iter().enumerate() {
            let id = d.pathways[i].id.as_str();
            d.metrics.probes.with_label_values(&[id, result]).inc();
            d.metrics
                .probe_duration
                .with_label_values(&[id])
                .observe(took.as_secs_f64());
            d.probed(i, result == "ok");
        }
    }
}

/// One probe: its result label and how long it took.
async fn probe(client: &reqwest::Client, url: &str) -> (&'static str, Duration) {
    let at = Instant::now();
    let result = match client.get(url).send().await {
        Ok(r) if r.status().is_success() => "ok",
        Ok(_) => "status",
        Err(e) if e.is_timeout() => "timeout",
        Err(_) => "error",
    };
    (result, at.elapsed())
}
