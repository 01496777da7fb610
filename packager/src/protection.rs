//! Encrypted output: what an asset's policy asks for ([`Protection`]: the method, the key,
//! the DRM signalling and the URLs players fetch keys from) and the per-track crypto state
//! the CMAF writer uses ([`TrackCrypto`]: scheme, cipher, IVs derived from the key id and
//! rendition so every node writes the same bytes).

use drm::cenc::subsample::{NalFormat, VideoSubsampler};
use drm::cenc::{Pattern, SampleCipher, Scheme};
use drm::{derive, ContentKeyPair, Method, Signalling};

use crate::cmaf::{write_encrypted_segment, CmafSegment};
use crate::error::{Error, Result};
use crate::mp4::{Codec, Track, VideoKind};
use crate::segment::{SegmentSpan, SourceRange};

/// The outputs of a title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    HlsCmaf,
    HlsTs,
    Dash,
}

/// Where players get keys and licenses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUrls {
    /// The raw 16-byte key (HLS AES-128, SAMPLE-AES in TS, and `identity` ClearKey), as a
    /// path relative to the asset's root URL, for example `keys/<kid>.key`.
    pub key_path: String,
    /// The W3C ClearKey license endpoint, absolute (DASH players resolve it against the page).
    pub clearkey_license: String,
    /// The FairPlay key URI (`skd://...`).
    pub fairplay: String,
}

/// How one asset is protected.
#[derive(Debug, Clone)]
pub struct Protection {
    pub method: Method,
    pub key: ContentKeyPair,
    /// The DRM systems signalled, with their pssh data (for `cenc`/`cbcs` output).
    pub signalling: Signalling,
    pub urls: KeyUrls,
    /// Whether players may fetch the raw key from `urls.key_path` (AES-128, SAMPLE-AES,
    /// ClearKey); otherwise only DRM systems open the content.
    pub raw_key_delivery: bool,
}

impl Protection {
    /// True when `output` exists under this method: DASH needs Common Encryption, TS cannot
    /// carry `cenc`.
    pub fn offers(&self, output: Output) -> bool {
        match output {
            Output::HlsCmaf => true,
            Output::HlsTs => self.method != Method::Cenc,
            Output::Dash => self.method.cmaf_scheme().is_some(),
        }
    }

    /// Whole-segment AES-128 (HLS only).
    pub fn is_whole_segment(&self) -> bool {
        self.method == Method::Aes128
    }

    /// The crypto state for the CMAF segments of rendition `rendition_id`, when they use
    /// Common Encryption.
    pub fn track_crypto(&self, rendition_id: &str, video: bool) -> Option<TrackCrypto> {
        let scheme = self.method.cmaf_scheme()?;
        let kid = self.key.kid;
        let iv = match scheme {
            Scheme::Cenc => IvPlan::PerSample {
                base: derive::cenc_iv_base(kid, rendition_id),
            },
            Scheme::Cbcs => IvPlan::Constant(derive::cbcs_constant_iv(kid, rendition_id)),
        };
        let pattern = match scheme {
            Scheme::Cbcs if video => Pattern::VIDEO,
            _ => Pattern::WHOLE,
        };
        Some(TrackCrypto {
            scheme,
            kid,
            cipher: SampleCipher::new(scheme, &self.key.key),
            iv,
            pattern,
            video,
        })
    }

    /// The IV of SAMPLE-AES in the TS segments of rendition `rendition_id`, written in its
    /// playlist's EXT-X-KEY lines (hls.js derives no IV from the sequence number for
    /// SAMPLE-AES, so it must be explicit).
    pub fn sample_aes_iv(&self, rendition_id: &str) -> [u8; 16] {
        derive::cbcs_constant_iv(self.key.kid, &format!("ts/{rendition_id}"))
    }

    /// Whole-segment AES-128 of segment `number` (1-based; its media sequence number is
    /// `number - 1`, the IV players use when EXT-X-KEY has none).
    pub fn encrypt_whole_segment<'a>(
        &self,
        number: u32,
        parts: impl IntoIterator<Item = &'a [u8]>,
    ) -> Vec<u8> {
        let iv = drm::hls_aes::iv_for_sequence(u64::from(number.saturating_sub(1)));
        drm::hls_aes::encrypt_segment(&self.key.key, &iv, parts)
    }
}

/// IVs of one track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvPlan {
    /// `cenc`: sample `n` (its index in the source track) uses the 8-byte IV `base + n`.
    PerSample { base: u64 },
    /// `cbcs`: one constant 16-byte IV, in `tenc`.
    Constant([u8; 16]),
}

/// What the CMAF writer needs to encrypt one track.
#[derive(Debug, Clone)]
pub struct TrackCrypto {
    pub scheme: Scheme,
    pub kid: drm::KeyId,
    pub cipher: SampleCipher,
    pub iv: IvPlan,
    pub pattern: Pattern,
    pub video: bool,
}

impl TrackCrypto {
    /// Bytes of the per-sample IV in `senc` (0 with a constant IV).
    pub fn per_sample_iv_size(&self) -> u8 {
        match self.iv {
            IvPlan::PerSample { .. } => 8,
            IvPlan::Constant(_) => 0,
        }
    }

    /// The 8-byte IV of sample `n` (empty for a constant IV) and the 16-byte block the
    /// cipher starts from.
    pub fn sample_iv(&self, n: usize) -> ([u8; 8], [u8; 16]) {
        match self.iv {
            IvPlan::PerSample { base } => {
                let iv = base.wrapping_add(n as u64).to_be_bytes();
                let mut block = [0u8; 16];
                block[..8].copy_from_slice(&iv);
                (iv, block)
            }
            IvPlan::Constant(iv) => ([0; 8], iv),
        }
    }
}

/// Builds encrypted CMAF segment `span` of `track`: video samples get slice-header-aware
/// subsample maps, audio samples are protected whole.
pub fn write_protected_segment(
    track: &Track,
    span: &SegmentSpan,
    sequence_number: u32,
    timeline_offset: u64,
    source: &SourceRange,
    crypto: &TrackCrypto,
) -> Result<CmafSegment> {
    let Codec::Video(v) = &track.codec else {
        return write_encrypted_segment(
            track,
            span,
            sequence_number,
            timeline_offset,
            source,
            crypto,
            &mut |_, _| Ok(Vec::new()),
        );
    };
    let format = match v.kind {
        VideoKind::H264 => NalFormat::H264,
        VideoKind::Hevc => NalFormat::Hevc,
    };
    let sets: Vec<&[u8]> = v.parameter_sets.iter().map(|b| &b[..]).collect();
    let entry_path = "moov/trak/mdia/minf/stbl/stsd";
    let mut subsampler = VideoSubsampler::new(format, v.nal_length_size, &sets)
        .map_err(|e| Error::malformed(entry_path, 0, format!("parameter sets: {e}")))?;
    let scheme = crypto.scheme;
    write_encrypted_segment(
        track,
        span,
        sequence_number,
        timeline_offset,
        source,
        crypto,
        &mut |i, sample| {
            subsampler.subsamples(scheme, sample).map_err(|e| {
                Error::malformed(
                    "mdat",
                    track.samples.offset(i),
                    format!("video sample {i}: {e}"),
                )
            })
        },
    )
}
