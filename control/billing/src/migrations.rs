//! The billing tables, for SQLite and PostgreSQL (versions 3000 to 3999): the subscriptions
//! as last seen (for ordering and for withdrawing products an update dropped), every event
//! id taken (for replays), and the leases that keep deliveries of one subscription apart.

use control_common::db::Step;

const V1: &str = "
CREATE TABLE billing_subscriptions (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    status TEXT NOT NULL,
    products TEXT NOT NULL,
    last_event TEXT NOT NULL,
    last_event_created BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE billing_events (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    created BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
";

/// Per-subscription leases (lease.rs): one delivery of a subscription at a time across
/// every process sharing the database.
const V2: &str = "
CREATE TABLE billing_leases (
    subscription TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
";

pub const STEPS: &[Step] = &[
    Step {
        version: 3001,
        description: "billing: subscriptions and the events taken",
        sqlite: V1,
        postgres: V1,
    },
    Step {
        version: 3002,
        description: "billing: per-subscription delivery leases",
        sqlite: V2,
        postgres: V2,
    },
];
