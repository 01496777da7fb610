//! The process's resident memory split by kind, as operators need it: `process_resident_
//! memory_bytes` counts the pages of memory-mapped source files that the kernel keeps
//! resident (file-backed, shared with the page cache, dropped under pressure) together with
//! the heap, so on a node serving mapped sources it reads hundreds of MB more than the
//! daemon allocates. The anonymous part (heap, stacks, caches of built objects) is what a
//! memory budget and a leak alert must watch. Read from `/proc/self/status` at each scrape.

use prometheus::{IntGaugeVec, Opts, Registry};

/// Resident bytes of this process by `kind`: `anonymous`, `file`, `shmem`.
pub struct ProcessMemory {
    resident: IntGaugeVec,
}

/// Resident sizes in bytes, as `/proc/self/status` gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resident {
    pub anonymous: u64,
    pub file: u64,
    pub shmem: u64,
}

impl ProcessMemory {
    pub fn register(registry: &Registry) -> prometheus::Result<Self> {
        let resident = IntGaugeVec::new(
            Opts::new(
                "edgepack_process_resident_memory_bytes",
                "Resident memory by kind: anonymous (heap, caches, stacks: what budgets and \
                 leak alerts watch), file (mapped source files and the binary, dropped by the \
                 kernel under pressure) and shmem.",
            ),
            &["kind"],
        )?;
        registry.register(Box::new(resident.clone()))?;
        for kind in ["anonymous", "file", "shmem"] {
            resident.with_label_values(&[kind]);
        }
        Ok(ProcessMemory { resident })
    }

    /// Reads the current sizes into the gauges (no change where they cannot be read).
    pub fn update(&self) {
        let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
            return;
        };
        let r = parse_status(&status);
        for (kind, bytes) in [
            ("anonymous", r.anonymous),
            ("file", r.file),
            ("shmem", r.shmem),
        ] {
            self.resident
                .with_label_values(&[kind])
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
    }
}

/// The `RssAnon`, `RssFile` and `RssShmem` lines of a `/proc/PID/status` text.
pub fn parse_status(status: &str) -> Resident {
    let mut r = Resident::default();
    for line in status.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match name {
            "RssAnon" => &mut r.anonymous,
            "RssFile" => &mut r.file,
            "RssShmem" => &mut r.shmem,
            _ => continue,
        };
        let kib = value.trim().trim_end_matches("kB").trim();
        if let Ok(n) = kib.parse::<u64>() {
            *slot = n.saturating_mul(1024);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_resident_kinds() {
        let text = "Name:\tedgepack\nVmRSS:\t  740000 kB\nRssAnon:\t   21504 kB\n\
                    RssFile:\t  718000 kB\nRssShmem:\t       0 kB\nThreads:\t3\n";
        assert_eq!(
            parse_status(text),
            Resident {
                anonymous: 21504 * 1024,
                file: 718_000 * 1024,
                shmem: 0
            }
        );
        assert_eq!(parse_status("garbage"), Resident::default());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_anonymous_memory() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(parse_status(&status).anonymous > 0);
    }
}
