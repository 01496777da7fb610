//! The steering endpoint: `GET /vod/{asset}/steering/hls.json` and `.../dash.json`, polled by
//! players every `TTL`. It reads the session state the edge put in the URL and what the
//! player reports (the pathway it is on, its throughput), decides the session's pathway order
//! from the CDNs' health now, and answers with `Cache-Control: no-store`. A player that is not
//! on the pathway it was last told to use first has left it: that is counted as a failover
//! and, past `player_reports`, takes the CDN out.
//!
//! It never answers 410 or 429 (hls.js stops polling for good on those, dash.js on 404 too):
//! an unknown session gets a fresh order, and only a query that cannot be read is refused.

use cdn_router::query::{self, SteeringQuery};
use cdn_router::steering::{
    decide, document, readmission_id, readmitted_base, Decision, Dialect, PathwayClone,
};
use cdn_router::PathwayId;
use http::request::Parts;
use packager::url_query::ManifestSyntax;

use crate::delivery::config::HlsLayout;
use crate::delivery::manifests::{steering_url, SessionContext, SteeringState, CLONE_BASE};
use crate::delivery::Delivery;
use crate::problem::{Problem, ProblemKind};

/// The steering answer for one request: the JSON document (served `no-store`).
pub fn answer(
    delivery: Option<&Delivery>,
    req: &Parts,
    ctx: &SessionContext<'_>,
    syntax: ManifestSyntax,
) -> Result<String, Problem> {
    let Some(delivery) = delivery.filter(|d| d.config.covers(ctx.asset)) else {
        return Err(Problem::new(
            ProblemKind::SteeringNotConfigured,
            format!("asset {:?} is not delivered through CDNs here", ctx.asset),
        ));
    };
    let (format, dialect) = match syntax {
        ManifestSyntax::Hls => ("hls", Dialect::Hls),
        ManifestSyntax::Dash => ("dash", Dialect::Dash),
    };
    let q = query::parse(req.uri.query().unwrap_or("")).map_err(|e| {
        delivery
            .metrics
            .steering_refused
            .with_label_values(&[refusal_label(&e)])
            .inc();
        Problem::new(ProblemKind::SteeringQueryInvalid, e.to_string())
    })?;
    let session = q.session.clone().unwrap_or_else(|| ctx.session(delivery));
    let country = req
        .headers
        .get(&delivery.country_header)
        .and_then(|v| v.to_str().ok());
    let pathways = delivery.pathways_for(country);
    let mut decision = decide(&session, &q, &pathways, &delivery.statuses(), &delivery.ttl);
    observe(delivery, &q, &session);
    let viewer_query = ctx.viewer_query();
    // Clone layout: the CDN the session's playlist was written with (named in the URL), or
    // the one a playlist would be written with now.
    let clone_base = match (syntax, delivery.config.hls_layout) {
        (ManifestSyntax::Hls, HlsLayout::Clone) => Some(
            named_clone_base(req.uri.query().unwrap_or(""))
                .filter(|b| pathways.iter().any(|p| &p.id == b))
                .unwrap_or_else(|| delivery.clone_base_among(&pathways).id),
        ),
        _ => None,
    };
    let mut clones = match &clone_base {
        Some(base) => clones(
            delivery,
            ctx,
            &pathways,
            base,
            &session,
            viewer_query.as_ref(),
        ),
        None => Vec::new(),
    };
    if syntax == ManifestSyntax::Hls {
        readmit(delivery, &mut decision, &mut clones);
    }
    let Some(first) = decision.priority.first().cloned() else {
        return Err(Problem::new(
            ProblemKind::Internal,
            "no pathway to steer to",
        ));
    };
    delivery
        .metrics
        .steering_answers
        .with_label_values(&[format, readmitted_base(&first).as_str()])
        .inc();
    let reload = steering_url(
        delivery,
        ctx,
        syntax,
        &SteeringState {
            session: &session,
            served: &first,
            clone_base: clone_base.as_ref(),
        },
        viewer_query.as_ref(),
    );
    Ok(document(&decision, &reload, &clones, dialect))
}

/// HLS: every CDN that came back from an outage is offered under a fresh id, a clone of
/// itself (`cdn-a.r1`), which hls.js takes back at once (see
/// [`cdn_router::steering::readmission_id`]).
fn readmit(delivery: &Delivery, decision: &mut Decision, clones: &mut Vec<PathwayClone>) {
    let returns = delivery.returns();
    for id in decision.priority.iter_mut() {
        let n = returns.iter().find(|(r, _)| r == id).map_or(0, |(_, n)| *n);
        let Some(fresh) = readmission_id(id, n) else {
            continue;
        };
        // In the clone layout the CDN is itself a clone; its readmission copies that.
        let clone = match clones.iter().find(|c| &c.id == id) {
            Some(c) => PathwayClone {
                id: fresh.clone(),
                ..c.clone()
            },
            None => PathwayClone {
                base_id: id.clone(),
                id: fresh.clone(),
                host: None,
                params: Vec::new(),
            },
        };
        clones.push(clone);
        *id = fresh;
    }
}

/// What the player reported: a pathway it left, its throughput. A report counts only when the
/// session state it carries is the one this edge signed (`state`), so a client cannot make up
/// sessions and reports to take a CDN out.
fn observe(delivery: &Delivery, q: &SteeringQuery, session: &str) {
    let signed = match (&q.session, &q.served, &q.state) {
        (Some(s), Some(served), Some(state)) => delivery.verify_state(s, served, state),
        _ => false,
    };
    if !signed {
        return;
    }
    let known = |p: &PathwayId| {
        let base = readmitted_base(p);
        delivery.cdn(&base).is_some().then_some(base)
    };
    let on = q.pathway.as_ref().and_then(known);
    let left = q.left().and_then(known);
    if let (Some(left), Some(on)) = (left, on.as_ref()) {
        if left != *on {
            delivery
                .metrics
                .failovers
                .with_label_values(&[left.as_str(), on.as_str()])
                .inc();
            delivery.player_left(&left, session);
        }
    }
    if let (Some(bps), Some(on)) = (q.throughput_bps, on) {
        delivery
            .metrics
            .reported_throughput
            .with_label_values(&[on.as_str()])
            .observe(bps as f64 / 8.0);
    }
}

/// HLS clone layout: every CDN but the first as a clone of it, with the host replaced and the
/// CDN's token (fresh on every answer) as a parameter.
fn clones(
    delivery: &Delivery,
    ctx: &SessionContext<'_>,
    pathways: &[cdn_router::Pathway],
    base: &PathwayId,
    session: &str,
    viewer_query: Option<&String>,
) -> Vec<PathwayClone> {
    pathways
        .iter()
        .filter(|p| &p.id != base)
        .map(|p| PathwayClone {
            base_id: base.clone(),
            id: p.id.clone(),
            host: Some(p.host().to_owned()),
            params: ctx
                .pathway_query(delivery, &p.id, session, viewer_query)
                .map(|q| pairs(&q))
                .unwrap_or_default(),
        })
        .collect()
}

/// The clone base a steering URL names (`base=`), if it is a pathway id.
fn named_clone_base(query: &str) -> Option<PathwayId> {
    query
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{CLONE_BASE}=")))
        .and_then(PathwayId::new)
}

/// `a=1&b=2` as pairs.
fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn refusal_label(e: &cdn_router::QueryError) -> &'static str {
    use cdn_router::QueryError::*;
    match e {
        TooLong { .. } => "too_long",
        TooManyParameters { .. } => "too_many_parameters",
        BadEncoding { .. } => "bad_encoding",
        BadPathway { .. } => "bad_pathway",
        BadThroughput { .. } => "bad_throughput",
        BadSession { .. } => "bad_session",
        BadState => "bad_state",
    }
}
