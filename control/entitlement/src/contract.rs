//! The entitlement contract as a Rust trait, one method per operation of the HTTP API. The
//! embedded store and the HTTP client implement it; the billing adapter and the demo hold a
//! `dyn Entitlement`.

pub use control_common::outcome::Put;
use control_common::page::{Page, PageQuery};
use control_common::Problem;

use crate::model::{Grant, GrantInput, PlaybackRequest, PlaybackSession};

#[async_trait::async_trait]
pub trait Entitlement: Send + Sync {
    /// Creates or replaces a grant; its product must exist in the catalog. Idempotent: the
    /// same input again changes nothing.
    async fn put_grant(&self, id: &str, input: GrantInput) -> Result<Put<Grant>, Problem>;
    async fn get_grant(&self, id: &str) -> Result<Grant, Problem>;
    async fn list_grants(
        &self,
        account: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<Grant>, Problem>;
    /// Withdraws a grant. Sessions it allowed go on until their tokens end; the next
    /// session or renewal is denied.
    async fn delete_grant(&self, id: &str) -> Result<(), Problem>;

    /// The decision: a session with its token, or `playback-denied` with reasons. With an
    /// idempotency key, a repeat of the same request returns the same session.
    async fn create_session(
        &self,
        request: PlaybackRequest,
        idempotency_key: Option<&str>,
    ) -> Result<PlaybackSession, Problem>;
    async fn get_session(&self, id: &str) -> Result<PlaybackSession, Problem>;
    async fn list_sessions(
        &self,
        account: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<PlaybackSession>, Problem>;
    /// A new token for an active session, if the account is still entitled; otherwise the
    /// session ends and the answer is `playback-denied`.
    async fn renew_session(&self, id: &str) -> Result<PlaybackSession, Problem>;
    /// Ends a session (the viewer stopped): its token stops working on every node.
    async fn end_session(&self, id: &str) -> Result<PlaybackSession, Problem>;
    /// Cuts a session off on every node within a second.
    async fn revoke_session(&self, id: &str) -> Result<PlaybackSession, Problem>;
}
