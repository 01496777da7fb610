//! One delivery of a subscription at a time, across every billing process that shares the
//! database: a lease row per subscription, taken with one conditional upsert (the same SQL on
//! SQLite and PostgreSQL), given back when the delivery is done, and expiring on its own
//! when its holder dies mid-delivery. Deliveries of different subscriptions never wait for
//! each other.

use std::time::Duration;

use control_common::db::{unavailable, Db};
use control_common::{clock, ids, Problem, ProblemType};

/// Seconds a lease lasts if its holder never gives it back (a crashed process): longer than
/// any delivery takes (a few entitlement calls, each bounded by its timeout).
pub const LEASE_SECONDS: i64 = 30;

/// How long a delivery waits for another delivery of its subscription before it answers
/// 503 (the sender retries later).
pub const WAIT: Duration = Duration::from_secs(10);

/// A subscription's lease, held.
pub struct Lease {
    subscription: String,
    holder: String,
}

impl Lease {
    /// Takes the lease of `subscription`, waiting up to `wait` for its holder to finish.
    pub async fn take(db: &Db, subscription: &str, wait: Duration) -> Result<Lease, Problem> {
        let holder = ids::random_hex(12);
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let now = clock::now();
            let taken = sqlx::query(
                "INSERT INTO billing_leases (subscription, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (subscription) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at WHERE billing_leases.expires_at <= $4",
            )
            .bind(subscription)
            .bind(holder.as_str())
            .bind(now + LEASE_SECONDS)
            .bind(now)
            .execute(&db.pool)
            .await
            .map_err(unavailable)?
            .rows_affected()
                == 1;
            if taken {
                return Ok(Lease {
                    subscription: subscription.to_owned(),
                    holder,
                });
            }
            if started.elapsed() + pause > wait {
                return Err(Problem::new(
                    ProblemType::DatabaseUnavailable,
                    format!(
                        "another delivery of subscription {subscription:?} is being applied; \
                         retry later"
                    ),
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Gives the lease back. Should that fail, it expires on its own.
    pub async fn give_back(self, db: &Db) {
        let done =
            sqlx::query("DELETE FROM billing_leases WHERE subscription = $1 AND holder = $2")
                .bind(self.subscription.as_str())
                .bind(self.holder.as_str())
                .execute(&db.pool)
                .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, subscription = %self.subscription, "a billing lease was not given back; it expires on its own");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> Db {
        Db::open("sqlite::memory:", 1, crate::migrations::STEPS)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_held_lease_makes_the_next_delivery_wait_and_others_pass() {
        let db = db().await;
        let held = Lease::take(&db, "sub_1", WAIT).await.unwrap();
        // Another subscription does not wait.
        let other = Lease::take(&db, "sub_2", Duration::ZERO).await.unwrap();
        other.give_back(&db).await;
        // The same one does, and gives up.
        let refused = Lease::take(&db, "sub_1", Duration::from_millis(50))
            .await
            .err()
            .unwrap();
        assert_eq!(refused.kind, ProblemType::DatabaseUnavailable);
        // Given back, it can be taken again at once.
        held.give_back(&db).await;
        Lease::take(&db, "sub_1", Duration::ZERO).await.unwrap();
    }

    #[tokio::test]
    async fn a_lease_whose_holder_died_expires() {
        let db = db().await;
        let _lost = Lease::take(&db, "sub_1", WAIT).await.unwrap();
        sqlx::query("UPDATE billing_leases SET expires_at = $1")
            .bind(clock::now() - 1)
            .execute(&db.pool)
            .await
            .unwrap();
        Lease::take(&db, "sub_1", Duration::ZERO).await.unwrap();
    }
}
