//! Manual check of the muxer against ffmpeg/ffprobe with real encoded media (ignored test).
//!
//! There is no MP4 reader in this test, so the input is elementary streams plus ffprobe's
//! packet lists, which the harness turns into what the muxer gets from an MP4: length-prefixed
//! samples, parameter sets out of band (as `avc1`/`hvc1`), 90 kHz timestamps.
//!
//! ```sh
//! cd /tmp
//! # Source with B-frames, and its elementary streams.
//! ffmpeg -y -f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
//!   -t 4 -c:v libx264 -g 50 -bf 2 -c:a aac -ac 2 -video_track_timescale 90000 src.mp4
//! ffmpeg -y -i src.mp4 -map 0:v -c copy -bsf:v h264_mp4toannexb -f h264 v.h264
//! ffmpeg -y -i src.mp4 -map 0:a -c copy -f adts a.aac
//! # Access unit sizes in the Annex B file, and timestamps/keyframes from the MP4.
//! ffprobe -v error -show_entries packet=size,flags -of compact=p=0 v.h264 > v.packets
//! ffprobe -v error -select_streams v -show_entries packet=pts_time,dts_time,flags -of compact=p=0 src.mp4 > v.times
//!
//! cd /work/main
//! TS_VALIDATE_OUT=/tmp/out.ts TS_VALIDATE_VIDEO=/tmp/v.h264 TS_VALIDATE_VIDEO_PACKETS=/tmp/v.packets \
//!   TS_VALIDATE_VIDEO_TIMES=/tmp/v.times TS_VALIDATE_AUDIO=/tmp/a.aac TS_VALIDATE_SEGMENT_SECONDS=2 \
//!   cargo test -p packager ts::validate -- --ignored --nocapture
//!
//! # The test itself runs these on /tmp/out.ts and compares with what it muxed:
//! ffprobe -v error -show_streams -show_packets /tmp/out.ts
//! ffmpeg -v error -i /tmp/out.ts -f null -            # must print nothing
//! # By hand: the segmented version through the HLS demuxer, and decoded frames vs the source.
//! ffmpeg -v warning -i /tmp/out.m3u8 -f null -
//! diff <(ffmpeg -v error -i /tmp/src.mp4 -map 0:v -f framemd5 - | grep -v '^#' | cut -d, -f6) \
//!      <(ffmpeg -v error -i /tmp/out.ts -map 0:v -f framemd5 - | grep -v '^#' | cut -d, -f6)
//! ```
//!
//! For HEVC use `-c:v libx265 -tag:v hvc1`, `-bsf:v hevc_mp4toannexb -f hevc` and
//! `TS_VALIDATE_VIDEO_CODEC=hevc`; for AC-3/E-AC-3 `-c:a ac3|eac3`, `-f ac3|eac3`, and
//! `ffprobe -show_entries packet=size,pts_time -of compact=p=0 a.ac3 > a.packets`.
//!
//! Environment:
//! * `TS_VALIDATE_OUT`: output path (required; the test does nothing without it). With
//!   `TS_VALIDATE_SEGMENT_SECONDS=N` the harness also cuts the stream at the first keyframe
//!   after every N seconds into `<OUT>.<i>.ts`, and writes `<OUT>.m3u8` (`<OUT>` without
//!   `.ts`) and an I-frame playlist `<OUT>.iframes.m3u8` from [`TsSegment::first_keyframe_range`].
//! * `TS_VALIDATE_VIDEO`: Annex B H.264 or HEVC (`TS_VALIDATE_VIDEO_CODEC=hevc`), with
//!   `TS_VALIDATE_VIDEO_PACKETS` (ffprobe `size` per access unit of that file, compact
//!   format) and `TS_VALIDATE_VIDEO_TIMES` (ffprobe `pts_time`, `dts_time`, `flags` per
//!   packet of the MP4, decode order). `TS_VALIDATE_INBAND=1` keeps the parameter sets in
//!   the samples and passes none out of band (as `avc3`/`hev1`).
//! * `TS_VALIDATE_AUDIO`: ADTS AAC (headers are parsed and stripped; timestamps from the
//!   frame count), or raw AC-3/E-AC-3 with `TS_VALIDATE_AUDIO_CODEC=ac3|eac3` and
//!   `TS_VALIDATE_AUDIO_PACKETS` (ffprobe `size`, `pts_time` per frame of that file).
//! * `TS_VALIDATE_OFFSET`: 90 kHz ticks added to every timestamp (default 126000, 1.4 s).
//! * `TS_VALIDATE_SAMPLE_AES=1`: encrypt with SAMPLE-AES under a fixed test key, written to
//!   `<OUT>.key` (the playlist gets `#EXT-X-KEY:METHOD=SAMPLE-AES` with it and the IV). The
//!   whole-file ffprobe check is skipped (ffmpeg decrypts only through the HLS demuxer);
//!   compare instead what ffmpeg decodes from the playlist with the clear run's output:
//!
//! ```sh
//! TS_VALIDATE_OUT=/tmp/clear.ts ... TS_VALIDATE_SEGMENT_SECONDS=2 cargo test ...
//! TS_VALIDATE_OUT=/tmp/enc.ts TS_VALIDATE_SAMPLE_AES=1 ... TS_VALIDATE_SEGMENT_SECONDS=2 cargo test ...
//! diff <(ffmpeg -v error -i /tmp/clear.m3u8 -f framemd5 - | grep -v '^#') \
//!      <(ffmpeg -v error -allowed_extensions ALL -i /tmp/enc.m3u8 -f framemd5 - | grep -v '^#')
//! ```

use super::*;
use std::env;
use std::fmt::Write as _;
use std::fs;

fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.is_empty())
}

/// The fixed key and IV of `TS_VALIDATE_SAMPLE_AES=1` runs.
fn sample_aes_key() -> Option<SampleAesKey> {
    (var("TS_VALIDATE_SAMPLE_AES").as_deref() == Some("1")).then(|| {
        SampleAesKey::new(
            *b"edgepack-test-k!",
            [
                0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8,
            ],
        )
    })
}

/// Parses ffprobe `-of compact=p=0` lines (`key=value|key=value`).
fn compact(path: &str) -> Vec<Vec<(String, String)>> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split('|')
                .filter_map(|kv| {
                    kv.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                })
                .collect()
        })
        .collect()
}

fn field<'r>(row: &'r [(String, String)], key: &str) -> Option<&'r str> {
    row.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn ticks(seconds: &str, offset: i64) -> u64 {
    let s: f64 = seconds
        .parse()
        .unwrap_or_else(|_| panic!("time {seconds:?}"));
    let t = (s * 90_000.0).round() as i64 + offset;
    u64::try_from(t).expect("timestamp negative after the offset; raise TS_VALIDATE_OFFSET")
}

/// Splits an Annex B access unit into NAL units (trailing zero bytes dropped).
fn annexb_nals(au: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= au.len() {
        if au[i] == 0 && au[i + 1] == 0 && au[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(au.len(), |&next| next - 3);
        let mut nal = &au[start..end];
        while let [rest @ .., 0] = nal {
            nal = rest;
        }
        if !nal.is_empty() {
            nals.push(nal);
        }
    }
    nals
}

struct OwnedSample {
    dts: u64,
    pts: u64,
    keyframe: bool,
    data: Vec<u8>,
}

struct VideoInput {
    codec: TsVideoCodec,
    parameter_sets: Vec<Vec<u8>>,
    samples: Vec<OwnedSample>,
}

fn load_video(offset: i64) -> Option<VideoInput> {
    let path = var("TS_VALIDATE_VIDEO")?;
    let codec = match var("TS_VALIDATE_VIDEO_CODEC").as_deref() {
        Some("hevc") => TsVideoCodec::Hevc,
        _ => TsVideoCodec::H264,
    };
    let inband = var("TS_VALIDATE_INBAND").as_deref() == Some("1");
    let stream = fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sizes = compact(&var("TS_VALIDATE_VIDEO_PACKETS").expect("TS_VALIDATE_VIDEO_PACKETS"));
    let times = compact(&var("TS_VALIDATE_VIDEO_TIMES").expect("TS_VALIDATE_VIDEO_TIMES"));
    assert_eq!(
        sizes.len(),
        times.len(),
        "access units in the Annex B file vs packets in the MP4"
    );
    let mut parameter_sets: Vec<Vec<u8>> = Vec::new();
    let mut samples = Vec::new();
    let mut pos = 0usize;
    for (size_row, time_row) in sizes.iter().zip(&times) {
        let size: usize = field(size_row, "size")
            .and_then(|s| s.parse().ok())
            .expect("size");
        let au = &stream[pos..pos + size];
        pos += size;
        let mut data = Vec::new();
        for nal in annexb_nals(au) {
            let t = video::nal_type(codec, nal).unwrap_or(0);
            let (is_ps, is_aud) = match codec {
                TsVideoCodec::H264 => (t == 7 || t == 8, t == 9),
                TsVideoCodec::Hevc => ((32..=34).contains(&t), t == 35),
            };
            if !inband && (is_ps || is_aud) {
                if is_ps && !parameter_sets.iter().any(|p| p == nal) {
                    parameter_sets.push(nal.to_vec());
                }
                continue;
            }
            data.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            data.extend_from_slice(nal);
        }
        samples.push(OwnedSample {
            dts: ticks(field(time_row, "dts_time").expect("dts_time"), offset),
            pts: ticks(field(time_row, "pts_time").expect("pts_time"), offset),
            keyframe: field(time_row, "flags").is_some_and(|f| f.starts_with('K')),
            data,
        });
    }
    assert_eq!(
        pos,
        stream.len(),
        "access unit sizes cover the Annex B file"
    );
    if inband {
        parameter_sets.clear();
    }
    Some(VideoInput {
        codec,
        parameter_sets,
        samples,
    })
}

struct AudioInput {
    codec: TsAudioCodec,
    samples: Vec<OwnedSample>,
}

fn load_audio(offset: i64) -> Option<AudioInput> {
    let path = var("TS_VALIDATE_AUDIO")?;
    let stream = fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let offset = u64::try_from(offset).expect("offset");
    match var("TS_VALIDATE_AUDIO_CODEC").as_deref().unwrap_or("aac") {
        "aac" => {
            const RATES: [u64; 13] = [
                96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000,
                7350,
            ];
            let mut samples = Vec::new();
            let mut codec = None;
            let mut pos = 0;
            let mut rate = 0;
            while pos + 7 <= stream.len() {
                let h = &stream[pos..pos + 7];
                assert_eq!((h[0], h[1] & 0xf6), (0xff, 0xf0), "ADTS sync at {pos}");
                let header_len = if h[1] & 1 == 1 { 7 } else { 9 };
                let len = (usize::from(h[3] & 3) << 11)
                    | (usize::from(h[4]) << 3)
                    | usize::from(h[5] >> 5);
                let profile = h[2] >> 6;
                let sampling_index = (h[2] >> 2) & 0x0f;
                let channel_config = ((h[2] & 1) << 2) | (h[3] >> 6);
                codec.get_or_insert(TsAudioCodec::Aac {
                    profile,
                    sampling_index,
                    channel_config,
                });
                rate = RATES[usize::from(sampling_index)];
                let i = samples.len() as u64;
                let t = offset + i * 1024 * 90_000 / rate;
                samples.push(OwnedSample {
                    dts: t,
                    pts: t,
                    keyframe: true,
                    data: stream[pos + header_len..pos + len].to_vec(),
                });
                pos += len;
            }
            eprintln!("AAC: {} frames at {rate} Hz", samples.len());
            Some(AudioInput {
                codec: codec?,
                samples,
            })
        }
        name => {
            let codec = if name == "eac3" {
                TsAudioCodec::Eac3
            } else {
                TsAudioCodec::Ac3
            };
            let rows =
                compact(&var("TS_VALIDATE_AUDIO_PACKETS").expect("TS_VALIDATE_AUDIO_PACKETS"));
            let mut pos = 0;
            let samples = rows
                .iter()
                .map(|row| {
                    let size: usize = field(row, "size")
                        .and_then(|s| s.parse().ok())
                        .expect("size");
                    let t = ticks(field(row, "pts_time").expect("pts_time"), offset as i64);
                    let data = stream[pos..pos + size].to_vec();
                    pos += size;
                    OwnedSample {
                        dts: t,
                        pts: t,
                        keyframe: true,
                        data,
                    }
                })
                .collect();
            Some(AudioInput { codec, samples })
        }
    }
}

fn borrow(samples: &[OwnedSample]) -> Vec<TsSample<'_>> {
    samples
        .iter()
        .map(|s| TsSample {
            dts: s.dts,
            pts: s.pts,
            keyframe: s.keyframe,
            data: &s.data,
        })
        .collect()
}

fn mux_range(
    video: Option<&VideoInput>,
    audio: Option<&AudioInput>,
    video_range: std::ops::Range<usize>,
    audio_range: std::ops::Range<usize>,
    sequence_number: u64,
) -> TsSegment {
    let video = video.map(|v| TsVideo {
        codec: v.codec,
        nal_length_size: 4,
        parameter_sets: v.parameter_sets.iter().map(Vec::as_slice).collect(),
        samples: borrow(&v.samples[video_range]),
    });
    let audio = audio.map(|a| TsAudio {
        codec: a.codec,
        samples: borrow(&a.samples[audio_range]),
    });
    let options = TsSegmentOptions {
        sequence_number,
        sample_aes: sample_aes_key(),
        ..Default::default()
    };
    let segment = write_ts_segment(video.as_ref(), audio.as_ref(), &options).expect("mux");
    assert_eq!(
        ts_segment_len(video.as_ref(), audio.as_ref(), &options).expect("len"),
        segment.bytes.len()
    );
    segment
}

/// Reads `path` back with ffprobe and ffmpeg (when installed) and compares codec, packet
/// count, timestamps and keyframe flags with what was muxed.
fn check_with_ffprobe(path: &str, video: Option<&VideoInput>, audio: Option<&AudioInput>) {
    use std::process::Command;
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=index,codec_type,codec_name,width,height,sample_rate,channels",
        ])
        .args([
            "-show_entries",
            "packet=stream_index,pts,dts,flags",
            "-of",
            "compact=p=0",
            path,
        ])
        .output();
    let Ok(probe) = probe else {
        eprintln!("ffprobe not found; skipping the read-back check");
        return;
    };
    let stderr = String::from_utf8_lossy(&probe.stderr);
    assert!(stderr.trim().is_empty(), "ffprobe complained: {stderr}");
    let stdout = String::from_utf8_lossy(&probe.stdout);
    let rows: Vec<Vec<(String, String)>> = stdout
        .lines()
        .map(|l| {
            l.split('|')
                .filter_map(|kv| {
                    kv.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                })
                .collect()
        })
        .collect();
    let streams: Vec<&Vec<(String, String)>> = rows
        .iter()
        .filter(|r| field(r, "codec_type").is_some())
        .collect();
    let packets: Vec<&Vec<(String, String)>> = rows
        .iter()
        .filter(|r| field(r, "flags").is_some())
        .collect();
    let stream = |kind: &str| {
        streams
            .iter()
            .find(|r| field(r, "codec_type") == Some(kind))
            .unwrap_or_else(|| panic!("no {kind} stream"))
    };
    let mask = |t: u64| t & ((1 << 33) - 1);
    let number = |r: &[(String, String)], key: &str| -> u64 {
        field(r, key)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key} in {r:?}"))
    };
    if let Some(video) = video {
        let s = stream("video");
        let expected = match video.codec {
            TsVideoCodec::H264 => "h264",
            TsVideoCodec::Hevc => "hevc",
        };
        assert_eq!(field(s, "codec_name"), Some(expected));
        let index = field(s, "index").unwrap_or("0");
        let got: Vec<_> = packets
            .iter()
            .filter(|p| field(p, "stream_index") == Some(index))
            .collect();
        assert_eq!(got.len(), video.samples.len(), "video packets");
        for (i, (p, s)) in got.iter().zip(&video.samples).enumerate() {
            assert_eq!(number(p, "pts"), mask(s.pts), "video sample {i} PTS");
            assert_eq!(number(p, "dts"), mask(s.dts), "video sample {i} DTS");
            assert_eq!(
                field(p, "flags").is_some_and(|f| f.starts_with('K')),
                s.keyframe,
                "video sample {i} key flag"
            );
        }
        eprintln!(
            "ffprobe: {expected} {}x{}, {} packets, PTS/DTS/key flags as muxed",
            field(s, "width").unwrap_or("?"),
            field(s, "height").unwrap_or("?"),
            got.len()
        );
    }
    if let Some(audio) = audio {
        let s = stream("audio");
        let expected = match audio.codec {
            TsAudioCodec::Aac { .. } => "aac",
            TsAudioCodec::Ac3 => "ac3",
            TsAudioCodec::Eac3 => "eac3",
        };
        assert_eq!(field(s, "codec_name"), Some(expected));
        let index = field(s, "index").unwrap_or("1");
        let got: Vec<_> = packets
            .iter()
            .filter(|p| field(p, "stream_index") == Some(index))
            .collect();
        assert_eq!(got.len(), audio.samples.len(), "audio packets");
        for (i, (p, s)) in got.iter().zip(&audio.samples).enumerate() {
            // Frames after the first of a PES get interpolated timestamps: allow rounding.
            assert!(
                number(p, "pts").abs_diff(mask(s.pts)) <= 2,
                "audio frame {i} PTS {p:?} vs {}",
                s.pts
            );
        }
        eprintln!(
            "ffprobe: {expected} {} Hz {} channels, {} packets, PTS as muxed (±2 ticks)",
            field(s, "sample_rate").unwrap_or("?"),
            field(s, "channels").unwrap_or("?"),
            got.len()
        );
    }
    if let Ok(decode) = Command::new("ffmpeg")
        .args(["-v", "error", "-i", path, "-f", "null", "-"])
        .output()
    {
        let stderr = String::from_utf8_lossy(&decode.stderr);
        assert!(stderr.trim().is_empty(), "ffmpeg decode errors: {stderr}");
        eprintln!("ffmpeg -v error decode: clean");
    }
}

#[test]
#[ignore = "needs media made with ffmpeg; see the module documentation"]
fn validate() {
    let Some(out) = var("TS_VALIDATE_OUT") else {
        eprintln!("TS_VALIDATE_OUT not set; nothing to do");
        return;
    };
    let offset: i64 = var("TS_VALIDATE_OFFSET")
        .and_then(|v| v.parse().ok())
        .unwrap_or(126_000);
    let video = load_video(offset);
    let audio = load_audio(offset);
    let video_len = video.as_ref().map_or(0, |v| v.samples.len());
    let audio_len = audio.as_ref().map_or(0, |a| a.samples.len());
    let whole = mux_range(
        video.as_ref(),
        audio.as_ref(),
        0..video_len,
        0..audio_len,
        0,
    );
    fs::write(&out, &whole.bytes).expect("write");
    eprintln!(
        "{out}: {} bytes, {video_len} video samples, {audio_len} audio frames, keyframes at {:?}",
        whole.bytes.len(),
        whole
            .keyframes
            .iter()
            .map(|k| (k.sample, k.offset, k.len))
            .collect::<Vec<_>>()
    );

    if sample_aes_key().is_none() {
        check_with_ffprobe(&out, video.as_ref(), audio.as_ref());
    }

    let Some(seconds) = var("TS_VALIDATE_SEGMENT_SECONDS").and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    // Cut points: the first keyframe at or after each multiple of `seconds` (video), or every
    // `seconds` (audio only). Each segment spans [cut_i, cut_i+1) in PTS.
    let first_pts = video
        .as_ref()
        .and_then(|v| v.samples.first().map(|s| s.pts))
        .or_else(|| {
            audio
                .as_ref()
                .and_then(|a| a.samples.first().map(|s| s.pts))
        })
        .unwrap_or(0);
    let mut cuts: Vec<u64> = vec![first_pts];
    match &video {
        Some(v) => {
            for s in &v.samples {
                let next = first_pts + cuts.len() as u64 * seconds * 90_000;
                if s.keyframe && s.pts >= next {
                    cuts.push(s.pts);
                }
            }
        }
        None => {
            let last = audio
                .as_ref()
                .and_then(|a| a.samples.last().map(|s| s.pts))
                .unwrap_or(0);
            while *cuts.last().unwrap_or(&0) + seconds * 90_000 <= last {
                cuts.push(cuts.last().unwrap_or(&0) + seconds * 90_000);
            }
        }
    }
    let end_pts = u64::MAX;
    let stem = out.strip_suffix(".ts").unwrap_or(&out).to_owned();
    let mut playlist = String::new();
    let mut iframes = String::new();
    let mut durations = Vec::new();
    let mut files = Vec::new();
    let mut video_start = 0;
    let mut audio_start = 0;
    for i in 0..cuts.len() {
        let end = cuts.get(i + 1).copied().unwrap_or(end_pts);
        // Video: decode order, cut where the next segment's keyframe starts.
        let video_end = video.as_ref().map_or(0, |v| {
            v.samples
                .iter()
                .position(|s| s.keyframe && s.pts >= end)
                .unwrap_or(v.samples.len())
        });
        let audio_end = audio.as_ref().map_or(0, |a| {
            a.samples
                .iter()
                .position(|s| s.pts >= end)
                .unwrap_or(a.samples.len())
        });
        let segment = mux_range(
            video.as_ref(),
            audio.as_ref(),
            video_start..video_end,
            audio_start..audio_end,
            i as u64,
        );
        video_start = video_end;
        audio_start = audio_end;
        let name = format!("{stem}.{i}.ts");
        fs::write(&name, &segment.bytes).expect("write segment");
        let duration = if end == end_pts {
            // Last segment: up to the last PTS plus one frame, roughly.
            let last = video
                .as_ref()
                .and_then(|v| v.samples.iter().map(|s| s.pts).max())
                .or_else(|| audio.as_ref().and_then(|a| a.samples.last().map(|s| s.pts)))
                .unwrap_or(cuts[i]);
            (last - cuts[i]) as f64 / 90_000.0 + 0.04
        } else {
            (end - cuts[i]) as f64 / 90_000.0
        };
        durations.push(duration);
        let file = name.rsplit('/').next().unwrap_or(&name).to_owned();
        if let Some((start, len)) = segment.first_keyframe_range() {
            let _ = writeln!(
                iframes,
                "#EXTINF:{duration:.5},\n#EXT-X-BYTERANGE:{len}@{start}\n{file}"
            );
        }
        files.push(file);
    }
    let target = durations.iter().fold(0f64, |a, &b| a.max(b)).ceil();
    let header = format!(
        "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    );
    playlist.push_str(&header);
    if let Some(key) = sample_aes_key() {
        let key_file = format!("{stem}.key");
        fs::write(&key_file, key.key).expect("write key");
        let iv: String = key.iv.iter().map(|b| format!("{b:02x}")).collect();
        let uri = key_file.rsplit('/').next().unwrap_or(&key_file);
        let _ = writeln!(
            playlist,
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"{uri}\",IV=0x{iv}"
        );
    }
    for (file, duration) in files.iter().zip(&durations) {
        let _ = writeln!(playlist, "#EXTINF:{duration:.5},\n{file}");
    }
    playlist.push_str("#EXT-X-ENDLIST\n");
    fs::write(format!("{stem}.m3u8"), playlist).expect("write playlist");
    if !iframes.is_empty() {
        fs::write(
            format!("{stem}.iframes.m3u8"),
            format!("{header}#EXT-X-I-FRAMES-ONLY\n{iframes}#EXT-X-ENDLIST\n"),
        )
        .expect("write I-frame playlist");
    }
    eprintln!(
        "{stem}.m3u8: {} segments, durations {durations:?}",
        files.len()
    );
}
