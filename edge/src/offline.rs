//! Offline packaging (`edgepack package`): every object the daemon would serve for one asset,
//! built by the same code and written as files under `DIR/vod/{asset}/`, so any static file
//! server rooted at DIR answers the daemon's URLs with the daemon's bytes.

use std::path::{Path, PathBuf};

use packager::presentation::Presentation;

use crate::http::body::parts_len;
use crate::pipeline::build::build;
use crate::pipeline::protect::{plan, protect};
use crate::pipeline::route::{Flavor, VodObject};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// What `package` wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageReport {
    pub files: usize,
    pub bytes: u64,
}

/// Every object of a title, in a stable order.
pub fn all_objects(p: &Presentation) -> Vec<VodObject> {
    use VodObject::*;
    let mut out = vec![Multivariant(Flavor::Cmaf), Multivariant(Flavor::Ts), Mpd];
    for r in p.video.iter().chain(&p.audio) {
        let id = &r.id;
        out.push(MediaPlaylist(Flavor::Cmaf, id.clone()));
        out.push(MediaPlaylist(Flavor::Ts, id.clone()));
        if p.track(r).is_video() {
            out.push(IframePlaylist(id.clone()));
        }
        out.push(Init(id.clone()));
        for n in 1..=r.segments.len() as u32 {
            out.push(CmafSegment(id.clone(), n));
            out.push(TsSegment(id.clone(), n));
        }
    }
    for s in &p.subtitles {
        let lang = &s.language;
        out.push(SubtitleFile(lang.clone()));
        for flavor in [Flavor::Cmaf, Flavor::Ts] {
            out.push(SubtitlePlaylist(flavor, lang.clone()));
            for n in 1..=p.subtitle_segment_count() as u32 {
                out.push(SubtitleSegment(flavor, lang.clone(), n));
            }
        }
    }
    out
}

fn io_problem(path: &Path, e: std::io::Error) -> Problem {
    Problem::new(
        ProblemKind::Internal,
        format!("cannot write {}: {e}", path.display()),
    )
}

/// Builds every object of `asset` and writes it under `out/vod/{asset}/`.
pub async fn package(state: &AppState, asset: &str, out: &Path) -> Result<PackageReport, Problem> {
    let title = state.media.title(asset).await?;
    let base: PathBuf = out.join("vod").join(asset);
    let mut report = PackageReport::default();
    let policy = title.policy.as_ref().unwrap_or(&state.config.encryption);
    let protection = match plan(state, asset, policy, None) {
        Some(planned) => Some(protect(state, asset, planned).await?),
        None => None,
    };
    for object in all_objects(&title.presentation) {
        let built = match build(state, &title, &object, protection.as_ref()).await {
            Ok(built) => built,
            // Outputs the encryption method has no form of are simply not written.
            Err(p) if p.kind == ProblemKind::OutputNotOffered => continue,
            Err(p) => return Err(p),
        };
        let path = base.join(object.relative_path());
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| io_problem(dir, e))?;
        }
        let bytes: Vec<u8> = built.parts.concat();
        tokio::fs::write(&path, &bytes)
            .await
            .map_err(|e| io_problem(&path, e))?;
        report.files += 1;
        report.bytes += parts_len(&built.parts);
    }
    Ok(report)
}
