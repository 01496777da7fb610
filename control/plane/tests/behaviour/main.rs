//! The control plane seen from outside: its HTTP APIs served on a port, judged by the
//! conformance suites, on SQLite and on a real PostgreSQL.

mod billing_leases;
mod common;
mod conformance_suites;
