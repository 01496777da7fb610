//! The muxing pass: validates the input, then interleaves audio and video PES packets in
//! decode order with PAT, PMT and PCR, writing into any [`Out`] (a byte buffer, or a counter
//! that only measures).

use drm::sample_aes::{self, SampleAesCipher};

use super::audio;
use super::packet::{self, Chunk, ContinuityCounter, FirstPacket, Out, SmallBuf};
use super::*;

/// Largest PCR interval (ISO/IEC 13818-1 §2.7.2: at most 0.1 s).
const PCR_MAX_INTERVAL: u64 = 9000;
/// PCR-only packets written before one PES at most, so that a wild timestamp gap cannot
/// blow up the output (6.4 s of gap are bridged; beyond that the interval is exceeded).
const PCR_MAX_FILL_PACKETS: u64 = 64;

fn check_pid(name: &'static str, pid: u16) -> Result<(), TsError> {
    if (0x10..=0x1ffe).contains(&pid) {
        Ok(())
    } else {
        Err(TsError::InvalidOption {
            name,
            value: pid.into(),
            reason: "PIDs must be in 0x10..=0x1FFE",
        })
    }
}

fn check_options(options: &TsSegmentOptions) -> Result<(), TsError> {
    check_pid("pmt_pid", options.pmt_pid)?;
    check_pid("video_pid", options.video_pid)?;
    check_pid("audio_pid", options.audio_pid)?;
    if options.video_pid == options.audio_pid || options.pmt_pid == options.video_pid {
        return Err(TsError::InvalidOption {
            name: "video_pid",
            value: options.video_pid.into(),
            reason: "the PMT, video and audio PIDs must differ",
        });
    }
    if options.pmt_pid == options.audio_pid {
        return Err(TsError::InvalidOption {
            name: "audio_pid",
            value: options.audio_pid.into(),
            reason: "the PMT, video and audio PIDs must differ",
        });
    }
    if options.program_number == 0 {
        return Err(TsError::InvalidOption {
            name: "program_number",
            value: 0,
            reason: "program number 0 is reserved for the network PID",
        });
    }
    if options.audio_max_frames_per_pes == 0 {
        return Err(TsError::InvalidOption {
            name: "audio_max_frames_per_pes",
            value: 0,
            reason: "a PES needs at least one frame",
        });
    }
    Ok(())
}

fn check_timestamps(track: TsTrack, samples: &[TsSample<'_>]) -> Result<(), TsError> {
    let mut previous: Option<u64> = None;
    for (sample, s) in samples.iter().enumerate() {
        if s.pts < s.dts {
            return Err(TsError::PtsBeforeDts {
                track,
                sample,
                pts: s.pts,
                dts: s.dts,
            });
        }
        if let Some(previous) = previous.filter(|&p| s.dts < p) {
            return Err(TsError::DtsNotMonotonic {
                track,
                sample,
                dts: s.dts,
                previous,
            });
        }
        previous = Some(s.dts);
    }
    Ok(())
}

fn check_aac(profile: u8, sampling_index: u8, channel_config: u8) -> Result<(), TsError> {
    if profile > 3 {
        return Err(TsError::InvalidAacConfig {
            field: "profile",
            value: profile,
            reason: "ADTS has 2 bits (audio object types 1 to 4; pass 1 for HE-AAC)",
        });
    }
    if sampling_index > 12 {
        return Err(TsError::InvalidAacConfig {
            field: "sampling_index",
            value: sampling_index,
            reason: "ADTS sampling frequency indexes go up to 12 (7350 Hz)",
        });
    }
    if channel_config > 7 {
        return Err(TsError::InvalidAacConfig {
            field: "channel_config",
            value: channel_config,
            reason: "ADTS has 3 bits",
        });
    }
    Ok(())
}

/// The SAMPLE-AES cipher when encryption is asked for, after checking that every codec can
/// carry it. hls.js decrypts SAMPLE-AES only for H.264 and AAC (`sample-aes.ts`); it reads
/// stream types 0xC1/0xC2 (AC-3/E-AC-3) but never decrypts them, and has no HEVC variant.
fn sample_aes_cipher(
    video: Option<&TsVideo<'_>>,
    audio: Option<&TsAudio<'_>>,
    options: &TsSegmentOptions,
) -> Result<Option<SampleAesCipher>, TsError> {
    let Some(key) = &options.sample_aes else {
        return Ok(None);
    };
    let refuse = |codec: &str| {
        Err(TsError::SampleAes(drm::Error::Unsupported {
            what: "SAMPLE-AES in MPEG-TS",
            reason: format!("{codec} is not supported (only H.264 video and AAC audio)"),
        }))
    };
    if let Some(TsVideoCodec::Hevc) = video.map(|v| v.codec) {
        return refuse("HEVC");
    }
    match audio.map(|a| a.codec) {
        Some(TsAudioCodec::Ac3) => return refuse("AC-3"),
        Some(TsAudioCodec::Eac3) => return refuse("E-AC-3"),
        _ => {}
    }
    Ok(Some(SampleAesCipher::new(key)))
}

/// PMT descriptors of a SAMPLE-AES AAC stream: private_data_indicator `aacd`, then a
/// registration descriptor `apad` with the audio setup information.
fn sample_aes_aac_descriptors(
    profile: u8,
    sampling_index: u8,
    channel_config: u8,
    options: &TsSegmentOptions,
) -> Result<Vec<u8>, TsError> {
    let from_adts = sample_aes::aac_config_from_adts(profile, sampling_index, channel_config);
    let config = options
        .sample_aes_aac_config
        .as_deref()
        .unwrap_or(&from_adts);
    let setup = sample_aes::aac_audio_setup_information(config).map_err(TsError::SampleAes)?;
    let mut descriptors = psi::private_data_indicator_descriptor(b"aacd");
    let registration = psi::registration_descriptor_with(b"apad", &setup).ok_or_else(|| {
        TsError::SampleAes(drm::Error::Malformed {
            what: "AudioSpecificConfig",
            reason: format!("{} bytes do not fit a PMT descriptor", config.len()),
        })
    })?;
    descriptors.extend_from_slice(&registration);
    Ok(descriptors)
}

/// Stream type, stream_id, PMT descriptors and per-frame overhead of an audio codec.
struct AudioFormat {
    stream_type: u8,
    stream_id: u8,
    descriptors: Vec<u8>,
    limits: audio::GroupLimits,
}

fn audio_format(codec: TsAudioCodec, options: &TsSegmentOptions) -> Result<AudioFormat, TsError> {
    let (stream_type, stream_id, descriptors, frame_overhead, max_frame_len) = match codec {
        TsAudioCodec::Aac {
            profile,
            sampling_index,
            channel_config,
        } => {
            check_aac(profile, sampling_index, channel_config)?;
            let (stream_type, descriptors) = if options.sample_aes.is_some() {
                (
                    0xcf,
                    sample_aes_aac_descriptors(profile, sampling_index, channel_config, options)?,
                )
            } else {
                (0x0f, Vec::new())
            };
            (
                stream_type,
                pes::STREAM_ID_AUDIO,
                descriptors,
                audio::ADTS_HEADER_LEN,
                audio::MAX_ADTS_FRAME_LEN,
            )
        }
        TsAudioCodec::Ac3 => (
            0x81,
            pes::STREAM_ID_PRIVATE_1,
            psi::registration_descriptor(b"AC-3"),
            0,
            audio::MAX_AUDIO_PES_PAYLOAD,
        ),
        TsAudioCodec::Eac3 => (
            0x87,
            pes::STREAM_ID_PRIVATE_1,
            psi::registration_descriptor(b"EAC3"),
            0,
            audio::MAX_AUDIO_PES_PAYLOAD,
        ),
    };
    Ok(AudioFormat {
        stream_type,
        stream_id,
        descriptors,
        limits: audio::GroupLimits {
            frame_overhead,
            max_frame_len,
            max_frames: options.audio_max_frames_per_pes,
            max_duration: options.audio_max_pes_duration,
        },
    })
}

/// PCR bookkeeping: the last PCR written and the PID that carries it.
struct PcrClock {
    pid: u16,
    delay: u64,
    last: Option<u64>,
}

impl PcrClock {
    /// Called before each PES. Writes PCR-only packets where the interval since the last PCR
    /// would exceed 100 ms (and before the first PES when it is not on the PCR PID); returns
    /// the PCR for the PES's first packet when it is on the PCR PID.
    fn before_pes<O: Out>(
        &mut self,
        out: &mut O,
        pes_pid: u16,
        dts: u64,
        pcr_cc: &ContinuityCounter,
    ) -> Option<u64> {
        let target = dts.saturating_sub(self.delay).max(self.last.unwrap_or(0));
        if let Some(mut last) = self.last {
            let mut fills = 0;
            while target - last > PCR_MAX_INTERVAL && fills < PCR_MAX_FILL_PACKETS {
                last += PCR_MAX_INTERVAL;
                packet::write_pcr_only(out, self.pid, pcr_cc, last);
                fills += 1;
            }
            self.last = Some(last);
        }
        if pes_pid == self.pid {
            self.last = Some(target);
            Some(target)
        } else {
            if self.last.is_none() {
                packet::write_pcr_only(out, self.pid, pcr_cc, target);
                self.last = Some(target);
            }
            None
        }
    }
}

pub(super) fn mux<O: Out>(
    video: Option<&TsVideo<'_>>,
    audio: Option<&TsAudio<'_>>,
    options: &TsSegmentOptions,
    out: &mut O,
    keyframes: &mut Vec<TsKeyframe>,
) -> Result<(), TsError> {
    check_options(options)?;
    if video.is_none() && audio.is_none() {
        return Err(TsError::NoTracks);
    }
    if let Some(video) = video {
        if !matches!(video.nal_length_size, 1 | 2 | 4) {
            return Err(TsError::InvalidNalLengthSize(video.nal_length_size));
        }
        check_timestamps(TsTrack::Video, &video.samples)?;
    }
    let mut cipher = sample_aes_cipher(video, audio, options)?;
    let audio_setup = match audio {
        Some(audio) => {
            check_timestamps(TsTrack::Audio, &audio.samples)?;
            let format = audio_format(audio.codec, options)?;
            let groups = audio::group_frames(&audio.samples, &format.limits)?;
            Some((audio, format, groups))
        }
        None => None,
    };

    // PSI.
    let mut streams = Vec::new();
    if let Some(video) = video {
        let (stream_type, descriptors) = match (video.codec, &cipher) {
            (TsVideoCodec::H264, None) => (0x1b, Vec::new()),
            (TsVideoCodec::H264, Some(_)) => {
                (0xdb, psi::private_data_indicator_descriptor(b"zavc"))
            }
            (TsVideoCodec::Hevc, _) => (0x24, Vec::new()),
        };
        streams.push(psi::PmtStream {
            stream_type,
            pid: options.video_pid,
            descriptors,
        });
    }
    if let Some((_, format, _)) = &audio_setup {
        streams.push(psi::PmtStream {
            stream_type: format.stream_type,
            pid: options.audio_pid,
            descriptors: format.descriptors.clone(),
        });
    }
    let pcr_pid = if video.is_some() {
        options.video_pid
    } else {
        options.audio_pid
    };
    let pmt = psi::pmt_section(options.program_number, pcr_pid, &streams);
    if pmt.len() > packet::MAX_SECTION_LEN {
        return Err(TsError::InvalidOption {
            name: "sample_aes_aac_config",
            value: pmt.len() as u64,
            reason: "the PMT (of this many bytes) must fit one transport packet",
        });
    }
    let psi_cc = (options.sequence_number % 16) as u8;
    let mut pat_cc = ContinuityCounter::starting_at(psi_cc);
    let mut pmt_cc = ContinuityCounter::starting_at(psi_cc);
    packet::write_section(
        out,
        0,
        &mut pat_cc,
        &psi::pat_section(
            options.transport_stream_id,
            options.program_number,
            options.pmt_pid,
        ),
    );
    packet::write_section(out, options.pmt_pid, &mut pmt_cc, &pmt);

    // PES packets in DTS order (video first on a tie).
    let mut clock = PcrClock {
        pid: pcr_pid,
        delay: options.pcr_delay,
        last: None,
    };
    let mut video_cc = ContinuityCounter::default();
    let mut audio_cc = ContinuityCounter::default();
    let video_samples: &[TsSample<'_>] = video.map_or(&[], |v| &v.samples);
    let (audio_samples, audio_groups): (&[TsSample<'_>], &[audio::AudioGroup]) = match &audio_setup
    {
        Some((audio, _, groups)) => (&audio.samples, groups),
        None => (&[], &[]),
    };
    // The last PES of each PID, which gets the continuity counter padding.
    let last_video = match video {
        Some(video) if options.align_continuity_counters => {
            video_samples.iter().enumerate().rev().find_map(|(i, s)| {
                let has_nals = video::split_nals(s.data, video.nal_length_size, i)
                    .map_or(true, |n| !n.is_empty());
                has_nals.then_some(i)
            })
        }
        _ => None,
    };
    let last_group = audio_groups
        .len()
        .checked_sub(1)
        .filter(|_| options.align_continuity_counters);
    let mut next_video = 0usize;
    let mut next_group = 0usize;
    let mut chunks: Vec<Chunk<'_>> = Vec::new();
    // The NAL units of one video sample, reused.
    let mut nals: Vec<&[u8]> = Vec::new();
    // The encrypted elementary stream of one PES (SAMPLE-AES only), reused.
    let mut encrypted: Vec<u8> = Vec::new();
    loop {
        let video_dts = video_samples.get(next_video).map(|s| s.dts);
        let group = audio_groups.get(next_group);
        let audio_dts = group
            .and_then(|g| audio_samples.get(g.start))
            .map(|s| s.dts);
        let take_video = match (video_dts, audio_dts) {
            (Some(v), Some(a)) => v <= a,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        chunks.clear();
        if take_video {
            let index = next_video;
            next_video += 1;
            let (Some(video), Some(sample)) = (video, video_samples.get(index)) else {
                break;
            };
            video::split_nals_into(sample.data, video.nal_length_size, index, &mut nals)?;
            chunks.push(Chunk::Data(&[])); // the PES header, once the length is known
            if !video::append_annexb(
                video.codec,
                &video.parameter_sets,
                sample.keyframe,
                &nals,
                &mut chunks,
            ) {
                continue;
            }
            if let Some(cipher) = cipher.as_mut() {
                encrypted.clear();
                video::encrypt_annexb(chunks.get(1..).unwrap_or_default(), cipher, &mut encrypted);
            }
            let es_len: usize = if cipher.is_some() {
                encrypted.len()
            } else {
                chunks.iter().map(|c| c.bytes().len()).sum()
            };
            let header = Chunk::Small(pes::header(
                pes::STREAM_ID_VIDEO,
                sample.pts,
                sample.dts,
                es_len,
                true,
            ));
            let encrypted_chunks;
            let payload: &[Chunk<'_>] = if cipher.is_some() {
                encrypted_chunks = [header, Chunk::Data(&encrypted)];
                &encrypted_chunks
            } else {
                if let Some(first) = chunks.first_mut() {
                    *first = header;
                }
                &chunks
            };
            let pcr_cc = video_cc;
            let pcr = clock.before_pes(out, options.video_pid, sample.dts, &pcr_cc);
            let offset = out.position();
            let first = FirstPacket {
                random_access: sample.keyframe,
                pcr,
            };
            let min_packets = if last_video == Some(index) {
                let natural = packet::pes_packet_count(
                    es_len + pes::header_len(sample.pts, sample.dts),
                    &first,
                );
                natural + video_cc.packets_to_wrap(natural)
            } else {
                0
            };
            let packets = packet::write_pes(
                out,
                options.video_pid,
                &mut video_cc,
                first,
                payload,
                min_packets,
            );
            if sample.keyframe {
                keyframes.push(TsKeyframe {
                    sample: index,
                    pts: sample.pts,
                    dts: sample.dts,
                    offset: offset as u64,
                    len: (packets * TS_PACKET_SIZE) as u64,
                });
            }
        } else {
            next_group += 1;
            let (Some(group), Some((audio, format, _))) = (group, &audio_setup) else {
                break;
            };
            let frames = audio_samples.get(group.start..group.end).unwrap_or(&[]);
            let Some(first_frame) = frames.first() else {
                continue;
            };
            chunks.push(Chunk::Small(pes::header(
                format.stream_id,
                first_frame.pts,
                first_frame.pts,
                group.payload_len,
                false,
            )));
            if cipher.is_some() {
                encrypted.clear();
            }
            for frame in frames {
                let adts = match audio.codec {
                    TsAudioCodec::Aac {
                        profile,
                        sampling_index,
                        channel_config,
                    } => Some(audio::adts_header(
                        profile,
                        sampling_index,
                        channel_config,
                        frame.data.len() + audio::ADTS_HEADER_LEN,
                    )),
                    TsAudioCodec::Ac3 | TsAudioCodec::Eac3 => None,
                };
                if let Some(cipher) = cipher.as_ref() {
                    // Only AAC gets here (checked by `sample_aes_cipher`).
                    encrypted.extend_from_slice(adts.as_ref().map_or(&[][..], |h| &h[..]));
                    let start = encrypted.len();
                    encrypted.extend_from_slice(frame.data);
                    cipher.encrypt_aac_raw(encrypted.get_mut(start..).unwrap_or_default());
                    continue;
                }
                if let Some(adts) = adts {
                    let mut header = SmallBuf::new();
                    header.extend(&adts);
                    chunks.push(Chunk::Small(header));
                }
                chunks.push(Chunk::Data(frame.data));
            }
            let encrypted_chunks;
            let payload: &[Chunk<'_>] = match (cipher.is_some(), chunks.first()) {
                (true, Some(&header)) => {
                    encrypted_chunks = [header, Chunk::Data(&encrypted)];
                    &encrypted_chunks
                }
                _ => &chunks,
            };
            // The PCR PID's counter, for PCR-only packets.
            let pcr_cc = if pcr_pid == options.video_pid {
                video_cc
            } else {
                audio_cc
            };
            let pcr = clock.before_pes(out, options.audio_pid, first_frame.dts, &pcr_cc);
            // Every audio frame is a random access point (ffmpeg flags them the same way).
            let first = FirstPacket {
                random_access: true,
                pcr,
            };
            let min_packets = if last_group == Some(next_group - 1) {
                let natural =
                    packet::pes_packet_count(group.payload_len + pes::header_len(0, 0), &first);
                natural + audio_cc.packets_to_wrap(natural)
            } else {
                0
            };
            packet::write_pes(
                out,
                options.audio_pid,
                &mut audio_cc,
                first,
                payload,
                min_packets,
            );
        }
    }
    Ok(())
}
