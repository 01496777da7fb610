//! Inputs for the benches: real demo files and synthetic `moov` boxes of any length (a
//! 2-hour source is too large to keep in the repository; its `moov` is all a parse needs).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use packager::cmaf::writer::BoxWriter;
use packager::mp4::{next_top_level, parse_movie, Movie, TopLevelStep};
use packager::presentation::{PackagingOptions, Presentation, SourceFile};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `moov` of a file and its offset.
pub fn moov_of(file: &[u8]) -> (Vec<u8>, u64) {
    let mut offset = 0u64;
    loop {
        let at = offset as usize;
        let header = &file[at..(at + 16).min(file.len())];
        match next_top_level(header, offset, file.len() as u64).expect("valid test file") {
            TopLevelStep::Next { offset: next } => offset = next,
            TopLevelStep::Moov { offset, size } => {
                return (
                    file[offset as usize..(offset + size) as usize].to_vec(),
                    offset,
                )
            }
        }
    }
}

/// A demo source file loaded whole: its bytes and parsed movie.
pub struct Loaded {
    pub bytes: Bytes,
    pub movie: Movie,
}

pub fn load(path: &Path) -> Loaded {
    let bytes = Bytes::from(std::fs::read(path).expect("demo media present"));
    let (moov, offset) = moov_of(&bytes);
    let moov = bytes.slice(offset as usize..offset as usize + moov.len());
    let movie = parse_movie(&moov, offset, bytes.len() as u64).expect("demo media parses");
    Loaded { bytes, movie }
}

/// The demo title as the daemon plans it, with every source's bytes.
pub fn demo_title() -> (Presentation, Vec<Bytes>) {
    let dir = repo_root().join("demo/media/demo");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("demo dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".mp4"))
        .collect();
    names.sort();
    let mut sources = Vec::new();
    let mut bytes = Vec::new();
    for name in names {
        let loaded = load(&dir.join(&name));
        bytes.push(loaded.bytes);
        sources.push(SourceFile {
            name: name.trim_end_matches(".mp4").to_owned(),
            movie: Arc::new(loaded.movie),
        });
    }
    let p =
        Presentation::build(sources, Vec::new(), PackagingOptions::default()).expect("demo plans");
    (p, bytes)
}

fn full(w: &mut BoxWriter, kind: &[u8; 4], body: impl FnOnce(&mut BoxWriter)) {
    let m = w.open_full(kind, 0, 0);
    body(w);
    w.close(m);
}

/// A `moov` with one H.264 track of `seconds` at 25 fps (2 s GOPs, B-frame composition
/// offsets) and one AAC track at 48 kHz, its sample tables as ffmpeg lays them out
/// (one entry per sample in stsz, ctts and stco).
pub fn synthetic_moov(seconds: u32) -> Vec<u8> {
    let video_samples = seconds * 25;
    let audio_samples = seconds * 48000 / 1024;
    let mut w = BoxWriter::default();
    let moov = w.open(b"moov");
    full(&mut w, b"mvhd", |w| {
        w.u32(0);
        w.u32(0);
        w.u32(1000);
        w.u32(seconds * 1000);
        w.zeros(80);
    });
    let mut offset = 1_000_000u64;
    for (id, video) in [(1u32, true), (2, false)] {
        let n = if video { video_samples } else { audio_samples };
        let trak = w.open(b"trak");
        full(&mut w, b"tkhd", |w| {
            w.zeros(8);
            w.u32(id);
            w.zeros(68);
        });
        let mdia = w.open(b"mdia");
        full(&mut w, b"mdhd", |w| {
            w.zeros(8);
            w.u32(if video { 12800 } else { 48000 });
            w.u32(0);
            w.u16(0x55c4);
            w.u16(0);
        });
        full(&mut w, b"hdlr", |w| {
            w.u32(0);
            w.bytes(if video { b"vide" } else { b"soun" });
            w.zeros(13);
        });
        let minf = w.open(b"minf");
        let stbl = w.open(b"stbl");
        full(&mut w, b"stsd", |w| {
            w.u32(1);
            if video {
                let e = w.open(b"avc1");
                w.zeros(6);
                w.u16(1);
                w.zeros(16);
                w.u16(640);
                w.u16(360);
                w.zeros(50);
                let c = w.open(b"avcC");
                w.bytes(&[
                    1, 0x64, 0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1e, 1, 0, 2, 0x68, 0xee,
                ]);
                w.close(c);
                w.close(e);
            } else {
                let e = w.open(b"mp4a");
                w.zeros(6);
                w.u16(1);
                w.zeros(8);
                w.u16(2);
                w.u16(16);
                w.zeros(4);
                w.u32(48000 << 16);
                let esds = w.open_full(b"esds", 0, 0);
                w.bytes(&[
                    3, 25, 0, 2, 0, 4, 17, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 2, 0x11,
                    0x90, 6, 1, 2,
                ]);
                w.close(esds);
                w.close(e);
            }
        });
        full(&mut w, b"stts", |w| {
            w.u32(1);
            w.u32(n);
            w.u32(if video { 512 } else { 1024 });
        });
        if video {
            full(&mut w, b"ctts", |w| {
                w.u32(n);
                for i in 0..n {
                    w.u32(1);
                    w.u32(if i % 3 == 0 { 1024 } else { 512 });
                }
            });
            full(&mut w, b"stss", |w| {
                w.u32(n.div_ceil(50));
                for i in (0..n).step_by(50) {
                    w.u32(i + 1);
                }
            });
        }
        full(&mut w, b"stsc", |w| {
            w.u32(1);
            w.u32(1);
            w.u32(1);
            w.u32(1);
        });
        full(&mut w, b"stsz", |w| {
            w.u32(0);
            w.u32(n);
            for i in 0..n {
                w.u32(if video { 2000 + (i % 50) * 10 } else { 300 });
            }
        });
        full(&mut w, b"co64", |w| {
            w.u32(n);
            for i in 0..n {
                w.u64(offset);
                offset += u64::from(if video { 2000 + (i % 50) * 10 } else { 300 });
            }
        });
        w.close(stbl);
        w.close(minf);
        w.close(mdia);
        w.close(trak);
    }
    w.close(moov);
    w.buf
}
