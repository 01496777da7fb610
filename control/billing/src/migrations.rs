//! The billing tables, for SQLite and PostgreSQL (versions 3000 to 3999): the subscriptions
//! as last seen (for ordering and for withdrawing products an update dropped) and every
//! event id taken (for replays).

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

pub const STEPS: &[Step] = &[Step {
    version: 3001,
    description: "billing: subscriptions and the events taken",
    sqlite: V1,
    postgres: V1,
}];
