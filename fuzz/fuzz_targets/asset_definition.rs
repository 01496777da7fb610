//! Any asset definition file (local or fetched from an origin) must parse, resolve its
//! sources, or give a problem, never panic.
#![no_main]

use edge::origin::SourceRef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(def) = edge::media::definition::parse_definition("asset.toml", data) {
        let file = SourceRef::File("/media/title/asset.toml".into());
        let url = SourceRef::Url("http://origin/media/title/asset.toml".parse().unwrap());
        for s in def.sources.iter().chain(def.subtitles.values()) {
            let _ = file.resolve(s).map(|r| r.stem());
            let _ = url.resolve(s).map(|r| r.stem());
        }
    }
});
