//! Any request path must route or give a problem, never panic; a path that routes to an ad
//! session's object names its session, and its query (the `ads.*` player parameters a
//! session keeps) is read within its bounds.
#![no_main]

use edge::ads::session::{valid_id, Opening};
use edge::pipeline::route::{parse_route, Route};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (text, None),
    };
    if let Ok(Route::Vod(vod)) = parse_route(path) {
        if let Some(id) = &vod.session {
            assert!(valid_id(id), "{id:?}");
        }
        let _ = vod.shared_path();
    }
    let opening = Opening::from_request(query, None, Some(text));
    assert!(opening.params.len() <= 32);
    assert!(opening.params.iter().all(|(k, v)| k.len() <= 64 && v.len() <= 256));
});
