//! A human-readable report of a parsed source: tracks, codecs, durations, keyframe spacing,
//! and what would stop or degrade packaging, in a packaging engineer's words.

use std::fmt::Write;

use crate::mp4::{Codec, Movie, Track};
use crate::presentation::{PackagingOptions, Presentation, SourceFile};

/// Keyframe spacing of a track, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyframeSpacing {
    pub count: usize,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

pub fn keyframe_spacing(track: &Track) -> KeyframeSpacing {
    let ts = f64::from(track.timescale);
    let times: Vec<u64> = track
        .samples
        .sync_indices()
        .map(|i| track.samples.decode_time(i))
        .collect();
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / ts)
        .collect();
    if gaps.is_empty() {
        let d = track.duration_seconds();
        return KeyframeSpacing {
            count: times.len(),
            min: d,
            max: d,
            mean: d,
        };
    }
    KeyframeSpacing {
        count: times.len(),
        min: gaps.iter().copied().fold(f64::INFINITY, f64::min),
        max: gaps.iter().copied().fold(0.0, f64::max),
        mean: gaps.iter().sum::<f64>() / gaps.len() as f64,
    }
}

/// Writes the report for `movie` as packaged with `options`.
pub fn report(name: &str, movie: &Movie, options: PackagingOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{name}: {} track(s), movie timescale {}, duration {:.3} s",
        movie.tracks.len(),
        movie.timescale,
        movie.duration as f64 / f64::from(movie.timescale.max(1))
    );
    let mut warnings = Vec::new();
    let target = f64::from(options.target_segment_ms) / 1000.0;
    for t in &movie.tracks {
        let _ = write!(
            out,
            "  track {} {}: {} ",
            t.track_id,
            if t.is_video() { "video" } else { "audio" },
            t.codec.codec_string()
        );
        match &t.codec {
            Codec::Video(v) => {
                let fps = t.frame_rate().unwrap_or(0.0);
                let _ = write!(
                    out,
                    "({}) {}x{} {fps:.3} fps",
                    crate::mp4::boxes::fourcc_str(&v.fourcc),
                    v.width,
                    v.height
                );
            }
            Codec::Audio(a) => {
                let _ = write!(out, "{} ch {} Hz", a.channels, a.sample_rate);
            }
        }
        let _ = writeln!(
            out,
            ", language {}, timescale {}, {:.3} s, {} samples, {} bytes",
            t.language,
            t.timescale,
            t.duration_seconds(),
            t.samples.len(),
            t.samples.bytes_in(0..t.samples.len())
        );
        if t.is_video() {
            let k = keyframe_spacing(t);
            let _ = writeln!(
                out,
                "    keyframes: {} (every {:.3} s on average, {:.3} to {:.3} s)",
                k.count, k.mean, k.min, k.max
            );
            if t.samples.has_composition_offsets() {
                let _ = writeln!(
                    out,
                    "    B-frames: yes (composition offsets{}), edit list shift {} ticks",
                    if t.samples.min_composition_offset() < 0 {
                        ", some negative"
                    } else {
                        ""
                    },
                    t.presentation_offset
                );
            }
            if !t.samples.is_sync(0) {
                warnings.push(format!(
                    "track {}: the first sample is not a keyframe; players cannot start decoding at the first segment",
                    t.track_id
                ));
            }
            if k.max > target * 1.5 {
                warnings.push(format!(
                    "track {}: keyframes up to {:.3} s apart, longer than the {target:.3} s target: some segments will be that long",
                    t.track_id, k.max
                ));
            }
        } else if t.presentation_offset > 0 {
            let _ = writeln!(
                out,
                "    priming: {} samples trimmed by the edit list",
                t.presentation_offset
            );
        }
    }
    for s in &movie.skipped_tracks {
        warnings.push(format!(
            "track {} ({}) is not packaged: {}",
            s.track_id, s.handler, s.reason
        ));
    }
    let source = SourceFile {
        name: String::new(),
        movie: std::sync::Arc::new(movie.clone()),
    };
    match Presentation::build(vec![source], Vec::new(), options) {
        Ok(p) => {
            let counts: Vec<String> = p
                .video
                .iter()
                .chain(&p.audio)
                .map(|r| format!("{} {} segments", r.id, r.segments.len()))
                .collect();
            let _ = writeln!(
                out,
                "  packaging at {target:.1} s target: {}",
                counts.join(", ")
            );
        }
        Err(e) => warnings.push(format!("cannot be packaged: {e}")),
    }
    if warnings.is_empty() {
        out.push_str("  no problems found\n");
    } else {
        for w in warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
    }
    out
}
