//! `pssh` boxes (ISO/IEC 23001-7 8.1): version 0 with system data only, or version 1 with a
//! key id list, as written into init segments, DASH `cenc:pssh` and HLS data URIs.

use crate::key::KeyId;
use crate::system_id::SystemId;

/// Builds one `pssh` box. `kids` empty gives version 0; otherwise version 1 with the list.
pub fn pssh_box(system: SystemId, kids: &[KeyId], data: &[u8]) -> Vec<u8> {
    let version: u8 = if kids.is_empty() { 0 } else { 1 };
    let size = 8
        + 4
        + 16
        + if kids.is_empty() {
            0
        } else {
            4 + 16 * kids.len()
        }
        + 4
        + data.len();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(size as u32).to_be_bytes());
    out.extend_from_slice(b"pssh");
    out.extend_from_slice(&[version, 0, 0, 0]);
    out.extend_from_slice(&system.0);
    if !kids.is_empty() {
        out.extend_from_slice(&(kids.len() as u32).to_be_bytes());
        for kid in kids {
            out.extend_from_slice(&kid.0);
        }
    }
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_one_lists_key_ids() {
        let kid = KeyId([0xab; 16]);
        let b = pssh_box(SystemId::COMMON, &[kid], &[]);
        assert_eq!(b.len(), 52);
        assert_eq!(&b[0..4], &52u32.to_be_bytes());
        assert_eq!(&b[4..12], b"pssh\x01\0\0\0");
        assert_eq!(&b[12..28], &SystemId::COMMON.0);
        assert_eq!(&b[28..32], &1u32.to_be_bytes());
        assert_eq!(&b[32..48], &[0xab; 16]);
        assert_eq!(&b[48..52], &0u32.to_be_bytes());
    }

    #[test]
    fn version_zero_carries_only_data() {
        let b = pssh_box(SystemId::WIDEVINE, &[], b"xyz");
        assert_eq!(b.len(), 35);
        assert_eq!(b[8], 0);
        assert_eq!(&b[28..32], &3u32.to_be_bytes());
        assert_eq!(&b[32..], b"xyz");
    }
}
