//! DRM systems: their ids, and the data each needs to find a license (Widevine's protobuf
//! pssh data, PlayReady's PlayReady Object with a v4.3 WRMHEADER, FairPlay's `skd://` URI,
//! ClearKey's key id list).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::cenc::Scheme;
use crate::key::KeyId;
use crate::pssh::pssh_box;
use crate::system_id::SystemId;

/// A DRM system an asset can be signalled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrmSystem {
    Widevine,
    PlayReady,
    FairPlay,
    ClearKey,
}

impl DrmSystem {
    pub const ALL: [DrmSystem; 4] = [
        DrmSystem::Widevine,
        DrmSystem::PlayReady,
        DrmSystem::FairPlay,
        DrmSystem::ClearKey,
    ];

    pub fn system_id(self) -> SystemId {
        match self {
            DrmSystem::Widevine => SystemId::WIDEVINE,
            DrmSystem::PlayReady => SystemId::PLAYREADY,
            DrmSystem::FairPlay => SystemId::FAIRPLAY,
            DrmSystem::ClearKey => SystemId::COMMON,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DrmSystem::Widevine => "widevine",
            DrmSystem::PlayReady => "playready",
            DrmSystem::FairPlay => "fairplay",
            DrmSystem::ClearKey => "clearkey",
        }
    }
}

/// Widevine's pssh data: a `WidevinePsshData` protobuf with key_id (2), content_id (4) and
/// protection_scheme (9, the scheme fourcc as a uint32).
pub fn widevine_pssh_data(kid: KeyId, content_id: &str, scheme: Scheme) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + content_id.len());
    out.push(0x12);
    out.push(16);
    out.extend_from_slice(&kid.0);
    if !content_id.is_empty() {
        out.push(0x22);
        put_varint(&mut out, content_id.len() as u64);
        out.extend_from_slice(content_id.as_bytes());
    }
    out.push(0x48);
    put_varint(&mut out, u64::from(u32::from_be_bytes(*scheme.fourcc())));
    out
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// PlayReady's WRMHEADER v4.3: one KID with its algorithm, and the license URL when known.
pub fn playready_header(kid: KeyId, scheme: Scheme, license_url: Option<&str>) -> String {
    let alg = match scheme {
        Scheme::Cenc => "AESCTR",
        Scheme::Cbcs => "AESCBC",
    };
    let kid_b64 = base64::engine::general_purpose::STANDARD.encode(kid.guid_le());
    let la_url = license_url
        .map(|u| format!("<LA_URL>{}</LA_URL>", xml_escape(u)))
        .unwrap_or_default();
    format!(
        "<WRMHEADER xmlns=\"http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader\" \
         version=\"4.3.0.0\"><DATA><PROTECTINFO><KIDS><KID ALGID=\"{alg}\" \
         VALUE=\"{kid_b64}\"></KID></KIDS></PROTECTINFO>{la_url}</DATA></WRMHEADER>"
    )
}

/// The PlayReady Object: u32 LE length, u16 LE record count, then one rights-management
/// header record (type 1) holding the WRMHEADER in UTF-16LE.
pub fn playready_object(kid: KeyId, scheme: Scheme, license_url: Option<&str>) -> Vec<u8> {
    let header: Vec<u8> = playready_header(kid, scheme, license_url)
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let total = 4 + 2 + 2 + 2 + header.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(&header);
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a player needs to find a license for one asset under one system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemSignal {
    pub system: DrmSystem,
    /// The whole `pssh` box, for systems that have one (not FairPlay).
    pub pssh: Option<Vec<u8>>,
    /// PlayReady's PlayReady Object (DASH `mspr:pro`, HLS data URI).
    pub playready_object: Option<Vec<u8>>,
}

/// Everything signalled for one asset: the key id, the scheme and each system's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signalling {
    pub kid: KeyId,
    pub scheme: Scheme,
    pub systems: Vec<SystemSignal>,
}

impl Signalling {
    /// Builds the signalling for `systems` (deduplicated, in [`DrmSystem::ALL`] order).
    pub fn new(
        kid: KeyId,
        scheme: Scheme,
        content_id: &str,
        systems: &[DrmSystem],
        playready_license_url: Option<&str>,
    ) -> Self {
        let systems = DrmSystem::ALL
            .into_iter()
            .filter(|s| systems.contains(s))
            .map(|system| match system {
                DrmSystem::Widevine => SystemSignal {
                    system,
                    pssh: Some(pssh_box(
                        SystemId::WIDEVINE,
                        &[],
                        &widevine_pssh_data(kid, content_id, scheme),
                    )),
                    playready_object: None,
                },
                DrmSystem::PlayReady => {
                    let pro = playready_object(kid, scheme, playready_license_url);
                    SystemSignal {
                        system,
                        pssh: Some(pssh_box(SystemId::PLAYREADY, &[], &pro)),
                        playready_object: Some(pro),
                    }
                }
                DrmSystem::FairPlay => SystemSignal {
                    system,
                    pssh: None,
                    playready_object: None,
                },
                DrmSystem::ClearKey => SystemSignal {
                    system,
                    pssh: Some(pssh_box(SystemId::COMMON, &[kid], &[])),
                    playready_object: None,
                },
            })
            .collect();
        Signalling {
            kid,
            scheme,
            systems,
        }
    }

    /// The `pssh` boxes for the init segment: the W3C common box (always, with the key id,
    /// so any CDM finds it), then each system's own.
    pub fn init_pssh_boxes(&self) -> Vec<u8> {
        let mut out = pssh_box(SystemId::COMMON, &[self.kid], &[]);
        for s in &self.systems {
            if s.system != DrmSystem::ClearKey {
                if let Some(p) = &s.pssh {
                    out.extend_from_slice(p);
                }
            }
        }
        out
    }

    pub fn get(&self, system: DrmSystem) -> Option<&SystemSignal> {
        self.systems.iter().find(|s| s.system == system)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kid() -> KeyId {
        "0123456789abcdef0123456789abcdef".parse().unwrap()
    }

    #[test]
    fn widevine_data_is_the_expected_protobuf() {
        let data = widevine_pssh_data(kid(), "ab", Scheme::Cbcs);
        let mut expected = vec![0x12, 16];
        expected.extend_from_slice(&kid().0);
        expected.extend_from_slice(&[0x22, 2, b'a', b'b']);
        // 0x63626373 ('cbcs') as a varint.
        expected.extend_from_slice(&[0x48, 0xf3, 0xc6, 0x89, 0x9b, 0x06]);
        assert_eq!(data, expected);
    }

    #[test]
    fn playready_object_lengths_add_up() {
        let pro = playready_object(kid(), Scheme::Cenc, Some("https://pr.example/?a=1&b=2"));
        let total = u32::from_le_bytes(pro[0..4].try_into().unwrap()) as usize;
        assert_eq!(total, pro.len());
        assert_eq!(u16::from_le_bytes([pro[4], pro[5]]), 1);
        assert_eq!(u16::from_le_bytes([pro[6], pro[7]]), 1);
        let len = u16::from_le_bytes([pro[8], pro[9]]) as usize;
        assert_eq!(len, pro.len() - 10);
        let units: Vec<u16> = pro[10..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let xml = String::from_utf16(&units).unwrap();
        assert!(xml.contains("version=\"4.3.0.0\""));
        assert!(xml.contains("ALGID=\"AESCTR\""));
        assert!(xml.contains("a=1&amp;b=2"));
        let guid = base64::engine::general_purpose::STANDARD.encode(kid().guid_le());
        assert!(xml.contains(&guid));
    }

    #[test]
    fn init_boxes_hold_common_then_each_system() {
        let s = Signalling::new(
            kid(),
            Scheme::Cenc,
            "demo",
            &[
                DrmSystem::ClearKey,
                DrmSystem::Widevine,
                DrmSystem::FairPlay,
            ],
            None,
        );
        assert_eq!(s.systems.len(), 3);
        let boxes = s.init_pssh_boxes();
        let first = u32::from_be_bytes(boxes[0..4].try_into().unwrap()) as usize;
        assert_eq!(&boxes[12..28], &SystemId::COMMON.0);
        assert_eq!(&boxes[first + 12..first + 28], &SystemId::WIDEVINE.0);
        let second = u32::from_be_bytes(boxes[first..first + 4].try_into().unwrap()) as usize;
        assert_eq!(first + second, boxes.len());
    }
}
