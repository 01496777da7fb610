//! Which regions of a mapped file were already given read-ahead advice, so that a segment
//! read asks the kernel to read ahead (`madvise(MADV_WILLNEED)`) the first time it touches
//! a region, not on every request.
//!
//! Measured need: with the advice on every read, `madvise` and the page cache walk behind
//! it took 2.7% of the core serving CMAF segments and 1.5% serving TS (load benchmark, 256
//! connections, cache off), for pages that were in memory all along. A page evicted after
//! its region was advised is still read in by the page fault path's own read-ahead; only
//! the head start is lost.

use std::sync::atomic::{AtomicU64, Ordering};

/// Size of one region: one bit of the set covers this many bytes of the file.
const REGION: usize = 1 << 20;

/// One bit per region of a file, set once the region was advised.
pub(super) struct AdvisedRegions {
    words: Box<[AtomicU64]>,
}

impl AdvisedRegions {
    /// No region advised yet, for a file of `len` bytes.
    pub(super) fn new(len: usize) -> Self {
        let regions = len.div_ceil(REGION);
        AdvisedRegions {
            words: (0..regions.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    /// Marks the regions that `start..end` touches as advised; true when one of them was
    /// not yet (so the caller gives the advice). An empty range touches none.
    pub(super) fn first_touch(&self, start: usize, end: usize) -> bool {
        if start >= end {
            return false;
        }
        let mut fresh = false;
        for region in start / REGION..=(end - 1) / REGION {
            let Some(word) = self.words.get(region / 64) else {
                // Past the file's length: nothing to remember, and nothing to advise.
                break;
            };
            let bit = 1u64 << (region % 64);
            if word.load(Ordering::Relaxed) & bit == 0 {
                fresh |= word.fetch_or(bit, Ordering::Relaxed) & bit == 0;
            }
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_region_is_fresh_once() {
        let regions = AdvisedRegions::new(3 * REGION + 10);
        assert!(regions.first_touch(0, 100));
        assert!(!regions.first_touch(50, 200));
        // Straddling into the second region: fresh, then not.
        assert!(regions.first_touch(REGION - 1, REGION + 1));
        assert!(!regions.first_touch(REGION, 2 * REGION));
        // The last, short region.
        assert!(regions.first_touch(3 * REGION, 3 * REGION + 10));
        assert!(!regions.first_touch(3 * REGION + 5, 3 * REGION + 6));
        // A read over all of them: the third region (2 MiB..3 MiB) is still fresh.
        assert!(regions.first_touch(0, 3 * REGION + 10));
        assert!(!regions.first_touch(0, 3 * REGION + 10));
    }

    #[test]
    fn empty_ranges_and_empty_files_touch_nothing() {
        let regions = AdvisedRegions::new(0);
        assert!(!regions.first_touch(0, 0));
        assert!(!regions.first_touch(0, 10));
        let regions = AdvisedRegions::new(10);
        assert!(!regions.first_touch(5, 5));
    }

    #[test]
    fn files_of_many_words() {
        let regions = AdvisedRegions::new(200 * REGION);
        assert!(regions.first_touch(130 * REGION, 130 * REGION + 1));
        assert!(!regions.first_touch(130 * REGION, 130 * REGION + 1));
        assert!(regions.first_touch(63 * REGION, 65 * REGION));
        assert!(!regions.first_touch(64 * REGION, 65 * REGION));
    }
}
