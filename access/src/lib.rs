//! Playback access, pure: the tokens a player presents, read and checked against the request
//! they came with, and tokens minted for players and for renewal.
//!
//! Two schemes:
//! - [`cat`]: the Common Access Token of CTA-5007-B, a CWT in COSE_Mac0 (HMAC-SHA256) or
//!   COSE_Sign1 (ES256), with the CAT claims (`catu`, `catm`, `catnip`, `catreplay`, `catr`,
//!   `catgeoiso3166`, ...);
//! - [`akamai`]: Akamai Token Auth 2.0 (`st~exp~acl~hmac`), the signed-URL form CDNs use.
//!
//! Checking is split in two, so the edge can cache the expensive half: [`cat::verify`] reads
//! the envelope and checks the signature once per token; [`cat::Token::check`] checks the
//! claims against one request ([`RequestFacts`]) and the time, on every request. Nothing here
//! does IO or reads a clock: the time and the request come in as values, and so does the
//! randomness minting needs.
#![forbid(unsafe_code)]

pub mod akamai;
pub mod cat;
mod cbor;
pub mod facts;
pub mod refusal;
pub mod text;

pub use facts::RequestFacts;
pub use refusal::Refusal;
