//! `clientgroup.api`: list, get, add, change members and delete client groups.
//!
//! Follows <https://developer.xero.com/documentation/api/practice-manager-3-1/client-groups>.
//! Owns the paths and idempotency class of each call. `clientgroup.api/list` is also the
//! cheapest "test connection" call that needs only client scopes.

use reqwest::Method;
use uuid::Uuid;

use crate::client::{Kind, Session, XpmClient};
use crate::error::{Error, Result};
use crate::model::{ClientGroup, ClientGroupInput, ClientGroupSummary};
use crate::wire;

impl XpmClient {
    /// `GET clientgroup.api/list`: every group, without members.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Client Groups*, `GET list`.
    ///
    /// # Errors
    /// Any [`Error`] of a read.
    pub async fn list_client_groups(&self, session: &Session) -> Result<Vec<ClientGroupSummary>> {
        let root = self
            .call(
                session,
                Method::GET,
                "clientgroup.api/list",
                &[],
                None,
                Kind::Read,
            )
            .await?;
        wire::group_summaries_of(&root)
    }

    /// `GET clientgroup.api/get/{uuid}`: one group with its member clients.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Client Groups*, `GET get/[uuid]`.
    ///
    /// # Errors
    /// [`Error::Api`] for an unknown group, and any read error.
    pub async fn get_client_group(&self, session: &Session, uuid: &Uuid) -> Result<ClientGroup> {
        let root = self
            .call(
                session,
                Method::GET,
                &format!("clientgroup.api/get/{uuid}"),
                &[],
                None,
                Kind::Read,
            )
            .await?;
        wire::group_of(&root)
    }

    /// `POST clientgroup.api/add`: creates a group with one first member (XPM requires one).
    ///
    /// XPM doc page: *Practice Manager 3.1 › Client Groups*, `POST add`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty name, [`Error::Api`], [`Error::OutcomeUnknown`].
    pub async fn add_client_group(
        &self,
        session: &Session,
        input: &ClientGroupInput,
    ) -> Result<ClientGroup> {
        let body = wire::group_add_request(input)?;
        let root = self
            .call(
                session,
                Method::POST,
                "clientgroup.api/add",
                &[],
                Some(body),
                Kind::Write("clientgroup.api/add"),
            )
            .await?;
        wire::group_of(&root)
    }

    /// `PUT clientgroup.api/members`: adds and removes member clients in one call (sent as
    /// `<add uuid="…"/>` / `<remove uuid="…"/>`); returns the group.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Client Groups*, `PUT members`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when both lists are empty, [`Error::Api`],
    /// [`Error::OutcomeUnknown`].
    pub async fn update_client_group_members(
        &self,
        session: &Session,
        group: &Uuid,
        add: &[Uuid],
        remove: &[Uuid],
    ) -> Result<ClientGroup> {
        if add.is_empty() && remove.is_empty() {
            return Err(Error::invalid("no members to add or remove"));
        }
        let root = self
            .call(
                session,
                Method::PUT,
                "clientgroup.api/members",
                &[],
                Some(wire::group_members_request(group, add, remove)),
                Kind::Write("clientgroup.api/members"),
            )
            .await?;
        wire::group_of(&root)
    }

    /// `POST clientgroup.api/delete` (a POST with a body, not HTTP DELETE).
    ///
    /// XPM doc page: *Practice Manager 3.1 › Client Groups*, `POST delete`.
    ///
    /// # Errors
    /// [`Error::Api`], [`Error::OutcomeUnknown`] and the transport errors.
    pub async fn delete_client_group(&self, session: &Session, uuid: &Uuid) -> Result<()> {
        self.call(
            session,
            Method::POST,
            "clientgroup.api/delete",
            &[],
            Some(wire::group_delete_request(uuid)),
            Kind::Write("clientgroup.api/delete"),
        )
        .await?;
        Ok(())
    }
}
