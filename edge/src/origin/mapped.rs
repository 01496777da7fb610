//! Local source files mapped into memory once and read as `Bytes` slices of the mapping:
//! a segment's payload goes from the page cache to the socket with one copy (the socket
//! write), as a static file server's does, instead of a `pread` into a fresh buffer first.
//!
//! Why this needs `unsafe` (the only use in `edge`): mapping a file is unsafe because the
//! mapped bytes change if another process writes the file, and touching a page past the
//! end of a file truncated in place raises SIGBUS. Measured need (load benchmark, clear
//! CMAF with the response cache off, 32 connections, one core): `open` + `pread` into a new
//! buffer cost about 45 µs of the 95 µs per segment (copy 19.5%, memset 6.9%, page faults
//! 3.9% of the core in `perf`), which held edgepack at 0.53 of nginx; see BENCHMARKS.md.
//! What keeps it sound in practice:
//! - a mapping is made for one identity (length and modification time, checked on the open
//!   file) and replaced when the source's identity changes, so a source replaced the usual
//!   way (a new file renamed over the old) is never mixed with the old one, whose mapping
//!   stays valid for the requests still sending it;
//! - only a file truncated or rewritten *in place* while it is served can hurt, which
//!   operators must not do (README, Limits); `origin.map_local_files = false` falls back to
//!   positioned reads for media roots where that cannot be promised (network filesystems).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use memmap2::{Advice, Mmap};

use super::advised::AdvisedRegions;
use super::{OriginError, SourceIdentity};

/// Most files kept mapped at once; the least recently used mapping is dropped (and unmapped
/// once no response still holds a slice of it).
const MAX_MAPPED_FILES: u64 = 4096;

/// One file's mapping, for one identity of the file.
pub(super) struct MappedFile {
    map: Mmap,
    identity: (u64, u64),
    advised: AdvisedRegions,
}

/// A range of a mapping, owned: the `Bytes` handed out keep the mapping alive.
struct MappedSlice {
    file: Arc<MappedFile>,
    start: usize,
    end: usize,
}

impl AsRef<[u8]> for MappedSlice {
    fn as_ref(&self) -> &[u8] {
        &self.file.map[self.start..self.end]
    }
}

/// The mappings of the local sources being served.
pub(super) struct MappedFiles {
    maps: moka::sync::Cache<PathBuf, Arc<MappedFile>>,
}

impl MappedFiles {
    pub(super) fn new() -> Self {
        MappedFiles {
            maps: moka::sync::Cache::new(MAX_MAPPED_FILES),
        }
    }

    /// `len` bytes at `offset` of `path` in version `id`, sharing the file's mapping.
    /// A file whose identity is no longer `id` is `Changed`.
    pub(super) fn read(
        &self,
        path: &Path,
        id: &SourceIdentity,
        offset: u64,
        len: u64,
    ) -> Result<Bytes, OriginError> {
        let file = self.mapping(path, id)?;
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= file.map.len() as u64)
            .ok_or_else(|| OriginError::Unreadable {
                object: path.display().to_string(),
                reason: format!(
                    "a read of {len} bytes at {offset} is past the end ({} bytes)",
                    file.map.len()
                ),
            })?;
        let (start, end) = (offset as usize, end as usize);
        // Start reading ahead pages that are not in memory yet, so that the socket write
        // rarely waits for the disk: once per region of the file (see `advised`). Advice is
        // only a hint: its failure changes nothing.
        if file.advised.first_touch(start, end) {
            let _ = file.map.advise_range(Advice::WillNeed, start, end - start);
        }
        Ok(Bytes::from_owner(MappedSlice { file, start, end }))
    }

    fn mapping(&self, path: &Path, id: &SourceIdentity) -> Result<Arc<MappedFile>, OriginError> {
        let wanted = (id.len, id.version);
        if let Some(file) = self.maps.get(path) {
            if file.identity == wanted {
                return Ok(file);
            }
        }
        let file = Arc::new(map(path, wanted)?);
        self.maps.insert(path.to_path_buf(), Arc::clone(&file));
        Ok(file)
    }
}

/// Maps `path`, checking on the open file that it is still version `wanted`.
fn map(path: &Path, wanted: (u64, u64)) -> Result<MappedFile, OriginError> {
    let file = File::open(path).map_err(|e| super::local::failed(path, &e))?;
    let meta = file
        .metadata()
        .map_err(|e| super::local::failed(path, &e))?;
    if super::local::identity_of(&meta) != wanted {
        return Err(OriginError::Changed {
            object: path.display().to_string(),
        });
    }
    // SAFETY: see the module documentation. The mapping is read-only and private to this
    // process; its bytes are only ever read through `MappedSlice`, whose range was checked
    // against the mapping's length. A file changed in place after this check is the one
    // case not covered, and is excluded by the documented operating rule above.
    #[allow(unsafe_code)]
    let map = unsafe { Mmap::map(&file) }.map_err(|e| super::local::failed(path, &e))?;
    Ok(MappedFile {
        advised: AdvisedRegions::new(map.len()),
        map,
        identity: wanted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(path: &Path) -> SourceIdentity {
        let meta = std::fs::metadata(path).expect("metadata");
        let (len, version) = super::super::local::identity_of(&meta);
        SourceIdentity {
            len,
            version,
            validator: None,
        }
    }

    #[test]
    fn slices_share_one_mapping_and_check_bounds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.bin");
        std::fs::write(&path, (0u8..=255).collect::<Vec<_>>()).expect("write");
        let id = identity(&path);
        let maps = MappedFiles::new();
        assert_eq!(
            &maps.read(&path, &id, 10, 3).expect("read")[..],
            &[10, 11, 12]
        );
        assert_eq!(maps.read(&path, &id, 250, 6).expect("read").len(), 6);
        assert!(matches!(
            maps.read(&path, &id, 250, 7),
            Err(OriginError::Unreadable { .. })
        ));
        assert!(matches!(
            maps.read(&path, &id, u64::MAX, 2),
            Err(OriginError::Unreadable { .. })
        ));
        assert_eq!(maps.maps.iter().count(), 1);
    }

    #[test]
    fn a_replaced_file_is_mapped_again_and_an_old_identity_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"first version").expect("write");
        let old = identity(&path);
        let maps = MappedFiles::new();
        let kept = maps.read(&path, &old, 0, 5).expect("read");

        // Replaced the safe way: a new file renamed over the old one.
        let tmp = dir.path().join("a.bin.new");
        std::fs::write(&tmp, b"second version, longer").expect("write");
        std::fs::rename(&tmp, &path).expect("rename");
        let new = identity(&path);
        assert_ne!(old, new);

        assert_eq!(&maps.read(&path, &new, 0, 6).expect("read")[..], b"second");
        assert!(matches!(
            maps.read(&path, &old, 0, 5),
            Err(OriginError::Changed { .. })
        ));
        // A response still sending the old version keeps its bytes.
        assert_eq!(&kept[..], b"first");
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let maps = MappedFiles::new();
        let id = SourceIdentity {
            len: 1,
            version: 1,
            validator: None,
        };
        assert!(matches!(
            maps.read(Path::new("/nonexistent/edgepack/x.mp4"), &id, 0, 1),
            Err(OriginError::NotFound { .. })
        ));
    }
}
