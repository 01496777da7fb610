//! Any text as an ad server's VMAP document (`ssai::vmap::parse`) gives breaks or a typed
//! error, never a panic; each break's `timeOffset` placed in a 10-minute title lands inside it
//! (a `#n` position only the content's opportunities place), and a VAST answer carried in a
//! break gives the ads to play.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ssai::chain::pick;
use ssai::time::Offset;
use ssai::vmap::{parse, AdSource, MAX_BREAKS};

const TITLE_MS: u64 = 600_000;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(vmap) = parse(&text) else { return };
    assert!(vmap.breaks.len() <= MAX_BREAKS);
    for b in &vmap.breaks {
        assert!(b.line >= 1);
        match (b.offset, b.offset.resolve(TITLE_MS)) {
            (Offset::Position(n), at) => {
                assert!(n >= 1);
                assert_eq!(at, None);
            }
            (o, Some(at)) => assert!(at <= TITLE_MS, "{o:?} at {at}"),
            (o, None) => panic!("{o:?} not placed"),
        }
        let _ = b.is_linear();
        if let Some(AdSource::Vast(v)) = &b.source {
            let _ = pick(v);
        }
    }
});
