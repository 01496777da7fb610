//! DRM system ids: the 16-byte `pssh` SystemID (`urn:uuid:` in DASH) and the well-known
//! ids of Widevine, PlayReady, FairPlay, ClearKey and the W3C common system.

use crate::key::KeyId;

/// A DRM system id (the `pssh` SystemID, and `urn:uuid:` in DASH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SystemId(pub [u8; 16]);

impl SystemId {
    /// W3C common PSSH (`1077efec-...`), which ClearKey reads key ids from.
    pub const COMMON: SystemId = SystemId(hex16(b"1077efecc0b24d02ace33c1e52e2fb4b"));
    /// The DASH-IF ClearKey ContentProtection scheme (`e2719d58-...`).
    pub const CLEARKEY_DASH: SystemId = SystemId(hex16(b"e2719d58a985b3c9781ab030af78d30e"));
    pub const WIDEVINE: SystemId = SystemId(hex16(b"edef8ba979d64acea3c827dcd51d21ed"));
    pub const PLAYREADY: SystemId = SystemId(hex16(b"9a04f07998404286ab92e65be0885f95"));
    pub const FAIRPLAY: SystemId = SystemId(hex16(b"94ce86fb07ff4f43adb893d2fa968ca2"));

    /// The UUID form, as in `urn:uuid:...`.
    pub fn uuid(&self) -> String {
        KeyId(self.0).uuid()
    }
}

const fn hex16(text: &[u8; 32]) -> [u8; 16] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not lowercase hex"),
        }
    }
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = (nibble(text[2 * i]) << 4) | nibble(text[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_ids_match_their_uuids() {
        assert_eq!(
            SystemId::WIDEVINE.uuid(),
            "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"
        );
        assert_eq!(
            SystemId::PLAYREADY.uuid(),
            "9a04f079-9840-4286-ab92-e65be0885f95"
        );
        assert_eq!(
            SystemId::COMMON.uuid(),
            "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"
        );
        assert_eq!(
            SystemId::CLEARKEY_DASH.uuid(),
            "e2719d58-a985-b3c9-781a-b030af78d30e"
        );
        assert_eq!(
            SystemId::FAIRPLAY.uuid(),
            "94ce86fb-07ff-4f43-adb8-93d2fa968ca2"
        );
    }
}
