//! Deciding a session's ad plan ([`Plan`]): where its breaks go in the content and which ads
//! play in each. It is decided once per session, on its first request that needs it: the
//! breaks of the asset's policy (or of the ad server's VMAP) are placed on content segment
//! boundaries, every break's ad server is asked at once, and each ad it gives is checked
//! against the conditioning pool.
//! An ad whose creative is conditioned plays (as a title of the conditioning directory); one
//! that is not yet is left out with VAST error 407, one with no usable MP4 with 403. A break
//! with nothing to play is skipped, and why is counted. Every failure's error URLs are fired.

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use packager::mp4::Codec;
use packager::presentation::Presentation;
use ssai::chain::{ErrorCode, ResolvedAd};
use ssai::media_file::{choose, Target};
use ssai::splice::{place, Placement};
use ssai::time::Offset;
use ssai::vmap::AdSource;

use crate::ads::beacons::About;
use crate::ads::condition::{Profile, Rung, Status};
use crate::ads::config::AdRules;
use crate::ads::decision::{AdFailure, BreakDecision, Device};
use crate::ads::plan::{Plan, PlannedAd, PlannedBreak};
use crate::ads::session::AdSession;
use crate::ads::Ads;
use crate::media::title::Title;

/// The plan of `session` over `content` under `rules`, decided by the first caller (the
/// others wait for it).
pub async fn plan_of(
    ads: &Ads,
    session: &AdSession,
    content: &Title,
    rules: &AdRules,
) -> Arc<Plan> {
    session
        .plan
        .get_or_init(|| async {
            Arc::new(decide(ads, session, rules, &content.presentation).await)
        })
        .await
        .clone()
}

/// Where a break's ads come from.
enum Source {
    Url(String),
    Document(Box<ssai::vast::Vast>),
}

/// The milliseconds at which each content segment starts (the first at 0), and the
/// content's duration.
fn content_times(p: &Presentation) -> (Vec<u64>, u64) {
    let duration_ms = (p.duration_seconds() * 1000.0).round() as u64;
    let Some(lead) = p.lead() else {
        return (vec![0], duration_ms);
    };
    let scale = u64::from(p.track(lead).timescale.max(1));
    let first = lead.segment_times.first().map_or(0, |t| t.start);
    let starts = lead
        .segment_times
        .iter()
        .map(|t| t.start.saturating_sub(first) * 1000 / scale)
        .collect();
    (starts, duration_ms)
}

/// The shape ads are conditioned to for content `p`: its video ladder, frame rate and audio.
pub fn profile_of(p: &Presentation) -> Profile {
    let rungs = p
        .video
        .iter()
        .filter_map(|r| match &p.track(r).codec {
            Codec::Video(v) => Some(Rung {
                width: u32::from(v.width) & !1,
                height: u32::from(v.height) & !1,
                video_kbps: (r.bandwidth.average / 1000).clamp(100, 50_000) as u32,
            }),
            Codec::Audio(_) => None,
        })
        .collect();
    let fps = p
        .video
        .first()
        .and_then(|r| p.track(r).frame_rate())
        .map_or(25, |f| f.round().clamp(1.0, 120.0) as u32);
    let (audio_rate, audio_channels) = p
        .audio
        .first()
        .and_then(|r| match &p.track(r).codec {
            Codec::Audio(a) => Some((a.sample_rate, u32::from(a.channels))),
            Codec::Video(_) => None,
        })
        .unwrap_or((48_000, 2));
    Profile {
        rungs,
        fps,
        audio_rate,
        audio_channels,
    }
}

/// Decides the plan of `session` over content `p`.
pub async fn decide(ads: &Ads, session: &AdSession, policy: &AdRules, p: &Presentation) -> Plan {
    let device = Device {
        ip: session.opening.device_ip.as_deref(),
        user_agent: session.opening.user_agent.as_deref(),
    };
    let (starts, duration_ms) = content_times(p);
    // Each cue placed on its own, so a break keeps its own ad source; two on one boundary
    // are one break (the first).
    let mut placed: Vec<(Placement, Source)> = Vec::new();
    for (offset, source) in sources(ads, session, policy, &device).await {
        let Some(placement) = place(&[offset], &starts, duration_ms).into_iter().next() else {
            continue;
        };
        if placed
            .iter()
            .all(|(p, _)| p.before_segment != placement.before_segment)
        {
            placed.push((placement, source));
        }
    }
    placed.sort_by_key(|(p, _)| p.before_segment);
    let profile = profile_of(p);
    let decisions = join_all(placed.iter().enumerate().map(|(i, (_, source))| {
        let device = &device;
        async move {
            let started = Instant::now();
            let d = match source {
                Source::Url(template) => {
                    let url = expand_ad_server(template, session, policy, i + 1);
                    ads.decider.decide(&url, device).await
                }
                Source::Document(vast) => ads.decider.decide_document(vast, device).await,
            };
            ads.metrics
                .request_duration
                .observe(started.elapsed().as_secs_f64());
            d
        }
    }))
    .await;
    let mut plan = Plan::default();
    for (b, ((placement, _), decision)) in placed.into_iter().zip(decisions).enumerate() {
        plan.breaks.push(plan_break(
            ads, session, &profile, b, placement, decision, policy,
        ));
    }
    plan
}

/// Each break's offset and ad source: the policy's breaks with its ad server, or the
/// breaks of the VMAP document the ad server answers.
async fn sources(
    ads: &Ads,
    session: &AdSession,
    policy: &AdRules,
    device: &Device<'_>,
) -> Vec<(Offset, Source)> {
    if !policy.vmap {
        return policy
            .offsets()
            .into_iter()
            .map(|o| (o, Source::Url(policy.ad_server.clone())))
            .collect();
    }
    let url = expand_ad_server(&policy.ad_server, session, policy, 0);
    match ads.decider.vmap(&url, device).await {
        Ok(vmap) => vmap
            .breaks
            .into_iter()
            .filter(|b| b.is_linear())
            .filter_map(|b| {
                let source = match b.source? {
                    AdSource::Vast(v) => Source::Document(v),
                    AdSource::TagUri(u) => Source::Url(u),
                };
                Some((b.offset, source))
            })
            .collect(),
        Err(skip) => {
            ads.metrics
                .requests
                .with_label_values(&[skip.label()])
                .inc();
            tracing::info!(asset = %session.asset, reason = skip.label(), "no VMAP for the session");
            Vec::new()
        }
    }
}

/// The ad server URL of break `index` (1-based; 0 for the session's VMAP).
fn expand_ad_server(template: &str, session: &AdSession, policy: &AdRules, index: usize) -> String {
    let buster = format!(
        "{:08x}",
        crate::hash::fnv1a(session.id.as_bytes(), index as u64) as u32
    );
    ssai::macros::expand(template, &|name| match name {
        "session.id" => Some(session.id.clone()),
        "asset.id" => Some(session.asset.clone()),
        "avail.index" => Some(index.to_string()),
        "avail.duration" => Some(policy.break_seconds.to_string()),
        "cache_buster" | "CACHEBUSTING" => Some(buster.clone()),
        other => other
            .strip_prefix("player_params.")
            .and_then(|p| session.opening.param(p))
            .map(str::to_owned),
    })
}

/// One break's decision made into what plays, with the failures reported.
fn plan_break(
    ads: &Ads,
    session: &AdSession,
    profile: &Profile,
    index: usize,
    placement: Placement,
    decision: BreakDecision,
    rules: &AdRules,
) -> PlannedBreak {
    let request_result = match &decision.skipped {
        None => "filled",
        Some(skip) => skip.label(),
    };
    ads.metrics
        .requests
        .with_label_values(&[request_result])
        .inc();
    for (f, failure) in decision.failures.iter().enumerate() {
        ads.metrics.ads.with_label_values(&["failed"]).inc();
        report(ads, session, &format!("{index}-f{f}"), failure);
    }
    let mut planned = Vec::new();
    let mut left_out: Option<&'static str> = None;
    for (a, ad) in decision.ads.into_iter().enumerate() {
        let slot = format!("{index}-{a}");
        let top = profile.rungs.last().copied().unwrap_or(Rung {
            width: 1280,
            height: 720,
            video_kbps: 3000,
        });
        let target = Target {
            width: top.width,
            height: top.height,
            bitrate_kbps: top.video_kbps,
        };
        let Some(file) = choose(&ad.media_files, target) else {
            ads.metrics.ads.with_label_values(&["no_fit"]).inc();
            left_out.get_or_insert("no_fit");
            report_ad(ads, session, &slot, &ad, ErrorCode::NoSupportedMediaFile);
            continue;
        };
        let key = format!("{}|{}", ad.creative_key().unwrap_or_default(), file.url);
        match ads.conditioner.request(&key, &file.url, profile) {
            Status::Ready(path) => {
                let Some(title) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                ads.metrics.ads.with_label_values(&["played"]).inc();
                planned.push(PlannedAd {
                    slot,
                    title: title.to_owned(),
                    ad,
                    beacons: std::sync::OnceLock::new(),
                });
            }
            Status::Pending | Status::Busy => {
                ads.metrics.ads.with_label_values(&["not_ready"]).inc();
                left_out.get_or_insert("not_ready");
                report_ad(ads, session, &slot, &ad, ErrorCode::NotReady);
            }
            Status::Failed(why) => {
                tracing::info!(url = %file.url, %why, "a creative could not be conditioned");
                ads.metrics.ads.with_label_values(&["failed"]).inc();
                left_out.get_or_insert("error");
                report_ad(ads, session, &slot, &ad, ErrorCode::FileNotFound);
            }
        }
    }
    let skipped = if planned.is_empty() {
        Some(match &decision.skipped {
            Some(skip) => skip.label(),
            None => left_out.unwrap_or("empty"),
        })
    } else {
        None
    };
    ads.metrics
        .breaks
        .with_label_values(&[skipped.unwrap_or("filled")])
        .inc();
    if skipped.is_some() {
        // A break with nothing to play plays the slate, when there is one (and it is ready).
        if let Some(slate) = slate(ads, rules, profile) {
            planned.push(PlannedAd {
                slot: format!("{index}-slate"),
                title: slate,
                ad: ResolvedAd::default(),
                beacons: std::sync::OnceLock::new(),
            });
        }
    }
    ads.metrics
        .break_drift
        .observe(placement.drift_ms as f64 / 1000.0);
    ads.events.publish(
        "ads.break.decided",
        &session.id,
        session.event_key(),
        serde_json::json!({
            "session": session.id, "asset": session.asset, "break": index,
            "cue_ms": placement.cue_ms, "at_ms": placement.at_ms, "drift_ms": placement.drift_ms,
            "result": skipped.unwrap_or("filled"),
            "ads": planned.iter().map(|a| a.slot.as_str()).collect::<Vec<_>>(),
        }),
    );
    PlannedBreak {
        placement,
        ads: planned,
        skipped,
    }
}

/// The slate's title, conditioned to `profile` (queued the first time it is asked for).
fn slate(ads: &Ads, rules: &AdRules, profile: &Profile) -> Option<String> {
    let source = ads.slate_source(rules.slate.as_deref()?)?;
    match ads
        .conditioner
        .request(&format!("slate|{source}"), &source, profile)
    {
        Status::Ready(path) => path.file_name()?.to_str().map(str::to_owned),
        _ => None,
    }
}

/// Fires an ad's error URLs with `code`.
fn report_ad(ads: &Ads, session: &AdSession, slot: &str, ad: &ResolvedAd, code: ErrorCode) {
    let failure = AdFailure {
        code,
        error_urls: ad.errors.clone(),
    };
    report(ads, session, slot, &failure);
}

/// Fires a failure's error URLs, once per session.
fn report(ads: &Ads, session: &AdSession, at: &str, failure: &AdFailure) {
    let code = failure.code.code().to_string();
    for (i, template) in failure.error_urls.iter().enumerate() {
        let url = ads.fill_beacon(template, session, Some(&code));
        let key = format!("{}/{at}/error/{i}", session.id);
        let about = About {
            session: session.id.clone(),
            key: session.event_key().to_owned(),
            slot: at.to_owned(),
            event: format!("error {code}"),
        };
        ads.beacons.fire(Some(&key), url, Some(about));
    }
}
