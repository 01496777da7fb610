//! The entitlement contract over HTTP: a remote entitlement service (ours, or an operator's
//! own CRM behind the same contract) as an [`Entitlement`].

use std::time::Duration;

use control_common::client::{encode, Remote};
use control_common::page::{Page, PageQuery};
use control_common::Problem;
use http::Method;

use crate::contract::{Entitlement, Put};
use crate::model::{Grant, GrantInput, PlaybackRequest, PlaybackSession};

pub struct RemoteEntitlement {
    remote: Remote,
}

impl RemoteEntitlement {
    pub fn new(base: &str, api_key: Option<String>, timeout: Duration) -> Result<Self, String> {
        Ok(RemoteEntitlement {
            remote: Remote::new(base, api_key, timeout)?,
        })
    }
}

fn list_path(path: &str, account: Option<&str>, page: &PageQuery) -> String {
    let mut pairs = Vec::new();
    if let Some(a) = account {
        pairs.push(format!("account={}", encode(a)));
    }
    if let Some(l) = page.limit {
        pairs.push(format!("limit={l}"));
    }
    if let Some(a) = &page.after {
        pairs.push(format!("after={}", encode(a)));
    }
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

#[async_trait::async_trait]
impl Entitlement for RemoteEntitlement {
    async fn put_grant(&self, id: &str, input: GrantInput) -> Result<Put<Grant>, Problem> {
        let (value, created) = self
            .remote
            .put(&format!("/v1/grants/{}", encode(id)), &input)
            .await?;
        Ok(Put { value, created })
    }

    async fn get_grant(&self, id: &str) -> Result<Grant, Problem> {
        self.remote
            .json::<(), _>(Method::GET, &format!("/v1/grants/{}", encode(id)), None)
            .await
    }

    async fn list_grants(
        &self,
        account: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<Grant>, Problem> {
        self.remote
            .json::<(), _>(Method::GET, &list_path("/v1/grants", account, page), None)
            .await
    }

    async fn delete_grant(&self, id: &str) -> Result<(), Problem> {
        self.remote
            .call::<(), serde_json::Value>(
                Method::DELETE,
                &format!("/v1/grants/{}", encode(id)),
                None,
                &[],
            )
            .await
            .map(|_| ())
    }

    async fn create_session(
        &self,
        request: PlaybackRequest,
        idempotency_key: Option<&str>,
    ) -> Result<PlaybackSession, Problem> {
        let headers: Vec<(&str, &str)> = idempotency_key
            .map(|k| ("Idempotency-Key", k))
            .into_iter()
            .collect();
        self.remote
            .call(
                Method::POST,
                "/v1/playback-sessions",
                Some(&request),
                &headers,
            )
            .await?
            .ok_or_else(|| {
                Problem::new(
                    control_common::ProblemType::UpstreamFailed,
                    "POST /v1/playback-sessions: 204 where a session was due",
                )
            })
    }

    async fn get_session(&self, id: &str) -> Result<PlaybackSession, Problem> {
        self.remote
            .json::<(), _>(
                Method::GET,
                &format!("/v1/playback-sessions/{}", encode(id)),
                None,
            )
            .await
    }

    async fn list_sessions(
        &self,
        account: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<PlaybackSession>, Problem> {
        self.remote
            .json::<(), _>(
                Method::GET,
                &list_path("/v1/playback-sessions", account, page),
                None,
            )
            .await
    }

    async fn renew_session(&self, id: &str) -> Result<PlaybackSession, Problem> {
        self.remote
            .json::<(), _>(
                Method::POST,
                &format!("/v1/playback-sessions/{}/renewal", encode(id)),
                None,
            )
            .await
    }

    async fn end_session(&self, id: &str) -> Result<PlaybackSession, Problem> {
        self.remote
            .json::<(), _>(
                Method::DELETE,
                &format!("/v1/playback-sessions/{}", encode(id)),
                None,
            )
            .await
    }

    async fn revoke_session(&self, id: &str) -> Result<PlaybackSession, Problem> {
        self.remote
            .json::<(), _>(
                Method::POST,
                &format!("/v1/playback-sessions/{}/revocation", encode(id)),
                None,
            )
            .await
    }
}
