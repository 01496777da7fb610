//! Local source files: identity from size and modification time; reads are slices of the
//! file's mapping (`mapped.rs`), or positioned reads on tokio's blocking pool when
//! `origin.map_local_files` is off.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

use bytes::Bytes;

use super::{OriginError, Origins, SourceIdentity};

pub(super) fn failed(path: &Path, e: &std::io::Error) -> OriginError {
    let object = path.display().to_string();
    if e.kind() == std::io::ErrorKind::NotFound {
        OriginError::NotFound { object }
    } else {
        OriginError::Unreadable {
            object,
            reason: e.to_string(),
        }
    }
}

async fn blocking<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce() -> Result<T, OriginError> + Send + 'static,
) -> Result<T, OriginError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| OriginError::Unreadable {
            object: path.display().to_string(),
            reason: format!("background read failed: {e}"),
        })?
}

pub(super) async fn identify(
    origins: &Origins,
    path: PathBuf,
) -> Result<SourceIdentity, OriginError> {
    let started = Instant::now();
    let p = path.clone();
    let result = blocking(&path, move || {
        let meta = std::fs::metadata(&p).map_err(|e| failed(&p, &e))?;
        if !meta.is_file() {
            return Err(OriginError::NotFound {
                object: p.display().to_string(),
            });
        }
        let (len, version) = identity_of(&meta);
        Ok(SourceIdentity {
            len,
            version,
            validator: None,
        })
    })
    .await;
    origins.observe("local", "stat", result_label(&result), started, 0);
    result
}

/// A file's identity: its length and modification time (ns since the epoch).
pub(super) fn identity_of(meta: &std::fs::Metadata) -> (u64, u64) {
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    (meta.len(), modified_ns)
}

fn result_label<T>(result: &Result<T, OriginError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(OriginError::NotFound { .. }) => "not_found",
        Err(_) => "error",
    }
}

fn read_at(path: &Path, offset: u64, len: u64) -> Result<Bytes, OriginError> {
    let file = File::open(path).map_err(|e| failed(path, &e))?;
    let mut buf = vec![0u8; len as usize];
    file.read_exact_at(&mut buf, offset)
        .map_err(|e| failed(path, &e))?;
    Ok(Bytes::from(buf))
}

pub(super) async fn read(
    origins: &Origins,
    path: PathBuf,
    id: &SourceIdentity,
    kind: &'static str,
    offset: u64,
    len: u64,
) -> Result<Bytes, OriginError> {
    let started = Instant::now();
    let result = match &origins.mapped {
        // A slice of the file's mapping: no IO here (pages come in as the response is
        // written), so no hop to the blocking pool.
        Some(maps) => maps.read(&path, id, offset, len),
        None => {
            let p = path.clone();
            blocking(&path, move || read_at(&p, offset, len)).await
        }
    };
    let bytes = result.as_ref().map_or(0, Bytes::len);
    origins.observe("local", kind, result_label(&result), started, bytes);
    result
}

pub(super) async fn read_document(
    origins: &Origins,
    path: PathBuf,
    max: u64,
) -> Result<Option<Bytes>, OriginError> {
    let started = Instant::now();
    let p = path.clone();
    let result = blocking(&path, move || {
        let meta = match std::fs::metadata(&p) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(failed(&p, &e)),
        };
        if meta.len() > max {
            return Err(OriginError::Unreadable {
                object: p.display().to_string(),
                reason: format!("larger than {max} bytes"),
            });
        }
        std::fs::read(&p)
            .map(|v| Some(Bytes::from(v)))
            .map_err(|e| failed(&p, &e))
    })
    .await;
    let bytes = result
        .as_ref()
        .map_or(0, |b| b.as_ref().map_or(0, Bytes::len));
    origins.observe("local", "document", result_label(&result), started, bytes);
    result
}
