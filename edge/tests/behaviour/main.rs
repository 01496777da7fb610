//! The edge crate's behaviour tests, seen from outside: a real daemon on a loopback port,
//! real clients, ffprobe, nginx and a key server.
//!
//! One test binary with a module per area, not a binary per file: each binary links the
//! whole daemon, and thirteen of them cost a minute of linking and 600 MB of disk per build.
//! Run one area with `cargo test -p edge --test behaviour tls::`.

mod common;

mod access;
mod access_shared;
mod ads;
mod bytes_and_sync;
mod catalog_policy;
mod delivery;
mod deploy_checks;
mod encryption;
mod errors_and_http;
mod http3;
mod limits;
mod local_sources;
mod offline;
mod openings;
mod origin_http;
mod packaging;
mod speke;
mod tls;
