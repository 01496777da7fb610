//! The entitlement tables, for SQLite and PostgreSQL (versions 2000 to 2999).
//! - grants: the input document (`body`) plus the account and product, for lookups;
//! - sessions: one row per playback session and its state;
//! - idempotency: the answer given to each `Idempotency-Key`, for a day.

use control_common::db::Step;

const V1: &str = "
CREATE TABLE entitlement_grants (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    product TEXT NOT NULL,
    body TEXT NOT NULL,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX entitlement_grants_by_account ON entitlement_grants (account, id);
CREATE TABLE entitlement_sessions (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    device TEXT NOT NULL,
    asset TEXT NOT NULL,
    product TEXT NOT NULL,
    max_streams BIGINT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX entitlement_sessions_by_account ON entitlement_sessions (account, id);
CREATE TABLE entitlement_idempotency (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
";

pub const STEPS: &[Step] = &[Step {
    version: 2001,
    description: "entitlement: grants, playback sessions, idempotency keys",
    sqlite: V1,
    postgres: V1,
}];
