//! `client.api` relationship calls: add, update and delete a relationship between two clients.
//!
//! Follows <https://developer.xero.com/documentation/api/practice-manager-3-1/clients>
//! (`addrelationship`, `updaterelationship`, `deleterelationship`). The response body of these
//! calls is undocumented, so only `Status` is checked: re-read the client with
//! [`XpmClient::get_client`] to learn a new relationship's UUID. All three are non-idempotent.

use reqwest::Method;
use uuid::Uuid;

use crate::client::{Kind, Session, XpmClient};
use crate::error::Result;
use crate::model::{RelationshipInput, RelationshipUpdate};
use crate::wire;

impl XpmClient {
    /// `POST client.api/addrelationship`.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `POST addrelationship`.
    ///
    /// # Errors
    /// [`crate::Error::Api`] (e.g. a type that does not fit the client's business structure),
    /// [`crate::Error::OutcomeUnknown`], and the transport errors.
    pub async fn add_relationship(
        &self,
        session: &Session,
        input: &RelationshipInput,
    ) -> Result<()> {
        let body = wire::relationship_add_request(input)?;
        self.call(
            session,
            Method::POST,
            "client.api/addrelationship",
            &[],
            Some(body),
            Kind::Write("client.api/addrelationship"),
        )
        .await?;
        Ok(())
    }

    /// `PUT client.api/updaterelationship`: only shares, percentage and dates can change.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `PUT updaterelationship`.
    ///
    /// # Errors
    /// As [`XpmClient::add_relationship`].
    pub async fn update_relationship(
        &self,
        session: &Session,
        uuid: &Uuid,
        update: &RelationshipUpdate,
    ) -> Result<()> {
        self.call(
            session,
            Method::PUT,
            "client.api/updaterelationship",
            &[],
            Some(wire::relationship_update_request(uuid, update)),
            Kind::Write("client.api/updaterelationship"),
        )
        .await?;
        Ok(())
    }

    /// `POST client.api/deleterelationship`.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `POST deleterelationship`.
    ///
    /// # Errors
    /// As [`XpmClient::add_relationship`].
    pub async fn delete_relationship(&self, session: &Session, uuid: &Uuid) -> Result<()> {
        self.call(
            session,
            Method::POST,
            "client.api/deleterelationship",
            &[],
            Some(wire::relationship_delete_request(uuid)),
            Kind::Write("client.api/deleterelationship"),
        )
        .await?;
        Ok(())
    }
}
