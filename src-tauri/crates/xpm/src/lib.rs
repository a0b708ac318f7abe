//! Typed, rate-limited client for Xero Practice Manager (XPM) 3.1 and Xero identity.
//!
//! This crate is the only code in StructureGram that speaks XML or HTTP to Xero. It owns:
//! OAuth 2 with PKCE against Xero identity ([`oauth`]), the XPM calls the product needs
//! (client groups, clients, relationships), the mapping of XPM's XML onto plain Rust types
//! ([`model`]), the error taxonomy ([`Error`]), and per-tenant rate limiting ([`limiter`]).
//! It deliberately knows nothing about the database, the UI or token storage: callers pass an
//! access token and tenant in a [`Session`] and persist [`oauth::TokenSet`]s and
//! [`DayBudget`]s themselves.
//!
//! Source of truth: `shared/reference/xpm-api.md`.
//!
//! ```no_run
//! # async fn demo() -> xpm::Result<()> {
//! use xpm::{ListClientsOptions, Session, Settings, XpmClient};
//! let client = XpmClient::new(Settings::new("CLIENT_ID", "http://localhost:53682/callback"))?;
//! let auth = client.authorize(&xpm::oauth::Scopes::default())?;
//! // … open auth.url in the browser, receive `code` and `state` on the redirect, compare state …
//! # let code = String::new();
//! let tokens = client.exchange_code(&code, auth.pkce_verifier).await?;
//! let tenants = client.connections(&tokens.access_token).await?;
//! let session = Session::new(tokens.access_token.clone(), tenants[0].tenant_id.clone());
//! let groups = client.list_client_groups(&session).await?;
//! let n = client
//!     .for_each_client(&session, &ListClientsOptions { detailed: true, ..Default::default() }, |c| {
//!         println!("{}", c.name);
//!     })
//!     .await?;
//! # let _ = (groups, n);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod client;
mod clients;
mod error;
mod groups;
pub mod limiter;
pub mod model;
pub mod oauth;
mod relationships;
pub mod settings;
mod wire;
mod xml;

pub use client::{Session, XpmClient};
pub use error::{Error, RateLimitProblem, Result};
pub use limiter::DayBudget;
pub use model::*;
pub use oauth2::{AccessToken, CsrfToken, PkceCodeVerifier, RefreshToken};
pub use settings::{LimitSettings, RetrySettings, Settings};

#[doc(hidden)]
pub mod __private {
    //! Entry points for this crate's bench and property tests only; not a stable API.
    use crate::error::Result;
    use crate::model::Client;

    /// Streams a `client.api/list` body from any reader, as the HTTP path does.
    ///
    /// # Errors
    /// As [`crate::XpmClient::for_each_client`].
    pub fn read_client_list<R: std::io::BufRead>(
        input: R,
        mut each: impl FnMut(Client),
    ) -> Result<()> {
        crate::xml::read_list_sync(input, "Clients", "Client", |el| {
            each(crate::wire::client_of(&el, "Response/Clients/Client")?);
            Ok(())
        })
    }

    /// Parses a whole-body envelope and maps it as `get/{uuid}` does.
    ///
    /// # Errors
    /// As [`crate::XpmClient::get_client`].
    pub fn read_client_detail(bytes: &[u8]) -> Result<crate::model::ClientDetail> {
        let root = crate::xml::parse_envelope(bytes)?;
        crate::wire::client_detail_of(&root)
    }
}
