//! A small, test-only reader of fragmented MP4 files, just enough to check Common
//! Encryption against known answers: for every track it gives the sample entries (with
//! `sinf/frma`, `schm` and `schi/tenc` when protected) and every sample of every fragment
//! in decode order, as a byte range of the file inside an `mdat`, with its `senc` IV and
//! subsample map.
//!
//! It reads `moov/trak/{tkhd, mdia/hdlr, mdia/minf/stbl/stsd}`, `moov/mvex/trex`, and for
//! each `moof`: `traf/{tfhd, trun*, senc, saiz, saio}` and `pssh`. `saiz` and `saio` are
//! cross-checked against `senc`. Other boxes (`ftyp`, `free`, `sidx`, `udta`, ...) are
//! skipped. It never panics on malformed input: every length and offset is checked and a
//! problem comes back as an [`Error`] naming the box path and file offset. Key rotation
//! (`sgpd` of type `seig`) and PIFF `uuid` sample encryption are refused, not guessed.

use std::fmt;
use std::ops::Range;

use drm::cenc::Subsample;

/// A four-character code.
pub type FourCc = [u8; 4];

/// Where and why the file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub path: String,
    pub offset: usize,
    pub reason: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {:#x}: {}", self.path, self.offset, self.reason)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn error<T>(path: &str, offset: usize, reason: impl Into<String>) -> Result<T> {
    Err(Error {
        path: path.to_owned(),
        offset,
        reason: reason.into(),
    })
}

/// A parsed fragmented MP4 file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movie {
    /// In `moov` order.
    pub tracks: Vec<Track>,
    /// The number of `moof` boxes.
    pub fragments: usize,
    /// The system id of every `pssh`, in `moov` then in `moof`s, in file order.
    pub pssh_system_ids: Vec<[u8; 16]>,
}

/// One `trak` with the samples of all its fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// `tkhd` track_ID.
    pub id: u32,
    /// `hdlr` handler_type (`vide`, `soun`, `clcp`, ...).
    pub handler: FourCc,
    /// The `stsd` entries; a sample's `description_index` is 1-based into this.
    pub entries: Vec<SampleEntry>,
    /// `trex` defaults (all zero when the file has none for this track).
    pub defaults: TrackDefaults,
    /// Every sample of every fragment, in decode order.
    pub samples: Vec<Sample>,
}

/// The `trex` defaults of one track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackDefaults {
    pub sample_description_index: u32,
    pub sample_duration: u32,
    pub sample_size: u32,
    pub sample_flags: u32,
}

/// One `stsd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleEntry {
    /// The entry's box type (`encv`, `enca`, `avc1`, `mp4a`, `c608`, ...).
    pub format: FourCc,
    /// `sinf` of an `encv`/`enca` entry.
    pub protection: Option<Protection>,
}

/// A `sinf` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    /// `frma` data_format: the clear sample entry's type.
    pub original_format: FourCc,
    /// `schm` scheme_type (`cenc`, `cbcs`, ...).
    pub scheme_type: FourCc,
    /// `schm` scheme_version (0x00010000).
    pub scheme_version: u32,
    /// `schi/tenc`.
    pub tenc: Tenc,
}

/// A `tenc` box (ISO/IEC 23001-7 8.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenc {
    pub version: u8,
    /// default_crypt_byte_block (version 1 and later; 0 in version 0).
    pub crypt_byte_block: u8,
    /// default_skip_byte_block (version 1 and later; 0 in version 0).
    pub skip_byte_block: u8,
    pub is_protected: u8,
    pub per_sample_iv_size: u8,
    pub kid: [u8; 16],
    /// default_constant_IV, present when protected with a per-sample IV size of 0.
    pub constant_iv: Vec<u8>,
}

/// One sample of a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Where its bytes are in the file; always inside one `mdat` payload.
    pub range: Range<usize>,
    /// 1-based index into [`Track::entries`] (`tfhd` or `trex`).
    pub description_index: u32,
    /// 0-based index of its `moof`.
    pub fragment: usize,
    /// Its `senc` entry, when the `traf` has an `senc`.
    pub encryption: Option<SampleEncryption>,
}

impl Sample {
    /// The sample's bytes in `file`, the bytes this [`Movie`] was parsed from.
    pub fn bytes<'a>(&self, file: &'a [u8]) -> &'a [u8] {
        &file[self.range.clone()]
    }
}

/// One `senc` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleEncryption {
    /// The per-sample IV (Per_Sample_IV_Size bytes; empty when that is 0).
    pub iv: Vec<u8>,
    /// The subsample map (empty when `senc` flag 0x2 is not set).
    pub subsamples: Vec<Subsample>,
}

impl Movie {
    /// Reads a fragmented MP4 file.
    pub fn parse(file: &[u8]) -> Result<Movie> {
        let top = children(file, 0..file.len(), "")?;
        let mdats: Vec<Range<usize>> = top
            .iter()
            .filter(|b| &b.kind == b"mdat")
            .map(|b| b.body.clone())
            .collect();
        let mut movie = Movie {
            tracks: Vec::new(),
            fragments: 0,
            pssh_system_ids: Vec::new(),
        };
        let mut seen_moov = false;
        for b in &top {
            match &b.kind {
                b"moov" => {
                    if seen_moov {
                        return error("moov", b.start, "a second moov");
                    }
                    seen_moov = true;
                    parse_moov(file, b, &mut movie)?;
                }
                b"moof" => {
                    if !seen_moov {
                        return error("moof", b.start, "moof before moov");
                    }
                    let path = format!("moof[{}]", movie.fragments);
                    parse_moof(file, b, &path, &mdats, &mut movie)?;
                    movie.fragments += 1;
                }
                _ => {}
            }
        }
        if !seen_moov {
            return error("", 0, "no moov");
        }
        Ok(movie)
    }

    /// The track with this `tkhd` track_ID.
    pub fn track(&self, id: u32) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }
}

impl Track {
    /// The sample entry a sample refers to.
    pub fn entry(&self, sample: &Sample) -> Option<&SampleEntry> {
        let index = usize::try_from(sample.description_index).ok()?;
        self.entries.get(index.checked_sub(1)?)
    }
}

/// A box header: its type, where it starts, its body and its end.
#[derive(Debug, Clone)]
struct BoxHeader {
    kind: FourCc,
    start: usize,
    body: Range<usize>,
}

/// The boxes that exactly fill `range` of `file`.
fn children(file: &[u8], range: Range<usize>, path: &str) -> Result<Vec<BoxHeader>> {
    let mut out = Vec::new();
    let mut pos = range.start;
    while pos < range.end {
        let mut r = Reader {
            file,
            pos,
            end: range.end,
            path: path.to_owned(),
        };
        let size32 = r.u32()?;
        let kind: FourCc = r.array()?;
        let size = match size32 {
            0 => (range.end - pos) as u64,
            1 => r.u64()?,
            n => u64::from(n),
        };
        if &kind == b"uuid" {
            r.skip(16)?;
        }
        let header = r.pos - pos;
        let end = usize::try_from(size)
            .ok()
            .filter(|&s| s >= header)
            .and_then(|s| pos.checked_add(s))
            .filter(|&e| e <= range.end);
        let Some(end) = end else {
            return error(
                &join(path, &kind),
                pos,
                format!(
                    "box size {size} does not fit its parent (ends at {:#x})",
                    range.end
                ),
            );
        };
        out.push(BoxHeader {
            kind,
            start: pos,
            body: r.pos..end,
        });
        pos = end;
    }
    Ok(out)
}

fn join(path: &str, kind: &FourCc) -> String {
    let name = String::from_utf8_lossy(kind);
    if path.is_empty() {
        name.into_owned()
    } else {
        format!("{path}/{name}")
    }
}

/// The only child of type `kind`, if any; two of them is an error.
fn only<'b>(boxes: &'b [BoxHeader], kind: &FourCc, path: &str) -> Result<Option<&'b BoxHeader>> {
    let mut found = boxes.iter().filter(|b| &b.kind == kind);
    let first = found.next();
    if let Some(second) = found.next() {
        return error(&join(path, kind), second.start, "more than one");
    }
    Ok(first)
}

fn required<'b>(
    boxes: &'b [BoxHeader],
    kind: &FourCc,
    path: &str,
    parent: usize,
) -> Result<&'b BoxHeader> {
    match only(boxes, kind, path)? {
        Some(b) => Ok(b),
        None => error(
            path,
            parent,
            format!("no {}", String::from_utf8_lossy(kind)),
        ),
    }
}

/// Big-endian reads inside one box, with the box path for errors.
struct Reader<'a> {
    file: &'a [u8],
    pos: usize,
    end: usize,
    path: String,
}

impl<'a> Reader<'a> {
    fn of(file: &'a [u8], b: &BoxHeader, path: String) -> Self {
        Reader {
            file,
            pos: b.body.start,
            end: b.body.end,
            path,
        }
    }

    fn fail<T>(&self, reason: impl Into<String>) -> Result<T> {
        error(&self.path, self.pos, reason)
    }

    fn remaining(&self) -> usize {
        self.end - self.pos
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return self.fail(format!("needs {n} bytes, {} left", self.remaining()));
        }
        let out = &self.file[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A full box header: (version, flags).
    fn full(&mut self) -> Result<(u8, u32)> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }

    /// Refuses a table of `count` records of `record` bytes that cannot fit, before any
    /// allocation sized by `count`.
    fn fits(&self, count: u32, record: usize, what: &str) -> Result<usize> {
        let count = count as usize;
        match count.checked_mul(record) {
            Some(n) if n <= self.remaining() => Ok(count),
            _ => self.fail(format!(
                "{count} {what} of {record} bytes do not fit in {} bytes",
                self.remaining()
            )),
        }
    }

    fn at_end(&self) -> Result<()> {
        if self.remaining() != 0 {
            return self.fail(format!("{} unread bytes at the end", self.remaining()));
        }
        Ok(())
    }
}

fn parse_moov(file: &[u8], moov: &BoxHeader, movie: &mut Movie) -> Result<()> {
    let boxes = children(file, moov.body.clone(), "moov")?;
    let mut trexes = Vec::new();
    if let Some(mvex) = only(&boxes, b"mvex", "moov")? {
        for (i, trex) in children(file, mvex.body.clone(), "moov/mvex")?
            .iter()
            .filter(|b| &b.kind == b"trex")
            .enumerate()
        {
            let mut r = Reader::of(file, trex, format!("moov/mvex/trex[{i}]"));
            r.full()?;
            let id = r.u32()?;
            let defaults = TrackDefaults {
                sample_description_index: r.u32()?,
                sample_duration: r.u32()?,
                sample_size: r.u32()?,
                sample_flags: r.u32()?,
            };
            trexes.push((id, defaults));
        }
    }
    for (i, trak) in boxes.iter().filter(|b| &b.kind == b"trak").enumerate() {
        let path = format!("moov/trak[{i}]");
        let track = parse_trak(file, trak, &path)?;
        if movie.track(track.id).is_some() {
            return error(&path, trak.start, format!("a second track {}", track.id));
        }
        movie.tracks.push(track);
    }
    for (id, defaults) in trexes {
        match movie.tracks.iter_mut().find(|t| t.id == id) {
            Some(t) => t.defaults = defaults,
            None => return error("moov/mvex/trex", moov.start, format!("no track {id}")),
        }
    }
    for pssh in boxes.iter().filter(|b| &b.kind == b"pssh") {
        movie
            .pssh_system_ids
            .push(parse_pssh(file, pssh, "moov/pssh")?);
    }
    Ok(())
}

fn parse_pssh(file: &[u8], pssh: &BoxHeader, path: &str) -> Result<[u8; 16]> {
    let mut r = Reader::of(file, pssh, path.to_owned());
    r.full()?;
    r.array()
}

fn parse_trak(file: &[u8], trak: &BoxHeader, path: &str) -> Result<Track> {
    let boxes = children(file, trak.body.clone(), path)?;
    let tkhd = required(&boxes, b"tkhd", path, trak.start)?;
    let mut r = Reader::of(file, tkhd, join(path, b"tkhd"));
    let (version, _) = r.full()?;
    r.skip(if version == 1 { 16 } else { 8 })?;
    let id = r.u32()?;

    let mdia_path = join(path, b"mdia");
    let mdia = required(&boxes, b"mdia", path, trak.start)?;
    let mdia_boxes = children(file, mdia.body.clone(), &mdia_path)?;
    let hdlr = required(&mdia_boxes, b"hdlr", &mdia_path, mdia.start)?;
    let mut r = Reader::of(file, hdlr, join(&mdia_path, b"hdlr"));
    r.full()?;
    r.skip(4)?;
    let handler: FourCc = r.array()?;

    let minf_path = join(&mdia_path, b"minf");
    let minf = required(&mdia_boxes, b"minf", &mdia_path, mdia.start)?;
    let minf_boxes = children(file, minf.body.clone(), &minf_path)?;
    let stbl_path = join(&minf_path, b"stbl");
    let stbl = required(&minf_boxes, b"stbl", &minf_path, minf.start)?;
    let stbl_boxes = children(file, stbl.body.clone(), &stbl_path)?;
    let stsd_path = join(&stbl_path, b"stsd");
    let stsd = required(&stbl_boxes, b"stsd", &stbl_path, stbl.start)?;
    let mut r = Reader::of(file, stsd, stsd_path.clone());
    r.full()?;
    let count = r.u32()?;
    let entry_boxes = children(file, r.pos..stsd.body.end, &stsd_path)?;
    if entry_boxes.len() != count as usize {
        return error(
            &stsd_path,
            stsd.start,
            format!("entry_count {count} but {} entries", entry_boxes.len()),
        );
    }
    let entries = entry_boxes
        .iter()
        .enumerate()
        .map(|(i, e)| parse_sample_entry(file, e, &handler, &format!("{stsd_path}[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    Ok(Track {
        id,
        handler,
        entries,
        defaults: TrackDefaults::default(),
        samples: Vec::new(),
    })
}

fn parse_sample_entry(
    file: &[u8],
    entry: &BoxHeader,
    handler: &FourCc,
    path: &str,
) -> Result<SampleEntry> {
    let path = join(path, &entry.kind);
    // The fixed fields before the child boxes: SampleEntry (8 bytes), then
    // VisualSampleEntry (70) or AudioSampleEntry (20, plus 16 or 36 for QuickTime sound
    // description versions 1 and 2).
    let mut r = Reader::of(file, entry, path.clone());
    let fixed = match handler {
        b"vide" => 78,
        b"soun" => {
            r.skip(8)?;
            match r.u16()? {
                0 => 28,
                1 => 44,
                2 => 64,
                v => return r.fail(format!("audio sample entry version {v}")),
            }
        }
        _ => {
            if entry.kind.starts_with(b"enc") {
                return error(
                    &path,
                    entry.start,
                    "encrypted entry of a handler this reader does not know",
                );
            }
            return Ok(SampleEntry {
                format: entry.kind,
                protection: None,
            });
        }
    };
    let Some(start) = entry
        .body
        .start
        .checked_add(fixed)
        .filter(|&s| s <= entry.body.end)
    else {
        return error(&path, entry.start, "shorter than its fixed fields");
    };
    let boxes = children(file, start..entry.body.end, &path)?;
    let sinf = only(&boxes, b"sinf", &path)?;
    let protection = match sinf {
        Some(sinf) => Some(parse_sinf(file, sinf, &join(&path, b"sinf"))?),
        None => None,
    };
    if entry.kind.starts_with(b"enc") && protection.is_none() {
        return error(&path, entry.start, "encrypted sample entry without sinf");
    }
    Ok(SampleEntry {
        format: entry.kind,
        protection,
    })
}

fn parse_sinf(file: &[u8], sinf: &BoxHeader, path: &str) -> Result<Protection> {
    let boxes = children(file, sinf.body.clone(), path)?;
    let frma = required(&boxes, b"frma", path, sinf.start)?;
    let original_format = Reader::of(file, frma, join(path, b"frma")).array()?;
    let schm = required(&boxes, b"schm", path, sinf.start)?;
    let mut r = Reader::of(file, schm, join(path, b"schm"));
    r.full()?;
    let scheme_type: FourCc = r.array()?;
    let scheme_version = r.u32()?;
    let schi_path = join(path, b"schi");
    let schi = required(&boxes, b"schi", path, sinf.start)?;
    let schi_boxes = children(file, schi.body.clone(), &schi_path)?;
    let tenc = required(&schi_boxes, b"tenc", &schi_path, schi.start)?;
    let mut r = Reader::of(file, tenc, join(&schi_path, b"tenc"));
    let (version, _) = r.full()?;
    r.skip(1)?;
    let pattern = r.u8()?;
    let (crypt_byte_block, skip_byte_block) = if version == 0 {
        (0, 0)
    } else {
        (pattern >> 4, pattern & 0x0f)
    };
    let is_protected = r.u8()?;
    let per_sample_iv_size = r.u8()?;
    let kid = r.array()?;
    let constant_iv = if is_protected == 1 && per_sample_iv_size == 0 {
        let n = r.u8()?;
        r.bytes(usize::from(n))?.to_vec()
    } else {
        Vec::new()
    };
    r.at_end()?;
    Ok(Protection {
        original_format,
        scheme_type,
        scheme_version,
        tenc: Tenc {
            version,
            crypt_byte_block,
            skip_byte_block,
            is_protected,
            per_sample_iv_size,
            kid,
            constant_iv,
        },
    })
}

fn parse_moof(
    file: &[u8],
    moof: &BoxHeader,
    path: &str,
    mdats: &[Range<usize>],
    movie: &mut Movie,
) -> Result<()> {
    let boxes = children(file, moof.body.clone(), path)?;
    let fragment = movie.fragments;
    // Without base-data-offset or default-base-is-moof, a traf's base is the moof for the
    // first traf and the end of the previous traf's data for the others.
    let mut previous_end = moof.start;
    for (i, traf) in boxes.iter().filter(|b| &b.kind == b"traf").enumerate() {
        let traf_path = format!("{path}/traf[{i}]");
        let base_if_implicit = if i == 0 { moof.start } else { previous_end };
        previous_end = parse_traf(
            file,
            traf,
            &traf_path,
            moof.start,
            base_if_implicit,
            fragment,
            mdats,
            movie,
        )?;
    }
    for pssh in boxes.iter().filter(|b| &b.kind == b"pssh") {
        let id = parse_pssh(file, pssh, &format!("{path}/pssh"))?;
        movie.pssh_system_ids.push(id);
    }
    Ok(())
}

/// Parses one `traf` and appends its samples to its track; returns where its data ends.
#[allow(clippy::too_many_arguments)]
fn parse_traf(
    file: &[u8],
    traf: &BoxHeader,
    path: &str,
    moof_start: usize,
    base_if_implicit: usize,
    fragment: usize,
    mdats: &[Range<usize>],
    movie: &mut Movie,
) -> Result<usize> {
    let boxes = children(file, traf.body.clone(), path)?;

    for sgpd in boxes.iter().filter(|b| &b.kind == b"sgpd") {
        let mut r = Reader::of(file, sgpd, join(path, b"sgpd"));
        r.full()?;
        if &r.array::<4>()? == b"seig" {
            return error(
                path,
                sgpd.start,
                "sample groups of type seig (key rotation) are not supported",
            );
        }
    }

    // tfhd
    let tfhd = required(&boxes, b"tfhd", path, traf.start)?;
    let mut r = Reader::of(file, tfhd, join(path, b"tfhd"));
    let (_, flags) = r.full()?;
    let track_id = r.u32()?;
    let base_data_offset = if flags & 0x01 != 0 {
        Some(r.u64()?)
    } else {
        None
    };
    let description_index = if flags & 0x02 != 0 {
        Some(r.u32()?)
    } else {
        None
    };
    if flags & 0x08 != 0 {
        r.u32()?; // default_sample_duration
    }
    let default_size = if flags & 0x10 != 0 {
        Some(r.u32()?)
    } else {
        None
    };
    if flags & 0x20 != 0 {
        r.u32()?; // default_sample_flags
    }
    r.at_end()?;
    let base = match base_data_offset {
        Some(offset) => match usize::try_from(offset) {
            Ok(offset) => offset,
            Err(_) => return r.fail(format!("base_data_offset {offset} too large")),
        },
        None if flags & 0x02_0000 != 0 => moof_start,
        None => base_if_implicit,
    };

    let Some(track) = movie.tracks.iter_mut().find(|t| t.id == track_id) else {
        return error(path, tfhd.start, format!("no track {track_id} in moov"));
    };
    let description_index = description_index.unwrap_or(track.defaults.sample_description_index);
    let entry = match usize::try_from(description_index)
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| track.entries.get(i))
    {
        Some(entry) => entry,
        None => {
            return error(
                path,
                tfhd.start,
                format!(
                    "sample description index {description_index} of {}",
                    track.entries.len()
                ),
            )
        }
    };
    let protection = entry.protection.clone();
    let default_size = default_size.unwrap_or(track.defaults.sample_size);

    // trun, in order
    let mut ranges = Vec::new();
    let mut pos = base;
    for (i, trun) in boxes.iter().filter(|b| &b.kind == b"trun").enumerate() {
        let mut r = Reader::of(file, trun, format!("{path}/trun[{i}]"));
        let (_, flags) = r.full()?;
        let count = r.u32()?;
        if flags & 0x01 != 0 {
            let offset = r.i32()?;
            let start = isize::try_from(base)
                .ok()
                .and_then(|b| b.checked_add(offset as isize))
                .and_then(|s| usize::try_from(s).ok());
            match start {
                Some(start) => pos = start,
                None => return r.fail(format!("data_offset {offset} from base {base:#x}")),
            }
        }
        if flags & 0x04 != 0 {
            r.u32()?; // first_sample_flags
        }
        let record = [0x100, 0x200, 0x400, 0x800]
            .iter()
            .filter(|&&f| flags & f != 0)
            .count()
            * 4;
        let count = r.fits(count, record, "samples")?;
        if record == 0 && default_size == 0 && count != 0 {
            // Nothing would bound a corrupt sample_count: refuse rather than loop.
            return r.fail(format!("{count} samples of the default size 0"));
        }
        for _ in 0..count {
            if flags & 0x100 != 0 {
                r.u32()?; // duration
            }
            let size = if flags & 0x200 != 0 {
                r.u32()?
            } else {
                default_size
            };
            if flags & 0x400 != 0 {
                r.u32()?; // flags
            }
            if flags & 0x800 != 0 {
                r.u32()?; // composition time offset
            }
            let Some(end) = pos.checked_add(size as usize) else {
                return r.fail("sample end overflows");
            };
            if !mdats.iter().any(|m| m.start <= pos && end <= m.end) {
                return r.fail(format!(
                    "sample {pos:#x}..{end:#x} is not inside an mdat payload"
                ));
            }
            ranges.push(pos..end);
            pos = end;
        }
        r.at_end()?;
    }

    // senc, cross-checked with saiz and saio
    let protection = protection.as_ref();
    let senc = only(&boxes, b"senc", path)?;
    let mut encryption = Vec::new();
    if let Some(senc) = senc {
        let senc_path = join(path, b"senc");
        let Some(protection) = protection else {
            return error(&senc_path, senc.start, "senc for a clear sample entry");
        };
        let mut r = Reader::of(file, senc, senc_path);
        let (_, flags) = r.full()?;
        let mut iv_size = protection.tenc.per_sample_iv_size;
        if flags & 0x01 != 0 {
            r.skip(3)?; // AlgorithmID
            iv_size = r.u8()?;
            r.skip(16)?; // KID
        }
        let count = r.u32()?;
        if count as usize != ranges.len() {
            return r.fail(format!("{count} entries for {} samples", ranges.len()));
        }
        let first_entry = r.pos;
        let mut entry_sizes = Vec::new();
        let count = r.fits(count, usize::from(iv_size), "IVs")?;
        for _ in 0..count {
            let at = r.pos;
            let iv = r.bytes(usize::from(iv_size))?.to_vec();
            let mut subsamples = Vec::new();
            if flags & 0x02 != 0 {
                let n = r.u16()?;
                let n = r.fits(u32::from(n), 6, "subsamples")?;
                for _ in 0..n {
                    subsamples.push(Subsample {
                        clear: r.u16()?,
                        protected: r.u32()?,
                    });
                }
            }
            entry_sizes.push(r.pos - at);
            encryption.push(Some(SampleEncryption { iv, subsamples }));
        }
        r.at_end()?;
        check_saiz_saio(
            file,
            &boxes,
            path,
            base,
            protection,
            first_entry,
            &entry_sizes,
        )?;
    } else {
        if let Some(p) =
            protection.filter(|p| p.tenc.is_protected != 0 && p.tenc.per_sample_iv_size != 0)
        {
            return error(
                path,
                traf.start,
                format!(
                    "protected with {}-byte per-sample IVs but no senc",
                    p.tenc.per_sample_iv_size
                ),
            );
        }
        encryption.resize(ranges.len(), None);
    }

    let end = ranges.last().map_or(base, |r| r.end);
    track.samples.extend(
        ranges
            .into_iter()
            .zip(encryption)
            .map(|(range, encryption)| Sample {
                range,
                description_index,
                fragment,
                encryption,
            }),
    );
    Ok(end)
}

/// `saiz` sizes must be the `senc` entry sizes and `saio` must point at the first entry.
fn check_saiz_saio(
    file: &[u8],
    boxes: &[BoxHeader],
    path: &str,
    base: usize,
    protection: &Protection,
    first_entry: usize,
    entry_sizes: &[usize],
) -> Result<()> {
    let ours = |r: &mut Reader, flags: u32| -> Result<bool> {
        if flags & 1 == 0 {
            return Ok(true);
        }
        let aux_info_type: FourCc = r.array()?;
        r.u32()?;
        Ok(aux_info_type == protection.scheme_type)
    };
    if let Some(saiz) = only(boxes, b"saiz", path)? {
        let mut r = Reader::of(file, saiz, join(path, b"saiz"));
        let (_, flags) = r.full()?;
        if ours(&mut r, flags)? {
            let default_size = r.u8()?;
            let count = r.u32()?;
            if count as usize != entry_sizes.len() {
                return r.fail(format!(
                    "{count} sizes for {} senc entries",
                    entry_sizes.len()
                ));
            }
            for (i, &size) in entry_sizes.iter().enumerate() {
                let declared = if default_size != 0 {
                    default_size
                } else {
                    r.u8()?
                };
                if usize::from(declared) != size {
                    return r.fail(format!(
                        "sample {i}: size {declared}, senc entry is {size} bytes"
                    ));
                }
            }
            r.at_end()?;
        }
    }
    if let Some(saio) = only(boxes, b"saio", path)? {
        let mut r = Reader::of(file, saio, join(path, b"saio"));
        let (version, flags) = r.full()?;
        if ours(&mut r, flags)? {
            let count = r.u32()?;
            if count == 0 {
                return r.fail("no offsets");
            }
            let offset = if version == 0 {
                u64::from(r.u32()?)
            } else {
                r.u64()?
            };
            let at = usize::try_from(offset)
                .ok()
                .and_then(|o| base.checked_add(o));
            if at != Some(first_entry) {
                return r.fail(format!(
                    "offset {offset:#x} from base {base:#x} does not point at the first senc entry ({first_entry:#x})"
                ));
            }
        }
    }
    Ok(())
}
