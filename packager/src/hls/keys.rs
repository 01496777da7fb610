//! `EXT-X-KEY` and `EXT-X-SESSION-KEY` lines: one per DRM system that can open the
//! segments (RFC 8216 4.3.2.4, and each system's KEYFORMAT), relative to the playlist.

use std::fmt::Write;

use base64::Engine as _;
use drm::{DrmSystem, Method};

use crate::hls::flavor::HlsFlavor;
use crate::protection::Protection;

/// Which tag to write: in a media playlist, or repeated in the multivariant playlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTag {
    Key,
    SessionKey,
}

impl KeyTag {
    fn name(self) -> &'static str {
        match self {
            KeyTag::Key => "EXT-X-KEY",
            KeyTag::SessionKey => "EXT-X-SESSION-KEY",
        }
    }
}

/// The key lines for a playlist of `flavor`. `to_asset_root` is the relative path from the
/// playlist to the asset's root URL (`""`, `"../"`, `"../../"`). `iv` is written on the
/// SAMPLE-AES lines of TS media playlists. Empty when clear.
pub fn key_lines(
    p: &Protection,
    flavor: HlsFlavor,
    tag: KeyTag,
    to_asset_root: &str,
    iv: Option<[u8; 16]>,
) -> String {
    let mut out = String::new();
    let tag = tag.name();
    let key_uri = format!("{to_asset_root}{}", p.urls.key_path);
    let method = match (p.method, flavor) {
        (Method::None, _) => return out,
        (Method::Aes128, _) => {
            // No IV attribute: the IV is the media sequence number (RFC 8216 5.2).
            let _ = writeln!(out, "#{tag}:METHOD=AES-128,URI=\"{key_uri}\"");
            return out;
        }
        (Method::Cenc, HlsFlavor::Ts) => return out,
        (Method::SampleAes | Method::Cbcs, HlsFlavor::Ts) => {
            let iv = iv
                .map(|iv| format!(",IV=0x{}", drm::key::hex(&iv)))
                .unwrap_or_default();
            if p.raw_key_delivery {
                let _ = writeln!(
                    out,
                    "#{tag}:METHOD=SAMPLE-AES,URI=\"{key_uri}\"{iv},KEYFORMAT=\"identity\",KEYFORMATVERSIONS=\"1\""
                );
            }
            if p.signalling.get(DrmSystem::FairPlay).is_some() {
                let _ = writeln!(
                    out,
                    "#{tag}:METHOD=SAMPLE-AES,URI=\"{}\"{iv},KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"",
                    p.urls.fairplay
                );
            }
            return out;
        }
        (Method::Cenc, HlsFlavor::Cmaf) => "SAMPLE-AES-CTR",
        (Method::SampleAes | Method::Cbcs, HlsFlavor::Cmaf) => "SAMPLE-AES",
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let kid = p.key.kid.hex();
    if p.raw_key_delivery {
        // Shaka Player reads ClearKey from an `identity` key (the raw key URI).
        let _ = writeln!(
            out,
            "#{tag}:METHOD={method},URI=\"{key_uri}\",KEYFORMAT=\"identity\",KEYFORMATVERSIONS=\"1\""
        );
    }
    for s in &p.signalling.systems {
        match s.system {
            DrmSystem::FairPlay if method == "SAMPLE-AES" => fairplay_line(&mut out, tag, p),
            DrmSystem::FairPlay => {}
            DrmSystem::Widevine => {
                if let Some(pssh) = &s.pssh {
                    let _ = writeln!(
                        out,
                        "#{tag}:METHOD={method},URI=\"data:text/plain;base64,{}\",KEYID=0x{kid},KEYFORMAT=\"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed\",KEYFORMATVERSIONS=\"1\"",
                        b64.encode(pssh)
                    );
                }
            }
            DrmSystem::PlayReady => {
                if let Some(pro) = &s.playready_object {
                    let _ = writeln!(
                        out,
                        "#{tag}:METHOD={method},URI=\"data:text/plain;charset=UTF-16;base64,{}\",KEYFORMAT=\"com.microsoft.playready\",KEYFORMATVERSIONS=\"1\"",
                        b64.encode(pro)
                    );
                }
            }
            DrmSystem::ClearKey => {
                // hls.js reads ClearKey from `org.w3.clearkey` with a license server.
                let _ = writeln!(
                    out,
                    "#{tag}:METHOD={method},URI=\"{}\",KEYID=0x{kid},KEYFORMAT=\"org.w3.clearkey\",KEYFORMATVERSIONS=\"1\"",
                    p.urls.clearkey_license
                );
            }
        }
    }
    out
}

fn fairplay_line(out: &mut String, tag: &str, p: &Protection) {
    let _ = writeln!(
        out,
        "#{tag}:METHOD=SAMPLE-AES,URI=\"{}\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"",
        p.urls.fairplay
    );
}
