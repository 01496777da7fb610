//! Unit tests of SAMPLE-AES.

use super::*;
use aes::cipher::KeyIvInit;

const KEY: SampleAesKey = SampleAesKey {
    key: *b"0123456789abcdef",
    iv: [
        0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae,
        0xaf,
    ],
};

/// Deterministic bytes without zeros, so no emulation prevention is needed.
fn nonzero(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u8).wrapping_mul(37).wrapping_add(seed) % 254) + 1)
        .collect()
}

fn slice_nal(len: usize, seed: u8) -> Vec<u8> {
    let mut nal = nonzero(len, seed);
    nal[0] = 0x65;
    nal
}

fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    remove_emulation_prevention(nal, &mut out);
    out
}

fn escape(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    insert_emulation_prevention(rbsp, &mut out);
    out
}

/// True when no 00 00 0x (x <= 2) sequence, nor 00 00 03 followed by a byte above 3,
/// occurs: the NAL unit is safe inside an Annex B stream.
fn start_code_free(nal: &[u8]) -> bool {
    !nal.windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 2)
        && !nal
            .windows(4)
            .any(|w| w[0] == 0 && w[1] == 0 && w[2] == 3 && w[3] > 3)
}

/// Positions (in the unit as stored, emulation-prevention bytes counted) that SAMPLE-AES
/// encrypts, written out as the spec's loop: 32 clear, then while more than 16 bytes
/// remain: 16 encrypted, up to 144 clear.
fn spec_positions(len: usize) -> Vec<usize> {
    let mut positions = Vec::new();
    if len <= NAL_MIN_ENCRYPTED_LEN {
        return positions;
    }
    let mut at = 32;
    while len - at > 16 {
        positions.extend(at..at + 16);
        at += 16;
        at += (len - at).min(144);
    }
    positions
}

/// What SAMPLE-AES makes of a stored slice before escaping, built from `spec_positions`
/// and the `cbc` crate alone: the bytes at those positions, gathered, encrypted as one
/// CBC stream from the IV and put back.
fn reference_encrypt(nal: &[u8]) -> Vec<u8> {
    let positions = spec_positions(nal.len());
    let mut gathered: Vec<u8> = positions.iter().map(|&i| nal[i]).collect();
    let (blocks, rest) = aes::Block::slice_as_chunks_mut(&mut gathered);
    assert!(rest.is_empty());
    CbcEnc::new(&KEY.key.into(), &KEY.iv.into()).encrypt_blocks(blocks);
    let mut out = nal.to_vec();
    for (&i, &byte) in positions.iter().zip(&gathered) {
        out[i] = byte;
    }
    out
}

#[test]
fn debug_redacts_the_key() {
    let from_content_key = SampleAesKey::from_content_key(&ContentKey(KEY.key), KEY.iv);
    assert_eq!(from_content_key, KEY);
    let text = format!("{KEY:?}");
    assert!(!text.contains("30313233"), "{text}");
    assert!(!text.contains("48, 49"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
    assert!(text.contains("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"), "{text}");
    let cipher = SampleAesCipher::new(&KEY);
    assert_eq!(format!("{cipher:?}"), "SampleAesCipher { .. }");
}

#[test]
fn emulation_prevention_round_trips() {
    let cases: &[(&[u8], &[u8])] = &[
        (&[0x65, 0, 0, 0], &[0x65, 0, 0, 3, 0]),
        (&[0x65, 0, 0, 1, 0, 0, 2], &[0x65, 0, 0, 3, 1, 0, 0, 3, 2]),
        (&[0x65, 0, 0, 3, 4], &[0x65, 0, 0, 3, 3, 4]),
        (&[0x65, 0, 0, 4], &[0x65, 0, 0, 4]),
        (&[0x65, 0, 0, 0, 0], &[0x65, 0, 0, 3, 0, 0, 3]),
        (&[0x65, 0, 0], &[0x65, 0, 0, 3]),
        (&[0x65, 1, 0], &[0x65, 1, 0]),
        (&[0, 0, 0, 0, 0, 0], &[0, 0, 3, 0, 0, 3, 0, 0, 3]),
    ];
    for (rbsp, escaped) in cases {
        assert_eq!(escape(rbsp), *escaped, "escape {rbsp:02x?}");
        assert_eq!(unescape(escaped), *rbsp, "unescape {escaped:02x?}");
        assert!(start_code_free(escaped));
    }
    // A 0x03 after an emulation-prevention byte is data.
    assert_eq!(unescape(&[1, 0, 0, 3, 3, 0, 3]), [1, 0, 0, 3, 0, 3]);
}

#[test]
fn encrypted_positions_follow_the_pattern() {
    // Compare byte by byte with the clear unit: exactly the spec's positions change
    // (a changed byte could stay equal by chance; with these lengths none does).
    for len in [
        1usize, 16, 47, 48, 49, 63, 64, 65, 100, 191, 192, 208, 209, 224, 225, 400, 1500,
    ] {
        let nal = slice_nal(len, len as u8);
        let out = encrypt_h264_nal(&KEY, &nal);
        if !start_code_free(&out) || unescape(&out).len() != len {
            panic!("unexpected escaping for {len}");
        }
        let rbsp = unescape(&out);
        let changed: Vec<usize> = (0..len).filter(|&i| rbsp[i] != nal[i]).collect();
        let expected = spec_positions(len);
        // Each encrypted block changes (nearly) all its bytes; clear bytes never change.
        assert!(changed.iter().all(|i| expected.contains(i)), "len {len}");
        assert!(
            changed.len() + expected.len() / 16 >= expected.len(),
            "len {len}: {} of {} encrypted bytes changed",
            changed.len(),
            expected.len()
        );
        assert_eq!(decrypt_h264_nal(&KEY, &out), nal, "round trip, len {len}");
    }
}

#[test]
fn threshold_lead_and_tails() {
    // 48 bytes: clear. 49: one block at 32..48, one clear byte after it.
    let nal = slice_nal(48, 1);
    assert_eq!(encrypt_h264_nal(&KEY, &nal), nal);
    let nal = slice_nal(49, 2);
    let out = encrypt_h264_nal(&KEY, &nal);
    assert_eq!(out.len(), 49);
    assert_eq!(out[..32], nal[..32], "32-byte clear lead");
    assert_ne!(out[32..48], nal[32..48]);
    assert_eq!(out[48], nal[48]);
    // Tail of exactly 16 after the skip: length 32 + 16 + 144 + 16 = 208; the second
    // block position (192) has only 16 bytes left, so it stays clear.
    let nal = slice_nal(208, 3);
    let out = encrypt_h264_nal(&KEY, &nal);
    assert_ne!(out[32..48], nal[32..48]);
    assert_eq!(out[48..], nal[48..], "skip and 16-byte tail are clear");
    // Tail of 17: the block at 192 is encrypted (chained to the first), one byte clear.
    let nal = slice_nal(209, 4);
    let out = encrypt_h264_nal(&KEY, &nal);
    assert_ne!(out[192..208], nal[192..208]);
    assert_eq!(out[48..192], nal[48..192]);
    assert_eq!(out[208], nal[208]);
    // The first block is the same as in the 208-byte unit with the same prefix: CBC runs
    // forwards and restarts from the IV for every NAL unit.
    let short = &nal[..208];
    assert_eq!(encrypt_h264_nal(&KEY, short)[32..48], out[32..48]);
    // Every block after the first is chained: the same plaintext block at 192 as at 32
    // encrypts differently.
    let mut same = nal.clone();
    let first: Vec<u8> = same[32..48].to_vec();
    same[192..208].copy_from_slice(&first);
    let out = encrypt_h264_nal(&KEY, &same);
    assert_ne!(out[32..48], out[192..208]);
}

#[test]
fn other_nal_types_and_empty_units_are_unchanged() {
    // SPS, PPS, SEI, AUD, data partition B, reserved 0, prefix NAL (14).
    for header in [0x67u8, 0x68, 0x06, 0x09, 0x63, 0x00, 0x6e] {
        let mut nal = nonzero(300, header);
        nal[0] = header;
        assert_eq!(encrypt_h264_nal(&KEY, &nal), nal, "type {header:#x}");
        assert_eq!(decrypt_h264_nal(&KEY, &nal), nal, "type {header:#x}");
    }
    // Type 1 with nal_ref_idc 0 is encrypted too.
    let mut nal = nonzero(300, 9);
    nal[0] = 0x01;
    assert_ne!(encrypt_h264_nal(&KEY, &nal), nal);
    assert!(encrypt_h264_nal(&KEY, &[]).is_empty());
    assert!(decrypt_h264_nal(&KEY, &[]).is_empty());
    // Clear units with emulation prevention are not re-escaped (they are not touched).
    let sei = [0x06, 0, 0, 3, 1, 0x80];
    assert_eq!(encrypt_h264_nal(&KEY, &sei), sei);
}

#[test]
fn emulation_prevention_in_and_out() {
    // A slice as an encoder stores it, with emulation-prevention bytes in the clear lead,
    // inside the first encrypted block, in the skipped part and at the end (an escaped
    // cabac_zero_word). They are data: block positions are counted on the stored bytes,
    // the block at 32 encrypts the stored 00 00 03 with the rest, and the ciphertext is
    // escaped, so every clear 00 00 03 gets a second 03 that players remove again.
    let mut nal = slice_nal(404, 5);
    nal[10..14].copy_from_slice(&[0, 0, 3, 1]);
    nal[40..44].copy_from_slice(&[0, 0, 3, 0]);
    nal[100..104].copy_from_slice(&[0, 0, 3, 3]);
    nal[401..404].copy_from_slice(&[0, 0, 3]);
    assert_eq!(escape(&unescape(&nal)), nal, "canonically escaped");
    assert_eq!(unescape(&nal).len(), 400);
    let out = encrypt_h264_nal(&KEY, &nal);
    assert!(start_code_free(&out), "{out:02x?}");
    let encrypted = reference_encrypt(&nal);
    assert_eq!(unescape(&out), encrypted);
    assert_eq!(out, escape(&encrypted));
    // Blocks at 32, 192 and 352 of the stored unit (the 404-byte one has three; counted
    // without emulation prevention they would start elsewhere).
    assert_eq!(encrypted[..32], nal[..32]);
    for block in [32usize, 192, 352] {
        assert_ne!(
            encrypted[block..block + 16],
            nal[block..block + 16],
            "{block}"
        );
    }
    assert_eq!(encrypted[48..192], nal[48..192]);
    assert_eq!(encrypted[368..], nal[368..]);
    assert_eq!(
        out[10..15],
        [0, 0, 3, 3, 1],
        "stored EPB in the lead, escaped"
    );
    assert_eq!(
        out[out.len() - 4..],
        [0, 0, 3, 3],
        "stored EPB at the end, escaped"
    );
    // Players get the stored unit back byte for byte, emulation prevention included.
    assert_eq!(decrypt_h264_nal(&KEY, &out), nal);
    assert_eq!(hlsjs_decrypt_avc_unit(&out), nal);

    // Eligibility counts stored bytes too: 49 stored bytes (46 without emulation
    // prevention) are encrypted, 48 stored bytes are not.
    let mut short = vec![0x41; 49];
    short[10..13].copy_from_slice(&[0, 0, 3]);
    short[20..23].copy_from_slice(&[0, 0, 3]);
    short[30..33].copy_from_slice(&[0, 0, 3]);
    assert_eq!(unescape(&short).len(), 46);
    let out = encrypt_h264_nal(&KEY, &short);
    assert_eq!(unescape(&out), reference_encrypt(&short));
    assert_ne!(unescape(&out)[32..48], short[32..48]);
    assert_eq!(decrypt_h264_nal(&KEY, &out), short);
    assert_eq!(hlsjs_decrypt_avc_unit(&out), short);
    assert_eq!(encrypt_h264_nal(&KEY, &short[..48]), short[..48]);

    // Ciphertext next to clear bytes can form 00 00 0x, which needs new
    // emulation-prevention bytes. Clear bytes 00 01 after the block: a ciphertext
    // ending in 00 (1 in 256) makes 00 00 01. Clear byte 02 after the block: a
    // ciphertext ending in 00 00 (1 in 65 536) makes 00 00 02.
    let mut cipher = SampleAesCipher::new(&KEY);
    for (after, epb, wanted, tries) in [
        (&[0u8, 1, 0x80][..], 49, 3, 1u32 << 14),
        (&[2, 0x80], 48, 1, 1 << 21),
    ] {
        let mut found = 0;
        let mut nal = slice_nal(48, 7);
        nal.extend_from_slice(after);
        for seed in 0..tries {
            // Nonzero plaintext bytes keep the clear unit valid (no 00 00 0x in it).
            nal[32..36].copy_from_slice(&seed.to_be_bytes().map(|b| b | 0x10));
            let mut out = Vec::new();
            cipher.encrypt_h264_nal(&nal, &mut out);
            if out.len() > nal.len() {
                found += 1;
                assert!(start_code_free(&out), "{out:02x?}");
                assert_eq!(out[epb], 0x03, "{out:02x?}");
                assert_eq!(unescape(&out).len(), nal.len());
                let mut back = Vec::new();
                cipher.decrypt_h264_nal(&out, &mut back);
                assert_eq!(back, nal);
                if found == wanted {
                    break;
                }
            }
        }
        assert_eq!(found, wanted, "after {after:02x?}");
    }
}

#[test]
fn aac_frames_of_assorted_sizes() {
    let cipher = SampleAesCipher::new(&KEY);
    for raw_len in [
        0usize, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 100, 767, 768, 1500,
    ] {
        let mut frame = vec![0xff, 0xf1, 0x50, 0x80, 0, 0x1f, 0xfc];
        frame.extend(nonzero(raw_len, raw_len as u8));
        let out = encrypt_aac_frame(&KEY, &frame).unwrap();
        assert_eq!(out.len(), frame.len());
        let whole = raw_len.saturating_sub(16) / 16 * 16;
        let clear_end = 7 + 16;
        if whole == 0 {
            assert_eq!(out, frame, "raw {raw_len}: clear");
        } else {
            assert_eq!(out[..clear_end], frame[..clear_end], "raw {raw_len}");
            assert_ne!(
                out[clear_end..clear_end + 16],
                frame[clear_end..clear_end + 16]
            );
            assert_ne!(
                out[clear_end + whole - 16..clear_end + whole],
                frame[clear_end + whole - 16..clear_end + whole]
            );
            assert_eq!(out[clear_end + whole..], frame[clear_end + whole..]);
        }
        assert_eq!(decrypt_aac_frame(&KEY, &out).unwrap(), frame);
        // The raw variant matches the framed one.
        let mut raw = frame[7..].to_vec();
        cipher.encrypt_aac_raw(&mut raw);
        assert_eq!(raw, out[7..]);
        cipher.decrypt_aac_raw(&mut raw);
        assert_eq!(raw, frame[7..]);
    }
    // With a CRC (protection_absent 0) the header is 9 bytes.
    let mut frame = vec![0xff, 0xf0, 0x50, 0x80, 0, 0x1f, 0xfc, 0xaa, 0xbb];
    frame.extend(nonzero(64, 3));
    let out = encrypt_aac_frame(&KEY, &frame).unwrap();
    assert_eq!(out[..25], frame[..25]);
    assert_ne!(out[25..41], frame[25..41]);
    // Not ADTS: errors, no panic.
    for bad in [
        &[][..],
        &[0xff][..],
        &[0x12, 0x34, 0, 0, 0, 0, 0][..],
        &[0xff, 0xf1, 0][..],
    ] {
        assert!(matches!(
            encrypt_aac_frame(&KEY, bad),
            Err(Error::Malformed { .. })
        ));
    }
}

/// Known answers computed independently with Python's `cryptography` package (AES-128-CBC
/// with no padding over the concatenated blocks that SAMPLE-AES encrypts, spliced back
/// by hand, then escaped by a separate Python loop), not with this module. The blocks
/// are those at 32 and 192 of the NAL unit as stored, its emulation-prevention bytes
/// counted and encrypted as data:
///
/// ```python
/// from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
/// key, iv = b"0123456789abcdef", bytes(range(0xa0, 0xb0))
/// cbc = lambda d: (lambda e: e.update(d) + e.finalize())(
///     Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor())
/// nal = bytearray([0x65] + [(i * 37 + 11) % 254 + 1 for i in range(1, 211)])
/// nal[20:24] = b"\0\0\3\1"    # EPB in the clear lead
/// nal[40:44] = b"\0\0\3\0"    # EPB in the first encrypted block
/// nal[47] = 0x1c               # found by search: the first block's ciphertext ends in 00,
/// nal[48:50] = b"\0\1"        # so with these clear bytes it needs a new EPB
/// nal[196:200] = b"\0\0\3\2"  # EPB in the second encrypted block
/// nal[208:211] = b"\0\0\3"     # escaped cabac_zero_word in the clear tail
/// c = cbc(bytes(nal[32:48] + nal[192:208]))
/// enc = nal[:32] + c[:16] + nal[48:192] + c[16:] + nal[208:]
/// def escape(b):  # an 0x03 before any byte <= 3 after 00 00, and after trailing 00 00
///     out, z = bytearray(), 0
///     for x in b:
///         if z >= 2 and x <= 3:
///             out.append(3); z = 0
///         out.append(x); z = z + 1 if x == 0 else 0
///     if z >= 2: out.append(3)
///     return bytes(out)
/// answer = escape(enc)  # 214 bytes: 211 + the lead's, the new and the tail's 0x03
/// frame = bytes([0xff, 0xf1, 0x50, 0x80, 0x09, 0xbf, 0xfc]) + bytes(range(0x40, 0x40 + 70))
/// enc_frame = frame[:23] + cbc(frame[23:71]) + frame[71:]
/// ```
///
/// Both CBC inputs were also checked with `openssl enc -aes-128-cbc -nopad -K
/// 30313233343536373839616263646566 -iv a0a1a2a3a4a5a6a7a8a9aaabacadaeaf`.
#[test]
fn known_answers() {
    let mut nal: Vec<u8> = (0..211usize)
        .map(|i| ((i * 37 + 11) % 254 + 1) as u8)
        .collect();
    nal[0] = 0x65;
    nal[20..24].copy_from_slice(&[0, 0, 3, 1]);
    nal[40..44].copy_from_slice(&[0, 0, 3, 0]);
    nal[47] = 0x1c;
    nal[48..50].copy_from_slice(&[0, 1]);
    nal[196..200].copy_from_slice(&[0, 0, 3, 2]);
    nal[208..211].copy_from_slice(&[0, 0, 3]);
    assert_eq!(escape(&unescape(&nal)), nal, "canonically escaped");
    let out = encrypt_h264_nal(&KEY, &nal);
    assert_eq!(hex(&out), NAL_ANSWER);
    assert_eq!(out.len(), 214);
    // The new emulation-prevention byte: ciphertext ..7a 00, then the clear 00 01.
    assert_eq!(out[47..52], [0x7a, 0, 0, 3, 1]);
    assert_eq!(decrypt_h264_nal(&KEY, &out), nal);
    assert_eq!(hlsjs_decrypt_avc_unit(&out), nal);

    let mut frame = vec![0xff, 0xf1, 0x50, 0x80, 0x09, 0xbf, 0xfc];
    frame.extend(0x40..0x40 + 70u8);
    let out = encrypt_aac_frame(&KEY, &frame).unwrap();
    assert_eq!(hex(&out), AAC_ANSWER);
}

const NAL_ANSWER: &str = "6531567ba0c5ea11365b80a5caef163b6085aacf00000303018aafd4f920456a8f4f8fc35c85895646d6d682f377227a0000030154799ec3e80f34597ea3c8ed14395e83a8cdf2193e6388add2f71e43688db2d7fc23486d92b7dc03284d7297bce1082d52779cc1e60d32577ca1c6eb12375c81a6cbf0173c6186abd0f51c41668bb0d5fa21466b90b5da01264b7095badf062b50759abfe40b30557a9fc4e910355a7fa4c9ee153a5f84a9cef31a3f6489aed3f81f44698eb3d8fd24496e93b8dd601db916f06d127c4c246ca94f49ddfd00000303";
const AAC_ANSWER: &str = "fff1508009bffc404142434445464748494a4b4c4d4e4f90aa6d6333c0641444000b9fcf831152a655076c40c0036cad6bc4011786fe9d197be6f6740fd5ba35af621bcf33c118808182838485";

fn hex(bytes: &[u8]) -> String {
    crate::key::hex(bytes)
}

/// hls.js 1.7.4 `src/utils/mp4-tools.ts` `discardEPB`, transcribed: every 0x03 from index
/// 3 on whose two predecessors (in the escaped input) are zero is dropped.
fn hlsjs_discard_epb(data: &[u8]) -> Vec<u8> {
    let epb: Vec<usize> = (3..data.len())
        .filter(|&p| data[p] == 0x03 && data[p - 1] == 0 && data[p - 2] == 0)
        .collect();
    (0..data.len())
        .filter(|i| !epb.contains(i))
        .map(|i| data[i])
        .collect()
}

/// AES-128-CBC decryption without padding, straight from the `cbc` crate.
fn cbc_decrypt(data: &mut [u8]) {
    let (blocks, rest) = aes::Block::slice_as_chunks_mut(data);
    assert!(rest.is_empty());
    CbcDec::new(&KEY.key.into(), &KEY.iv.into()).decrypt_blocks(blocks);
}

/// hls.js 1.7.4 `src/demux/sample-aes.ts` `decryptAvcSamples` (skip rule),
/// `decryptAvcSample`, `getAvcEncryptedData` and `getAvcDecryptedUnit`, transcribed.
/// Returns what hls.js hands to its remuxer, and so to the decoder: the unit without
/// emulation prevention when it was decrypted (nothing escapes it again), the unit as it
/// was otherwise.
fn hlsjs_decrypt_avc_unit(unit: &[u8]) -> Vec<u8> {
    let unit_type = unit[0] & 0x1f;
    if unit.len() <= 48 || (unit_type != 1 && unit_type != 5) {
        return unit.to_vec();
    }
    let mut decoded = hlsjs_discard_epb(unit);
    let len = decoded.len() as i64;
    // Math.floor((length - 48) / 160) * 16 + 16
    let encrypted_len = ((len - 48).div_euclid(160) * 16 + 16) as usize;
    let mut encrypted = vec![0u8; encrypted_len];
    let (mut input, mut output) = (32i64, 0usize);
    while input < len - 16 {
        let at = input as usize;
        encrypted[output..output + 16].copy_from_slice(&decoded[at..at + 16]);
        input += 160;
        output += 16;
    }
    cbc_decrypt(&mut encrypted);
    let (mut input, mut output) = (0usize, 32i64);
    while output < len - 16 {
        let at = output as usize;
        decoded[at..at + 16].copy_from_slice(&encrypted[input..input + 16]);
        output += 160;
        input += 16;
    }
    decoded
}

/// hls.js `decryptAacSamples`/`decryptAacSample` on one unit (a frame without its ADTS
/// header).
fn hlsjs_decrypt_aac_unit(unit: &[u8]) -> Vec<u8> {
    let mut unit = unit.to_vec();
    if unit.len() < 32 {
        return unit;
    }
    let end = unit.len() - unit.len() % 16;
    cbc_decrypt(&mut unit[16..end]);
    unit
}

#[test]
fn hlsjs_decrypts_what_we_write() {
    let mut units = Vec::new();
    for len in (1..700)
        .step_by(7)
        .chain([48, 49, 50, 64, 65, 208, 209, 210, 368, 369])
    {
        for seed in 0..3u8 {
            let mut rbsp = nonzero(len, seed);
            rbsp[0] = [0x65, 0x41, 0x01][usize::from(seed)];
            // Zero runs (emulation prevention) at assorted places, some in encrypted blocks.
            for at in [5usize, 33, 47, 60, 191, 200, len.saturating_sub(2)] {
                if at > 0 && at + 3 <= len && (at + usize::from(seed)) % 2 == 0 {
                    rbsp[at..at + 3].copy_from_slice(&[0, 0, seed % 4]);
                }
            }
            units.push(escape(&rbsp));
        }
    }
    // Other NAL types, and a unit that is over 48 bytes only with its emulation prevention.
    units.push(escape(&[0x67, 0x64, 0, 0, 0x1f]));
    let mut short = vec![0x41; 46];
    short[10..13].copy_from_slice(&[0, 0, 0]);
    short[20..23].copy_from_slice(&[0, 0, 1]);
    short[30..33].copy_from_slice(&[0, 0, 2]);
    let short = escape(&short);
    assert_eq!(short.len(), 49);
    units.push(short);
    // Stored bytes that no encoder writes (00 00 00, 00 00 01, 00 00 03 04, trailing
    // zeros): still given back byte for byte.
    let mut state = 0x0123_4567_89ab_cdefu64;
    for _ in 0..300 {
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let len = (next() % 600) as usize + 1;
        let mut unit: Vec<u8> = (0..len)
            .map(|_| match next() % 4 {
                0 | 1 => 0,
                2 => (next() % 5) as u8,
                _ => next() as u8,
            })
            .collect();
        unit[0] = [0x65, 0x41, 0x01, 0x25, 0x06][(next() % 5) as usize];
        units.push(unit);
    }
    let mut encrypted_units = 0;
    for unit in &units {
        let encrypted = encrypt_h264_nal(&KEY, unit);
        // Slices over 48 bytes as stored are encrypted (hls.js counts the bytes as sent,
        // at least as many) and escaped; everything else passes through untouched.
        if is_encrypted_nal_type(unit[0] & 0x1f) && unit.len() > 48 {
            encrypted_units += 1;
            assert!(start_code_free(&encrypted), "unit {unit:02x?}");
            assert_eq!(unescape(&encrypted), reference_encrypt(unit));
            assert_ne!(unescape(&encrypted)[32..48], unit[32..48]);
        } else {
            assert_eq!(&encrypted, unit);
        }
        // hls.js removes emulation prevention, decrypts and stops there: it gets the unit
        // as stored, its emulation-prevention bytes included.
        assert_eq!(
            hlsjs_decrypt_avc_unit(&encrypted),
            *unit,
            "unit {unit:02x?}"
        );
        assert_eq!(decrypt_h264_nal(&KEY, &encrypted), *unit);
    }
    assert!(encrypted_units > 300, "{encrypted_units}");
    for raw_len in 0..200usize {
        let mut frame = vec![0xff, 0xf1, 0x50, 0x80, 0, 0x1f, 0xfc];
        frame.extend(nonzero(raw_len, 9));
        let encrypted = encrypt_aac_frame(&KEY, &frame).unwrap();
        assert_eq!(
            hlsjs_decrypt_aac_unit(&encrypted[7..]),
            frame[7..],
            "{raw_len}"
        );
    }
}

#[test]
fn audio_setup_information() {
    // AAC-LC 44.1 kHz stereo, as Shaka Packager's and Apple's examples.
    assert_eq!(
        aac_audio_setup_information(&[0x12, 0x10]).unwrap(),
        [b'z', b'a', b'a', b'c', 0, 0, 1, 2, 0x12, 0x10]
    );
    // HE-AAC (explicit SBR, object type 5) and HE-AAC v2 (29).
    assert_eq!(
        aac_audio_setup_information(&[0x2b, 0x92, 0x08, 0x00]).unwrap(),
        [b'z', b'a', b'c', b'h', 0, 0, 1, 4, 0x2b, 0x92, 0x08, 0x00]
    );
    assert_eq!(
        &aac_audio_setup_information(&[0xeb, 0x09, 0x88, 0x00]).unwrap()[..4],
        b"zacp"
    );
    assert!(matches!(
        aac_audio_setup_information(&[]),
        Err(Error::Malformed { .. })
    ));
    // AAC Main (1), and an escaped object type (32 + 10).
    assert!(matches!(
        aac_audio_setup_information(&[0x0a, 0x10]),
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        aac_audio_setup_information(&[0xf9, 0x40, 0x00]),
        Err(Error::Unsupported { .. })
    ));
    assert!(aac_audio_setup_information(&[0x12; 256]).is_err());
    // ADTS fields to a config: LC (profile 1), 48 kHz (3), stereo.
    assert_eq!(aac_config_from_adts(1, 3, 2), [0x11, 0x90]);
    assert_eq!(aac_config_from_adts(1, 4, 2), [0x12, 0x10]);
    assert_eq!(aac_config_from_adts(1, 11, 1), [0x15, 0x88]);
}
