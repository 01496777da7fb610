//! The JSON bodies of the control-plane contracts: any bytes must parse into an asset,
//! product, grant or playback request, or be refused as a `bad-request` problem, and a
//! parsed asset or product must pass or fail the catalog's rules, never panic. The first
//! byte picks the type, the rest is the body.
#![no_main]

use catalog::model::{AssetInput, ProductInput};
use control_common::body::parse;
use control_common::ProblemType;
use entitlement::model::{GrantInput, PlaybackRequest};
use libfuzzer_sys::fuzz_target;

fn refused_as_bad_request<T: serde::de::DeserializeOwned + serde::Serialize>(body: &[u8]) -> Option<T> {
    match parse::<T>(body) {
        Ok(v) => Some(v),
        Err(p) => {
            assert_eq!(p.kind, ProblemType::BadRequest);
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = data.split_first() else { return };
    match kind % 4 {
        0 => {
            if let Some(a) = refused_as_bad_request::<AssetInput>(body) {
                if let Err(p) = catalog::validate::asset(&a) {
                    assert_eq!(p.kind, ProblemType::BadRequest);
                }
            }
        }
        1 => {
            if let Some(p) = refused_as_bad_request::<ProductInput>(body) {
                let _ = catalog::validate::product(&p);
            }
        }
        2 => {
            let _ = refused_as_bad_request::<GrantInput>(body);
        }
        _ => {
            let _ = refused_as_bad_request::<PlaybackRequest>(body);
        }
    }
});
