//! `client.api`: list (streamed), get, search, add, update, archive and delete clients.
//!
//! Follows <https://developer.xero.com/documentation/api/practice-manager-3-1/clients>. Owns the
//! paths, query parameters and idempotency class of each call; XML shapes live in `wire.rs`.
//! Contacts, documents and custom fields are not covered (the product does not need them).

use reqwest::Method;
use uuid::Uuid;

use crate::client::{Kind, Session, XpmClient};
use crate::error::{Error, Result};
use crate::model::{Client, ClientDetail, ClientInput, ListClientsOptions};
use crate::wire;

impl XpmClient {
    /// Streams `GET client.api/list`, calling `each` once per client as it is parsed, so a
    /// 50 MB `detailed=true` response needs memory for one client at a time. Returns the
    /// number of clients delivered.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `GET list` (`detailed`, `modifiedsince`
    /// in UTC). The list is not paginated. A transport failure before the first client is
    /// retried; after it, the error is returned (the caller has seen a partial list).
    ///
    /// # Errors
    /// Any [`Error`]; [`Error::MalformedResponse`] names the element path of a bad value.
    pub async fn for_each_client<F>(
        &self,
        session: &Session,
        options: &ListClientsOptions,
        mut each: F,
    ) -> Result<usize>
    where
        F: FnMut(Client) + Send,
    {
        let mut query = Vec::new();
        if options.detailed {
            query.push(("detailed", "true".to_owned()));
        }
        if let Some(t) = &options.modified_since {
            query.push(("modifiedsince", wire::modified_since(t)));
        }
        self.call_stream(
            session,
            "client.api/list",
            &query,
            "Clients",
            "Client",
            |el| {
                each(wire::client_of(&el, "Response/Clients/Client")?);
                Ok(())
            },
        )
        .await
    }

    /// `GET client.api/list`, collected into a `Vec` (see [`XpmClient::for_each_client`] for
    /// large practices).
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `GET list`.
    ///
    /// # Errors
    /// As [`XpmClient::for_each_client`].
    pub async fn list_clients(
        &self,
        session: &Session,
        options: &ListClientsOptions,
    ) -> Result<Vec<Client>> {
        let mut out = Vec::new();
        self.for_each_client(session, options, |c| out.push(c))
            .await?;
        Ok(out)
    }

    /// `GET client.api/get/{uuid}`: one client in full detail (contacts, notes, groups,
    /// relationships) with its `WebUrl`.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `GET get/[uuid]`.
    ///
    /// # Errors
    /// [`Error::Api`] (e.g. "Client not found") and the transport errors.
    pub async fn get_client(&self, session: &Session, uuid: &Uuid) -> Result<ClientDetail> {
        let root = self
            .call(
                session,
                Method::GET,
                &format!("client.api/get/{uuid}"),
                &[],
                None,
                Kind::Read,
            )
            .await?;
        wire::client_detail_of(&root)
    }

    /// `GET client.api/search?query=…` (optionally `detailed=true`).
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `GET search`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty query; otherwise as any call.
    pub async fn search_clients(
        &self,
        session: &Session,
        query: &str,
        detailed: bool,
    ) -> Result<Vec<Client>> {
        if query.trim().is_empty() {
            return Err(Error::invalid("search query is empty"));
        }
        let mut q = vec![("query", query.to_owned())];
        if detailed {
            q.push(("detailed", "true".to_owned()));
        }
        let root = self
            .call(
                session,
                Method::GET,
                "client.api/search",
                &q,
                None,
                Kind::Read,
            )
            .await?;
        wire::clients_of(&root)
    }

    /// `POST client.api/add`: creates a client (and its contacts); returns it as XPM stored it.
    /// Not idempotent: a lost response is [`Error::OutcomeUnknown`]; search by name before
    /// retrying.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `POST add`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty name or a masked `TaxNumber`; [`Error::Api`];
    /// [`Error::OutcomeUnknown`].
    pub async fn add_client(&self, session: &Session, input: &ClientInput) -> Result<ClientDetail> {
        let body = wire::client_request(None, input)?;
        let root = self
            .call(
                session,
                Method::POST,
                "client.api/add",
                &[],
                Some(body),
                Kind::Write("client.api/add"),
            )
            .await?;
        wire::client_detail_of(&root)
    }

    /// `PUT client.api/update`: sends `input` for client `uuid` and returns the stored client.
    /// Whether left-out elements are cleared is undocumented: send a merged full body
    /// ([`ClientInput::from_client`]). `TaxNumber` is sent only if the caller set a new one.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `PUT update`.
    ///
    /// # Errors
    /// As [`XpmClient::add_client`].
    pub async fn update_client(
        &self,
        session: &Session,
        uuid: &Uuid,
        input: &ClientInput,
    ) -> Result<ClientDetail> {
        let body = wire::client_request(Some(uuid), input)?;
        let root = self
            .call(
                session,
                Method::PUT,
                "client.api/update",
                &[],
                Some(body),
                Kind::Write("client.api/update"),
            )
            .await?;
        wire::client_detail_of(&root)
    }

    /// `PUT client.api/archive`: archives a client; returns it.
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `PUT archive`.
    ///
    /// # Errors
    /// [`Error::Api`], [`Error::OutcomeUnknown`] and the transport errors.
    pub async fn archive_client(&self, session: &Session, uuid: &Uuid) -> Result<ClientDetail> {
        let root = self
            .call(
                session,
                Method::PUT,
                "client.api/archive",
                &[],
                Some(wire::client_uuid_request(uuid)),
                Kind::Write("client.api/archive"),
            )
            .await?;
        wire::client_detail_of(&root)
    }

    /// `POST client.api/delete` (a POST with a body, not HTTP DELETE).
    ///
    /// XPM doc page: *Practice Manager 3.1 › Clients*, `POST delete`.
    ///
    /// # Errors
    /// [`Error::Api`], [`Error::OutcomeUnknown`] and the transport errors.
    pub async fn delete_client(&self, session: &Session, uuid: &Uuid) -> Result<()> {
        self.call(
            session,
            Method::POST,
            "client.api/delete",
            &[],
            Some(wire::client_uuid_request(uuid)),
            Kind::Write("client.api/delete"),
        )
        .await?;
        Ok(())
    }
}
