//! The response cache: built manifests and segments keyed by their strong ETag (which
//! covers the path, every source's identity, the packaging settings and the protection),
//! within a byte budget, evicted by moka's TinyLFU policy (frequency-aware admission, LRU
//! eviction). A miss builds with single flight: concurrent requests for one missing
//! object wait for one build and share its result or its error. A budget of 0 turns the
//! cache off: every request builds.

use std::future::Future;
use std::sync::Arc;

use moka::future::Cache;
use moka::notification::RemovalCause;

use crate::built::Built;
use crate::ops::metrics::Metrics;
use crate::problem::Problem;

/// Built objects by ETag.
pub struct ResponseCache {
    cache: Option<Cache<String, Built>>,
    metrics: Arc<Metrics>,
}

/// Heap blocks larger than this are placed whole in pages of 64 KiB slices by the allocator
/// (mimalloc's large objects); smaller ones in size classes at most 1/8 apart.
const ALLOCATOR_SLICE: usize = 64 * 1024;

/// The memory one part sets aside: its length rounded up as the allocator rounds it. A
/// 200 KB TS segment occupies 256 KiB; weighed by its length alone, a full cache of them held
/// a fifth more than its budget (memory_soak.py, BENCHMARKS.md).
fn part_footprint(len: usize) -> usize {
    if len > ALLOCATOR_SLICE {
        len.div_ceil(ALLOCATOR_SLICE) * ALLOCATOR_SLICE
    } else {
        len + len / 8
    }
}

/// The memory an entry holds: its parts as the allocator sets them aside, their handles, the
/// key and the cache's own entry.
fn weight(key: &str, built: &Built) -> u32 {
    let parts: usize = built
        .parts
        .iter()
        .map(|p| part_footprint(p.len()) + 32)
        .sum();
    let bytes = key.len() + 160 + parts;
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl ResponseCache {
    pub fn new(budget_bytes: u64, metrics: Arc<Metrics>) -> Self {
        let evictions = metrics.cache_evictions.with_label_values(&["response"]);
        let cache = (budget_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(budget_bytes)
                .weigher(|k: &String, b: &Built| weight(k, b))
                .eviction_listener(move |_, _, cause| {
                    if cause == RemovalCause::Size {
                        evictions.inc();
                    }
                })
                .build()
        });
        ResponseCache { cache, metrics }
    }

    /// Whether responses are cached at all.
    pub fn enabled(&self) -> bool {
        self.cache.is_some()
    }

    /// The object with ETag `key`, built by `build` unless cached or being built.
    pub async fn get_or_build(
        &self,
        key: &str,
        build: impl Future<Output = Result<Built, Problem>>,
    ) -> Result<Built, Problem> {
        let Some(cache) = &self.cache else {
            return build.await;
        };
        if let Some(built) = cache.get(key).await {
            self.metrics.cache_lookup("response", true);
            return Ok(built);
        }
        // Boxed, as the title's load is: the insertion future is large and only a miss
        // needs it.
        let entry = Box::pin(cache.entry_by_ref(key).or_try_insert_with(build))
            .await
            .map_err(|e| (*e).clone())?;
        self.metrics.cache_lookup("response", !entry.is_fresh());
        Ok(entry.into_value())
    }

    /// Brings the size gauge up to date (moka applies evictions and sizes lazily).
    pub async fn update_gauges(&self) {
        let Some(cache) = &self.cache else { return };
        cache.run_pending_tasks().await;
        let bytes = i64::try_from(cache.weighted_size()).unwrap_or(i64::MAX);
        self.metrics
            .cache_bytes
            .with_label_values(&["response"])
            .set(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_weigh_what_the_allocator_sets_aside() {
        assert_eq!(part_footprint(0), 0);
        assert_eq!(part_footprint(800), 900);
        assert_eq!(part_footprint(64 * 1024), 72 * 1024);
        assert_eq!(part_footprint(64 * 1024 + 1), 128 * 1024);
        assert_eq!(part_footprint(200_000), 256 * 1024);
        let built = Built {
            parts: vec![bytes::Bytes::from(vec![0u8; 200_000])],
            content_type: "video/mp2t",
            cacheability: crate::built::Cacheability::Segment,
        };
        assert_eq!(weight("k", &built) as usize, 1 + 160 + 256 * 1024 + 32);
    }
}
