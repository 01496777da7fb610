//! A title as it is packaged: the renditions drawn from its source files, each with its
//! segments and measured bit rates, and its subtitles. Manifests and segments are all built
//! from this one plan, so HLS and DASH always agree.

use std::sync::Arc;

use crate::bandwidth::measure_sizes;
pub use crate::bandwidth::Bandwidth;
use crate::cmaf::fragment::media_segment_header_len;
use crate::error::{Error, Result};
use crate::mp4::{Codec, Movie, Track};
use crate::muxed_audio::{muxed_audio_known, Placed};
use crate::playlist_entries::{
    iframe_entries, iframe_track_bandwidth, playlist_entries, PlaylistEntry,
};
pub use crate::segment::SegmentTime;
use crate::segment::{cut_track, plan_boundaries, Boundaries, SegmentSpan};
use crate::ts_size::ts_track_bandwidth_given;
use crate::vtt::WebVtt;

/// Default target segment duration.
pub const DEFAULT_TARGET_SEGMENT_MS: u32 = 4000;

/// One parsed source file of a title.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// File stem used in rendition ids (empty for a single-file asset).
    pub name: String,
    pub movie: Arc<Movie>,
}

/// A subtitle file of a title.
#[derive(Debug, Clone)]
pub struct SubtitleSource {
    /// Language from the file name (`demo.en.vtt` gives `en`).
    pub language: String,
    pub vtt: Arc<WebVtt>,
    /// The file as it was, served whole to DASH players.
    pub text: Arc<str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackagingOptions {
    pub target_segment_ms: u32,
}

impl Default for PackagingOptions {
    fn default() -> Self {
        PackagingOptions {
            target_segment_ms: DEFAULT_TARGET_SEGMENT_MS,
        }
    }
}

/// One track of one source, as a rendition the player can pick.
#[derive(Debug, Clone)]
pub struct Rendition {
    /// URL-safe id, unique in the title: `v1` or `video_360p-v1`.
    pub id: String,
    pub source: usize,
    pub track: usize,
    pub segments: Vec<SegmentSpan>,
    /// Decode start and duration of each segment (track timescale), worked out once here:
    /// playlists and MPDs, built per request, read them instead of the sample table.
    pub segment_times: Vec<SegmentTime>,
    /// The media playlist's entries, one per segment (no byte ranges).
    pub entries: Vec<PlaylistEntry>,
    /// The I-frame playlist's entries (video; empty for audio).
    pub iframe_entries: Vec<PlaylistEntry>,
    pub bandwidth: Bandwidth,
    /// Bit rates of the rendition's MPEG-TS segments (estimated from sample sizes), worked
    /// out once here so that TS playlists do not walk the sample table per request.
    pub ts_bandwidth: Bandwidth,
    /// Bit rates of the rendition's I-frame playlist (video; zero for audio).
    pub iframe_bandwidth: Bandwidth,
    /// Added to the track's decode times to put it on the output timeline (track timescale).
    pub timeline_offset: u64,
}

/// The whole packaging plan of a title.
#[derive(Debug, Clone)]
pub struct Presentation {
    pub sources: Vec<SourceFile>,
    /// Video renditions, lowest bit rate first.
    pub video: Vec<Rendition>,
    /// Audio renditions, one per language and codec, in source order; the first is default.
    pub audio: Vec<Rendition>,
    pub subtitles: Vec<SubtitleSource>,
    /// Segment starts of the lead track (first video, else first audio).
    pub boundaries: Boundaries,
    /// Output time at which presentation time zero falls, as (value, timescale). Edit lists
    /// delay composition (B-frames) and trim audio priming; rather than write negative
    /// times, every track is moved later by the largest such shift, so A/V sync holds.
    pub origin: (u64, u32),
    pub options: PackagingOptions,
    /// Whether every video rendition starts its segments at the same times (worked out
    /// once: the MPD, built per request, states it).
    video_aligned: bool,
    /// For a plan of sources' openings: how many segments, from the first, are those of
    /// the whole plan (see [`Presentation::opening_segments`]).
    opening: Option<usize>,
}

impl Presentation {
    /// Plans a title from its parsed sources (in a stable order) and subtitles.
    pub fn build(
        sources: Vec<SourceFile>,
        subtitles: Vec<SubtitleSource>,
        options: PackagingOptions,
    ) -> Result<Self> {
        Self::build_with_cues(sources, subtitles, options, &[])
    }

    /// Plans a title whose segments are also cut at `cues` (ad breaks): see
    /// [`plan_boundaries`].
    pub fn build_with_cues(
        sources: Vec<SourceFile>,
        subtitles: Vec<SubtitleSource>,
        options: PackagingOptions,
        cues: &[crate::segment::Cue],
    ) -> Result<Self> {
        let target = options.target_segment_ms.max(500);
        let mut video_tracks = Vec::new();
        let mut audio_tracks = Vec::new();
        for (s, source) in sources.iter().enumerate() {
            for (t, track) in source.movie.tracks.iter().enumerate() {
                match track.codec {
                    Codec::Video(_) => video_tracks.push((s, t)),
                    Codec::Audio(_) => audio_tracks.push((s, t)),
                }
            }
        }
        // One audio rendition per language, codec and channel count: ladders whose every
        // file repeats the same audio keep one copy.
        let mut seen = Vec::new();
        audio_tracks.retain(|&(s, t)| {
            let track = &sources[s].movie.tracks[t];
            let key = (
                track.language.clone(),
                track.codec.codec_string().to_owned(),
                match &track.codec {
                    Codec::Audio(a) => a.channels,
                    Codec::Video(_) => 0,
                },
            );
            if seen.contains(&key) {
                false
            } else {
                seen.push(key);
                true
            }
        });
        let &(lead_s, lead_t) = video_tracks
            .first()
            .or(audio_tracks.first())
            .ok_or_else(|| Error::NotFound("no audio or video track in the title".into()))?;
        let origin = timeline_origin(
            video_tracks
                .iter()
                .chain(&audio_tracks)
                .map(|&(s, t)| &sources[s].movie.tracks[t]),
        );
        let lead = &sources[lead_s].movie.tracks[lead_t];
        let boundaries = plan_boundaries(lead, timeline_offset(lead, origin), target, cues);
        let rendition = |(s, t): (usize, usize)| {
            let source = &sources[s];
            let track = &source.movie.tracks[t];
            let offset = timeline_offset(track, origin);
            let segments = cut_track(track, offset, &boundaries);
            // The sample bytes of each segment, for the CMAF and the TS bit rates.
            let payloads: Vec<u64> = segments
                .iter()
                .map(|s| track.samples.bytes_in(s.samples()))
                .collect();
            let bandwidth = measure_sizes(
                track,
                &segments,
                segments
                    .iter()
                    .zip(&payloads)
                    .map(|(s, &p)| media_segment_header_len(track, s) + p),
            );
            let ts_bandwidth = ts_track_bandwidth_given(track, &segments, &payloads);
            let iframe_bandwidth = if track.is_video() {
                iframe_track_bandwidth(track, &segments)
            } else {
                Bandwidth::default()
            };
            let kind = if track.is_video() { 'v' } else { 'a' };
            let id = if source.name.is_empty() {
                format!("{kind}{}", track.track_id)
            } else {
                format!("{}-{kind}{}", source.name, track.track_id)
            };
            let segment_times: Vec<SegmentTime> = segments
                .iter()
                .map(|span| SegmentTime {
                    start: span.start_time(track),
                    duration: span.duration(track),
                })
                .collect();
            let entries =
                playlist_entries(track.timescale, &segment_times, std::iter::repeat(None));
            let iframe_entries = if track.is_video() {
                iframe_entries(track, &segments, &segment_times)
            } else {
                Vec::new()
            };
            Rendition {
                id,
                source: s,
                track: t,
                segments,
                segment_times,
                entries,
                iframe_entries,
                bandwidth,
                ts_bandwidth,
                iframe_bandwidth,
                timeline_offset: offset,
            }
        };
        let mut video: Vec<Rendition> = video_tracks.into_iter().map(rendition).collect();
        video.sort_by_key(|r| (r.bandwidth.average, r.id.clone()));
        let audio = audio_tracks.into_iter().map(rendition).collect();
        let mut presentation = Presentation {
            sources,
            video,
            audio,
            subtitles,
            boundaries,
            origin,
            options: PackagingOptions {
                target_segment_ms: target,
            },
            video_aligned: true,
            opening: None,
        };
        presentation.video_aligned = presentation.compute_video_aligned();
        presentation.opening = presentation.compute_opening();
        Ok(presentation)
    }

    /// `None` for the plan of whole sources. For a plan made from the openings of its
    /// sources ([`parse_movie_opening`](crate::mp4::parse_movie_opening)), the number of
    /// segments, from the first, that are exactly those of the whole plan: for each of
    /// them, every rendition's CMAF and TS segment and init segment are byte for byte what
    /// the whole plan gives. Nothing else of such a plan (playlists, MPDs, bit rates,
    /// durations, subtitles) is the title's.
    pub fn opening_segments(&self) -> Option<usize> {
        self.opening
    }

    /// How many leading segments match the whole plan's, when some track is an opening.
    ///
    /// Segment starts are decided in order (boundaries from the lead's sync samples, each
    /// track cut at the first sync sample presented at or after each), so those inside an
    /// opening are the whole track's; a segment's end is its successor's start, so all but
    /// the last segment of an opening track are whole. A TS segment of video also needs
    /// the next video segment's start and, in the default audio, the first sample
    /// presented at or after it.
    fn compute_opening(&self) -> Option<usize> {
        let renditions = || self.video.iter().chain(&self.audio);
        if !renditions().any(|r| self.track(r).samples.is_opening()) {
            return None;
        }
        let whole = |r: &Rendition| {
            let n = r.segments.len();
            if self.track(r).samples.is_opening() {
                n.saturating_sub(1)
            } else {
                n
            }
        };
        // Segment `k` of a video rendition muxes audio up to video segment `k + 1`.
        let mut k = renditions().map(whole).min().unwrap_or(0);
        if let Some(audio) = self.audio.first() {
            for video in &self.video {
                while k > 0 && !muxed_audio_known(self.placed(video), self.placed(audio), k - 1) {
                    k -= 1;
                }
            }
        }
        Some(k)
    }

    pub fn track(&self, rendition: &Rendition) -> &Track {
        &self.sources[rendition.source].movie.tracks[rendition.track]
    }

    /// A rendition's track with its segments and timeline offset.
    pub(crate) fn placed<'a>(&'a self, rendition: &'a Rendition) -> Placed<'a> {
        Placed {
            track: self.track(rendition),
            segments: &rendition.segments,
            offset: rendition.timeline_offset,
        }
    }

    /// Finds a rendition (video or audio) by id.
    pub fn rendition(&self, id: &str) -> Option<&Rendition> {
        self.video.iter().chain(&self.audio).find(|r| r.id == id)
    }

    pub fn subtitle(&self, language: &str) -> Option<&SubtitleSource> {
        self.subtitles.iter().find(|s| s.language == language)
    }

    /// The lead rendition whose keyframes set the segment boundaries.
    pub fn lead(&self) -> Option<&Rendition> {
        self.video
            .iter()
            .min_by_key(|r| (r.source, r.track))
            .or(self.audio.first())
    }

    /// Duration of the title in seconds (the longest rendition).
    pub fn duration_seconds(&self) -> f64 {
        self.video
            .iter()
            .chain(&self.audio)
            .map(|r| self.track(r).duration_seconds())
            .fold(0.0, f64::max)
    }

    /// The origin in the 90 kHz clock (for WebVTT `X-TIMESTAMP-MAP`).
    pub fn origin_90k(&self) -> u64 {
        self.origin.0 * 90_000 / u64::from(self.origin.1.max(1))
    }

    /// Start and end of segment `index` in milliseconds of presentation time (subtitles
    /// use it).
    pub fn segment_window_ms(&self, index: usize) -> Option<(u64, u64)> {
        let ts = u64::from(self.boundaries.timescale.max(1));
        let origin_ms = self.origin.0 * 1000 / u64::from(self.origin.1.max(1));
        let start = (*self.boundaries.starts.get(index)? * 1000 / ts).saturating_sub(origin_ms);
        let end = match self.boundaries.starts.get(index + 1) {
            Some(&e) => (e * 1000 / ts).saturating_sub(origin_ms),
            None => (self.duration_seconds() * 1000.0).ceil() as u64,
        };
        Some((start, end.max(start)))
    }

    /// Number of subtitle segments (one per lead segment).
    pub fn subtitle_segment_count(&self) -> usize {
        self.boundaries.starts.len()
    }

    /// Whether every video rendition starts its segments at the same times.
    pub fn video_segments_aligned(&self) -> bool {
        self.video_aligned
    }

    fn compute_video_aligned(&self) -> bool {
        let starts = |r: &Rendition| -> Vec<u64> {
            let t = self.track(r);
            r.segments
                .iter()
                .map(|s| {
                    (s.start_presentation_time(t) + r.timeline_offset) * 1000
                        / u64::from(t.timescale)
                })
                .collect()
        };
        let mut all = self.video.iter().map(starts);
        match all.next() {
            Some(first) => all.all(|s| s == first),
            None => true,
        }
    }
}

/// The largest edit-list shift of all tracks, as (value, timescale).
fn timeline_origin<'a>(tracks: impl Iterator<Item = &'a Track>) -> (u64, u32) {
    let mut origin = (0u64, 1u32);
    for t in tracks {
        let shift = u64::try_from(t.presentation_offset).unwrap_or(0);
        // shift / t.timescale > origin.0 / origin.1 ?
        if u128::from(shift) * u128::from(origin.1) > u128::from(origin.0) * u128::from(t.timescale)
        {
            origin = (shift, t.timescale);
        }
    }
    origin
}

/// What to add to `track`'s decode times so its presentation time zero lands on `origin`.
pub fn timeline_offset(track: &Track, origin: (u64, u32)) -> u64 {
    let origin_in_track =
        (u128::from(origin.0) * u128::from(track.timescale)).div_ceil(u128::from(origin.1.max(1)));
    let origin_in_track = u64::try_from(origin_in_track).unwrap_or(u64::MAX);
    origin_in_track.saturating_sub(u64::try_from(track.presentation_offset).unwrap_or(0))
}
