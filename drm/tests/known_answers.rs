//! Known-answer tests for [`drm::cenc::SampleCipher`] against the encrypted files of
//! `testdata/cenc` (Eyevinn/mp4ff test data, see its README) and their clear twins:
//!
//! | encrypted | clear twin | what it exercises |
//! |---|---|---|
//! | `cbcs.mp4` | `cbcsdec.mp4` | `cbcs` video, 1:9 pattern, constant IV, subsamples, several truns and fragments, a clear c608 track interleaved |
//! | `cbcs_audio.mp4` | `cbcs_audiodec.mp4` | `cbcs` audio, 0:0 pattern (every whole block), constant IV, one subsample per sample, clear tails |
//! | `prog_8s_enc_dashinit.mp4` | `prog_8s_dec_dashinit.mp4` | `cenc` (AES-CTR) video with subsamples and audio without, 8-byte per-sample IVs |
//!
//! For each pair: the parsed signalling (`schm`, `tenc`) is what the vector claims; every
//! sample of every protected track decrypts to the clear twin's sample; every clear sample
//! encrypts, under the encrypted file's IV and subsample map, to the encrypted file's
//! bytes; and a key one bit off does not decrypt, so the comparison can fail. The samples
//! are found by the test-only reader in `support/fmp4.rs`.

mod support;

use drm::cenc::{Pattern, SampleCipher, Scheme, Subsample};
use drm::ContentKey;
use support::fmp4::{Movie, Protection, Sample, Tenc, Track};

/// One encrypted file, its clear twin, its key and the samples it must have.
struct Vector {
    encrypted: &'static str,
    clear: &'static str,
    key: &'static str,
    /// (track_ID, samples) of every encrypted track.
    protected_tracks: &'static [(u32, usize)],
    /// (track_ID, samples) of every clear track, which must be byte-identical in both files.
    clear_tracks: &'static [(u32, usize)],
    /// (track_ID, samples) that hold at least one encrypted byte: with `cbcs`, a sample
    /// whose protected ranges are all shorter than one block is left entirely clear.
    with_ciphertext: &'static [(u32, usize)],
}

const CBCS_VIDEO: Vector = Vector {
    encrypted: "cbcs.mp4",
    clear: "cbcsdec.mp4",
    key: "22bdb0063805260307ee5045c0f3835a",
    protected_tracks: &[(1, 182)],
    clear_tracks: &[(2, 5)],
    with_ciphertext: &[(1, 119)],
};

const CBCS_AUDIO: Vector = Vector {
    encrypted: "cbcs_audio.mp4",
    clear: "cbcs_audiodec.mp4",
    key: "5ffd93861fa776e96cccd934898fc1c8",
    protected_tracks: &[(1, 468)],
    clear_tracks: &[],
    with_ciphertext: &[(1, 421)],
};

const CENC_PROG_8S: Vector = Vector {
    encrypted: "prog_8s_enc_dashinit.mp4",
    clear: "prog_8s_dec_dashinit.mp4",
    key: "63cb5f7184dd4b689a5c5ff11ee6a328",
    protected_tracks: &[(1, 375), (2, 240)],
    clear_tracks: &[],
    with_ciphertext: &[(1, 375), (2, 240)],
};

/// Both files of a [`Vector`], read and parsed.
struct Loaded {
    encrypted_file: Vec<u8>,
    encrypted: Movie,
    clear_file: Vec<u8>,
    clear: Movie,
    key: ContentKey,
}

fn load(v: &Vector) -> Loaded {
    let encrypted_file = support::read_cenc_vector(v.encrypted);
    let clear_file = support::read_cenc_vector(v.clear);
    let encrypted =
        Movie::parse(&encrypted_file).unwrap_or_else(|e| panic!("{}: {e}", v.encrypted));
    let clear = Movie::parse(&clear_file).unwrap_or_else(|e| panic!("{}: {e}", v.clear));
    Loaded {
        encrypted_file,
        encrypted,
        clear_file,
        clear,
        key: v.key.parse().unwrap(),
    }
}

/// How one sample was protected, from the encrypted file's `tenc` and `senc`.
struct SampleCrypto {
    scheme: Scheme,
    iv: [u8; 16],
    pattern: Pattern,
    subsamples: Vec<Subsample>,
}

fn scheme(p: &Protection) -> Scheme {
    match &p.scheme_type {
        b"cenc" => Scheme::Cenc,
        b"cbcs" => Scheme::Cbcs,
        other => panic!(
            "scheme {:?} is not tested here",
            String::from_utf8_lossy(other)
        ),
    }
}

/// The parameters `SampleCipher` needs for `sample`, or `None` when its sample entry is
/// clear. `cenc` takes the per-sample IV from `senc`; `cbcs` takes the constant IV from
/// `tenc`, or `senc`'s IV when the per-sample IV size is not 0. Either goes at the start
/// of a zeroed 16-byte block. No `senc` subsamples means the whole sample is protected.
fn sample_crypto(track: &Track, sample: &Sample) -> Option<SampleCrypto> {
    let protection = track
        .entry(sample)
        .expect("sample entry")
        .protection
        .as_ref()?;
    let tenc = &protection.tenc;
    assert_eq!(
        tenc.is_protected, 1,
        "track {}: default_isProtected",
        track.id
    );
    let (iv_bytes, subsamples) = match &sample.encryption {
        Some(e) if !e.iv.is_empty() => (e.iv.as_slice(), e.subsamples.clone()),
        Some(e) => (tenc.constant_iv.as_slice(), e.subsamples.clone()),
        None => (tenc.constant_iv.as_slice(), Vec::new()),
    };
    assert!(
        iv_bytes.len() == 8 || iv_bytes.len() == 16,
        "track {}: a {}-byte IV",
        track.id,
        iv_bytes.len()
    );
    let mut iv = [0u8; 16];
    iv[..iv_bytes.len()].copy_from_slice(iv_bytes);
    Some(SampleCrypto {
        scheme: scheme(protection),
        iv,
        pattern: Pattern {
            crypt: tenc.crypt_byte_block,
            skip: tenc.skip_byte_block,
        },
        subsamples,
    })
}

/// Whether any byte of a `size`-byte sample is encrypted: `cenc` encrypts every protected
/// byte, `cbcs` only whole 16-byte blocks of each protected range.
fn has_ciphertext(c: &SampleCrypto, size: usize) -> bool {
    let protected: Vec<usize> = if c.subsamples.is_empty() {
        vec![size]
    } else {
        c.subsamples.iter().map(|s| s.protected as usize).collect()
    };
    match c.scheme {
        Scheme::Cenc => protected.iter().any(|&p| p > 0),
        Scheme::Cbcs => protected.iter().any(|&p| p >= 16),
    }
}

/// The clear twin's track with the same id and as many samples.
fn twin<'a>(l: &'a Loaded, track: &Track) -> &'a Track {
    let clear = l
        .clear
        .track(track.id)
        .unwrap_or_else(|| panic!("clear twin has no track {}", track.id));
    assert_eq!(clear.handler, track.handler, "track {} handler", track.id);
    assert_eq!(
        clear.samples.len(),
        track.samples.len(),
        "track {} sample count in the clear twin",
        track.id
    );
    assert!(
        clear.entries.iter().all(|e| e.protection.is_none()),
        "clear twin track {} has a protected sample entry",
        track.id
    );
    clear
}

/// What decrypting every protected sample of a file with `key` gave, per track.
#[derive(Debug, PartialEq, Eq)]
struct TrackOutcome {
    track: u32,
    /// Samples decrypted and compared.
    samples: usize,
    /// Samples equal to the clear twin's after decryption.
    equal_after: usize,
    /// Samples whose encrypted bytes differ from the clear twin's.
    differ_before: usize,
    /// Samples that hold at least one encrypted byte by their subsample map.
    with_ciphertext: usize,
}

fn decrypt_all(l: &Loaded, key: &ContentKey) -> Vec<TrackOutcome> {
    let mut out = Vec::new();
    for track in &l.encrypted.tracks {
        if track.entries.iter().all(|e| e.protection.is_none()) {
            continue;
        }
        let clear = twin(l, track);
        let mut o = TrackOutcome {
            track: track.id,
            samples: 0,
            equal_after: 0,
            differ_before: 0,
            with_ciphertext: 0,
        };
        for (i, (s, c)) in track.samples.iter().zip(&clear.samples).enumerate() {
            let crypto = sample_crypto(track, s)
                .unwrap_or_else(|| panic!("track {} sample {i} is clear", track.id));
            let cipher = SampleCipher::new(crypto.scheme, key);
            let expected = c.bytes(&l.clear_file);
            let mut sample = s.bytes(&l.encrypted_file).to_vec();
            o.differ_before += usize::from(sample != expected);
            o.with_ciphertext += usize::from(has_ciphertext(&crypto, sample.len()));
            cipher
                .decrypt(&crypto.iv, crypto.pattern, &crypto.subsamples, &mut sample)
                .unwrap_or_else(|e| panic!("track {} sample {i}: decrypt: {e}", track.id));
            o.samples += 1;
            o.equal_after += usize::from(sample == expected);
        }
        out.push(o);
    }
    out
}

fn check_decrypts(v: &Vector) {
    let l = load(v);
    let outcome = decrypt_all(&l, &l.key);
    let expected: Vec<TrackOutcome> = v
        .protected_tracks
        .iter()
        .map(|&(track, samples)| TrackOutcome {
            track,
            samples,
            equal_after: samples,
            differ_before: count_of(v.with_ciphertext, track),
            with_ciphertext: count_of(v.with_ciphertext, track),
        })
        .collect();
    let mut outcome = outcome;
    outcome.sort_by_key(|o| o.track);
    assert_eq!(outcome, expected, "{}", v.encrypted);

    // Clear tracks (the caption track of cbcs.mp4) are the same bytes in both files,
    // which also checks that the reader lines the files up.
    for &(id, samples) in v.clear_tracks {
        let track = l.encrypted.track(id).unwrap();
        assert!(track.entries.iter().all(|e| e.protection.is_none()));
        let clear = twin(&l, track);
        assert_eq!(track.samples.len(), samples, "track {id}");
        for (i, (s, c)) in track.samples.iter().zip(&clear.samples).enumerate() {
            assert!(
                s.encryption.is_none(),
                "clear track {id} sample {i} has an senc entry"
            );
            assert_eq!(
                s.bytes(&l.encrypted_file),
                c.bytes(&l.clear_file),
                "clear track {id} sample {i}"
            );
        }
    }
}

fn count_of(table: &[(u32, usize)], track: u32) -> usize {
    table.iter().find(|t| t.0 == track).map_or(0, |t| t.1)
}

fn check_encrypts(v: &Vector) {
    let l = load(v);
    let mut compared = Vec::new();
    for track in &l.encrypted.tracks {
        if track.entries.iter().all(|e| e.protection.is_none()) {
            continue;
        }
        let clear = twin(&l, track);
        for (i, (s, c)) in track.samples.iter().zip(&clear.samples).enumerate() {
            let crypto = sample_crypto(track, s).unwrap();
            let cipher = SampleCipher::new(crypto.scheme, &l.key);
            let mut sample = c.bytes(&l.clear_file).to_vec();
            cipher
                .encrypt(&crypto.iv, crypto.pattern, &crypto.subsamples, &mut sample)
                .unwrap_or_else(|e| panic!("track {} sample {i}: encrypt: {e}", track.id));
            assert!(
                sample == s.bytes(&l.encrypted_file),
                "{} track {} sample {i} ({} bytes, subsamples {:?}): encrypting the clear twin \
                 does not give the encrypted file's bytes",
                v.encrypted,
                track.id,
                sample.len(),
                crypto.subsamples
            );
        }
        compared.push((track.id, track.samples.len()));
    }
    compared.sort();
    assert_eq!(compared, v.protected_tracks, "{}", v.encrypted);
}

fn check_wrong_key_fails(v: &Vector) {
    let l = load(v);
    let mut wrong = l.key.clone();
    wrong.0[15] ^= 0x01;
    let mut outcome = decrypt_all(&l, &wrong);
    outcome.sort_by_key(|o| o.track);
    for o in &outcome {
        assert!(
            o.with_ciphertext > 0,
            "track {}: nothing to get wrong",
            o.track
        );
        // Only the samples with no encrypted byte at all come out right.
        assert_eq!(
            o.samples - o.equal_after,
            o.with_ciphertext,
            "{} track {}: with a wrong key, every sample holding ciphertext must differ",
            v.encrypted,
            o.track
        );
    }
    assert_eq!(outcome.len(), v.protected_tracks.len());
}

fn protection_of(movie: &Movie, track: u32) -> &Protection {
    let t = movie.track(track).unwrap();
    assert_eq!(t.entries.len(), 1, "track {track}: one sample entry");
    t.entries[0].protection.as_ref().unwrap()
}

fn hex16(s: &str) -> [u8; 16] {
    s.parse::<drm::KeyId>().unwrap().0
}

const PLAYREADY: &str = "9a04f079-9840-4286-ab92-e65be0885f95";
const WIDEVINE: &str = "edef8ba9-79d6-4ace-a3c8-27dcd51d21ed";
const COMMON: &str = "1077efec-c0b2-4d02-ace3-3c1e52e2fb4b";

#[test]
fn vectors_directory_is_in_the_checkout() {
    let dir = std::path::Path::new(support::CENC_VECTORS);
    assert!(
        dir.is_dir(),
        "missing {}: the vectors are committed in testdata/cenc",
        dir.display()
    );
    assert!(support::cenc_vector_path("README.md").is_file());
    assert!(support::cenc_vector_path("LICENSE").is_file());
}

#[test]
fn cbcs_video_signalling() {
    let l = load(&CBCS_VIDEO);
    let m = &l.encrypted;
    assert_eq!(m.fragments, 2);
    let video = m.track(1).unwrap();
    assert_eq!(&video.handler, b"vide");
    assert_eq!(&video.entries[0].format, b"encv");
    let p = protection_of(m, 1);
    assert_eq!(&p.original_format, b"avc1");
    assert_eq!(&p.scheme_type, b"cbcs");
    assert_eq!(p.scheme_version, 0x0001_0000);
    assert_eq!(
        p.tenc,
        Tenc {
            version: 1,
            crypt_byte_block: 1,
            skip_byte_block: 9,
            is_protected: 1,
            per_sample_iv_size: 0,
            // This file's tenc KID is all zeros (the pssh boxes carry the real one).
            kid: [0; 16],
            constant_iv: hex16("cbe3327da85a1e7a74496db552dfe6d0").to_vec(),
        }
    );
    // Every video sample has an senc entry with no IV and a subsample map.
    assert!(video.samples.iter().all(|s| s
        .encryption
        .as_ref()
        .is_some_and(|e| e.iv.is_empty() && !e.subsamples.is_empty())));
    let captions = m.track(2).unwrap();
    assert_eq!(&captions.entries[0].format, b"c608");
    assert!(captions.entries[0].protection.is_none());
    assert_eq!(m.pssh_system_ids, [hex16(PLAYREADY), hex16(WIDEVINE)]);
}

#[test]
fn cbcs_audio_signalling() {
    let l = load(&CBCS_AUDIO);
    let m = &l.encrypted;
    assert_eq!(m.fragments, 1);
    let audio = m.track(1).unwrap();
    assert_eq!(&audio.handler, b"soun");
    assert_eq!(&audio.entries[0].format, b"enca");
    let p = protection_of(m, 1);
    assert_eq!(&p.original_format, b"mp4a");
    assert_eq!(&p.scheme_type, b"cbcs");
    assert_eq!(p.scheme_version, 0x0001_0000);
    assert_eq!(
        p.tenc,
        Tenc {
            version: 1,
            // 0:0, no pattern: every whole block of each protected range.
            crypt_byte_block: 0,
            skip_byte_block: 0,
            is_protected: 1,
            per_sample_iv_size: 0,
            kid: [0; 16],
            constant_iv: hex16("94dc7d3f974d9087cb38c90f121b246d").to_vec(),
        }
    );
    // One subsample per sample: either all clear (6-byte frames) or all protected.
    assert!(audio.samples.iter().all(|s| {
        let e = s.encryption.as_ref().unwrap();
        e.iv.is_empty() && e.subsamples.len() == 1
    }));
    assert_eq!(m.pssh_system_ids, [hex16(PLAYREADY), hex16(WIDEVINE)]);
}

#[test]
fn cenc_prog_8s_signalling() {
    let l = load(&CENC_PROG_8S);
    let m = &l.encrypted;
    assert_eq!(m.fragments, 2);
    for (id, handler, format, original) in [
        (1, b"soun", b"enca", b"mp4a"),
        (2, b"vide", b"encv", b"avc1"),
    ] {
        let t = m.track(id).unwrap();
        assert_eq!(&t.handler, handler);
        assert_eq!(&t.entries[0].format, format);
        let p = protection_of(m, id);
        assert_eq!(&p.original_format, original);
        assert_eq!(&p.scheme_type, b"cenc");
        assert_eq!(p.scheme_version, 0x0001_0000);
        assert_eq!(
            p.tenc,
            Tenc {
                version: 0,
                crypt_byte_block: 0,
                skip_byte_block: 0,
                is_protected: 1,
                per_sample_iv_size: 8,
                kid: hex16("cd7eb9ff-88f3-4cae-b061-85b00024e4c2"),
                constant_iv: Vec::new(),
            }
        );
        assert!(t
            .samples
            .iter()
            .all(|s| s.encryption.as_ref().is_some_and(|e| e.iv.len() == 8)));
    }
    // Video has subsample maps, audio is protected whole.
    let has_map = |id| {
        m.track(id)
            .unwrap()
            .samples
            .iter()
            .all(|s| !s.encryption.as_ref().unwrap().subsamples.is_empty())
    };
    assert!(has_map(2));
    assert!(m.track(1).unwrap().samples.iter().all(|s| s
        .encryption
        .as_ref()
        .unwrap()
        .subsamples
        .is_empty()));
    assert_eq!(m.pssh_system_ids, [hex16(COMMON)]);
}

#[test]
fn cbcs_video_decrypts_to_the_clear_twin() {
    check_decrypts(&CBCS_VIDEO);
}

#[test]
fn cbcs_video_encrypts_to_the_encrypted_file() {
    check_encrypts(&CBCS_VIDEO);
}

#[test]
fn cbcs_video_wrong_key_does_not_decrypt() {
    check_wrong_key_fails(&CBCS_VIDEO);
}

#[test]
fn cbcs_audio_decrypts_to_the_clear_twin() {
    check_decrypts(&CBCS_AUDIO);
}

#[test]
fn cbcs_audio_encrypts_to_the_encrypted_file() {
    check_encrypts(&CBCS_AUDIO);
}

#[test]
fn cbcs_audio_wrong_key_does_not_decrypt() {
    check_wrong_key_fails(&CBCS_AUDIO);
}

#[test]
fn cenc_prog_8s_decrypts_to_the_clear_twin() {
    check_decrypts(&CENC_PROG_8S);
}

#[test]
fn cenc_prog_8s_encrypts_to_the_encrypted_file() {
    check_encrypts(&CENC_PROG_8S);
}

#[test]
fn cenc_prog_8s_wrong_key_does_not_decrypt() {
    check_wrong_key_fails(&CENC_PROG_8S);
}

/// `cbcs_audio.mp4` again, with each sample described as protected whole (no subsample
/// map, as a cbcs audio track without `senc` is): every map in this file is one subsample
/// that is either all protected or all clear and shorter than a block, so by ISO/IEC
/// 23001-7 both descriptions encrypt the same bytes. 47 samples are 6, 10 or 15 bytes
/// long, and a protected range shorter than one block must stay clear, not fail.
#[test]
fn cbcs_audio_whole_sample_protection_gives_the_same_bytes() {
    let l = load(&CBCS_AUDIO);
    let track = l.encrypted.track(1).unwrap();
    let clear = twin(&l, track);
    let mut short = 0;
    for (i, (s, c)) in track.samples.iter().zip(&clear.samples).enumerate() {
        let crypto = sample_crypto(track, s).unwrap();
        let size = s.range.len();
        match crypto.subsamples[..] {
            [Subsample {
                clear: 0,
                protected,
            }] => assert_eq!(protected as usize, size),
            [Subsample {
                clear,
                protected: 0,
            }] => {
                assert!(usize::from(clear) == size && size < 16);
                short += 1;
            }
            ref other => panic!("sample {i}: map {other:?}"),
        }
        let cipher = SampleCipher::new(crypto.scheme, &l.key);
        let mut sample = s.bytes(&l.encrypted_file).to_vec();
        cipher
            .decrypt(&crypto.iv, crypto.pattern, &[], &mut sample)
            .unwrap_or_else(|e| panic!("sample {i}: decrypt: {e}"));
        assert!(sample == c.bytes(&l.clear_file), "sample {i}: decrypt");
        cipher
            .encrypt(&crypto.iv, crypto.pattern, &[], &mut sample)
            .unwrap_or_else(|e| panic!("sample {i}: encrypt: {e}"));
        assert!(sample == s.bytes(&l.encrypted_file), "sample {i}: encrypt");
    }
    assert_eq!(short, 47);
}

/// The reader returns errors, never panics, on every file cut short anywhere before its
/// first sample (and at a stride after it), and on one-byte corruptions of everything
/// before the first sample (`ftyp`, `moov`, `sidx`, the first `moof`).
#[test]
fn reader_survives_truncated_and_corrupted_files() {
    let names = [
        "cbcs.mp4",
        "cbcsdec.mp4",
        "cbcs_audio.mp4",
        "cbcs_audiodec.mp4",
        "prog_8s_enc_dashinit.mp4",
        "prog_8s_dec_dashinit.mp4",
    ];
    for name in names {
        let file = support::read_cenc_vector(name);
        let movie = Movie::parse(&file).unwrap();
        let first_sample = movie
            .tracks
            .iter()
            .flat_map(|t| t.samples.first())
            .map(|s| s.range.start)
            .min()
            .unwrap();
        let mut errors = 0;
        for len in (0..first_sample).chain((first_sample..file.len()).step_by(997)) {
            errors += usize::from(Movie::parse(&file[..len]).is_err());
        }
        assert!(errors > 0, "{name}: no truncation was noticed");
        // 0xff makes sizes, counts and offsets huge; 0x00 and a flipped top bit at every
        // fourth byte (a stride that keeps the debug build quick) cover zero sizes and flags.
        let mut corrupt = file.clone();
        for at in 0..first_sample {
            let keep = corrupt[at];
            let values: &[u8] = if at % 4 == 0 {
                &[0xff, 0x00, keep ^ 0x80]
            } else {
                &[0xff]
            };
            for &value in values {
                corrupt[at] = value;
                let _ = Movie::parse(&corrupt);
            }
            corrupt[at] = keep;
        }
    }
}
