//! The Xero connection of an organisation (issue 6): connecting with OAuth 2 + PKCE, choosing
//! the XPM practice (tenant), keeping the tokens fresh, testing, disconnecting and reconnecting.
//!
//! **What it owns.** [`XeroSettings`] (device-wide, in the `setting` table); the
//! `xpm_connection` row of each organisation (tenant, [`LinkState`], dates, who connected —
//! never tokens); the token pair in the connecting user's vault under
//! [`tokens::token_key`] (`xero.tokens.org-<id>`); and the [`Connector`], one per app process,
//! which holds the shared [`xpm::XpmClient`], the pending sign-in attempt, the loopback
//! listener and a refresh lock per organisation. It does not open the browser, register the
//! deep link or show anything: the shell does, on top of this API. HTTP to Xero goes through
//! the `xpm` crate only.
//!
//! **Why this shape.** Xero accepts only https or `http://localhost` redirect URIs for PKCE
//! apps (reference §5.3), so the callback arrives either on a one-shot loopback listener or as
//! a `structuregram://oauth/callback?…` deep link forwarded by a firm's https page; both end in
//! [`Connector::complete_authorization`], which needs only the URL because the attempt keeps
//! everything else ([`XeroContext`]). Refresh tokens rotate and two refreshes race each other
//! to death (§5.5), so every token use goes through [`Connector::session`] under one lock per
//! organisation, which stores the new pair before handing it out.
//!
//! **The flow.**
//! 1. [`Connector::begin`] — passes the integration gate ([`crate::gate`]), makes a PKCE
//!    verifier and `state` (only the newest attempt is valid; it expires after
//!    [`ATTEMPT_TTL_MINUTES`] minutes), starts the loopback listener on the first free port
//!    of [`XeroSettings::redirect_ports`], and returns the [`Attempt`] (URL to open).
//! 2. The user consents in the browser; Xero redirects to the listener (or the forwarder page
//!    → deep link). [`Connector::complete_authorization`] checks `state`, maps
//!    `error=access_denied`, exchanges the code, and keeps the PRACTICEMANAGER tenants of *this*
//!    consent (`authEventId`, §5.6). One tenant → tokens into the vault, the row written,
//!    integration-MFA set: [`Completion::Connected`]. Several → [`Completion::ChooseTenant`],
//!    then [`Connector::choose_tenant`]. A different practice than the organisation's previous
//!    one → [`Completion::ConfirmSwitch`] and nothing is stored until the user confirms.
//! 3. [`Connector::wait`] lets the UI or the CLI await the outcome with a timeout.
//! 4. [`Connector::session`] gives a valid access token + tenant for XPM calls;
//!    [`Connector::test`] makes one light read; [`Connector::disconnect`] revokes at Xero and
//!    forgets the tokens but keeps the row (and so every link) for a reconnect.
//!
//! Errors the user sees use the guide's words ([`XeroError`]): "Security validation failed",
//! "Authorization was denied", "No Xero organizations found", "Failed to complete connection"
//! (details only in the log).

mod connector;
mod loopback;
mod settings;
pub mod tokens;

pub use connector::{Clock, Connector, XeroContext};
pub use settings::{
    load_settings, save_settings, XeroSettings, DEFAULT_REDIRECT_PORTS, SETTINGS_KEY,
    XERO_API_BASE, XERO_IDENTITY_BASE, XERO_LOGIN_BASE,
};

use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::StringLen;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DeriveActiveEnum, EntityTrait, EnumIter, QueryFilter,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::OrgId;
use crate::error::Result;
use crate::schema::xpm_connection;

/// How long a sign-in attempt (its `state` and PKCE verifier) stays valid, in minutes.
pub const ATTEMPT_TTL_MINUTES: i64 = 10;
/// A refresh token expires this many days after its last use (reference §5.5).
pub const REFRESH_TOKEN_DAYS: i64 = 60;
/// The access token is refreshed when it has less than this many seconds left.
pub const REFRESH_AHEAD_SECS: i64 = 120;

/// The stored state of an organisation's connection (`xpm_connection.status`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, TS,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "camelCase"
)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum LinkState {
    /// Tokens are in the vault and were last known to work.
    Connected,
    /// Xero refused the refresh token (`invalid_grant`: expired after 60 days unused, revoked,
    /// or rotated elsewhere): the user must reconnect.
    NeedsReconnect,
    /// Disconnected by the user; the tenant is remembered so a reconnect resumes.
    Disconnected,
}

/// What the Integrations page shows about the organisation's connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(export)]
pub enum ConnectionStatus {
    /// Not connected (never, or disconnected).
    Disconnected,
    /// Connected and, as far as we know, working.
    #[serde(rename_all = "camelCase")]
    Connected {
        /// The XPM practice's name.
        tenant_name: String,
        /// When the connection was made (or last remade).
        connected_at: DateTime<Utc>,
        /// When the refresh token expires if unused: 60 days after its last rotation
        /// (reference §5.5). `None` if unknown.
        refresh_expires_at: Option<DateTime<Utc>>,
    },
    /// Xero no longer accepts the tokens: reconnect.
    #[serde(rename_all = "camelCase")]
    NeedsReconnect {
        /// The XPM practice's name.
        tenant_name: String,
    },
}

/// An XPM practice (a PRACTICEMANAGER tenant of the consent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Tenant {
    /// `tenantId`, sent as `Xero-Tenant-Id`.
    pub tenant_id: String,
    /// `tenantName`.
    pub tenant_name: String,
}

/// A started sign-in: open `authorize_url` in the system browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Attempt {
    /// Xero's authorize URL with `state` and the PKCE challenge (not secret: it goes to the
    /// browser anyway).
    pub authorize_url: String,
    /// Where Xero will send the answer: `http://localhost:<port>/callback`, or the https
    /// forwarder page.
    pub redirect_uri: String,
    /// After this the attempt's callback is refused ("Security validation failed").
    pub expires_at: DateTime<Utc>,
}

/// How a callback (or a tenant choice) ended, when it did not fail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "outcome", rename_all = "camelCase")]
#[ts(export)]
pub enum Completion {
    /// Connected: tokens stored, row written, integration-MFA set. Start discovery.
    Connected {
        /// The practice connected.
        tenant: Tenant,
    },
    /// The consent covers several practices: ask which, then call
    /// [`Connector::choose_tenant`].
    ChooseTenant {
        /// The PRACTICEMANAGER tenants of this consent (Xero's order is not stable: sort for
        /// display).
        tenants: Vec<Tenant>,
    },
    /// The chosen practice differs from the one this organisation was connected to before, so
    /// its linked groups could mix two practices' data. Nothing was stored. Warn, and call
    /// [`Connector::choose_tenant`] with `confirm_switch = true` to go ahead (or
    /// [`Connector::cancel`]).
    ConfirmSwitch {
        /// The practice the organisation was connected to.
        previous: Tenant,
        /// The practice of this consent.
        chosen: Tenant,
    },
}

/// The result of [`Connector::test`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "result", rename_all = "camelCase")]
#[ts(export)]
pub enum TestOutcome {
    /// "Organisation API: Success".
    #[serde(rename_all = "camelCase")]
    Success {
        /// The practice answered for.
        tenant_name: String,
        /// How many client groups `clientgroup.api/list` returned.
        client_groups: u32,
    },
    /// The call failed.
    #[serde(rename_all = "camelCase")]
    Failed {
        /// What went wrong, for the user.
        message: String,
        /// The three things to check (product-spec §8.1 prerequisites); empty when Xero could
        /// not be reached, where only the internet connection is worth checking.
        checks: Vec<String>,
    },
}

/// The result of [`Connector::disconnect`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DisconnectOutcome {
    /// Whether Xero confirmed the revocation. `false`: Xero was unreachable (or the tokens were
    /// not in this user's vault); the local side was cleared anyway.
    pub revoked_at_xero: bool,
    /// What happened, for the user.
    pub message: String,
}

/// What to check when the test call fails (product-spec §8.1: the prerequisites of a
/// connection).
pub const TEST_CHECKS: [&str; 3] = [
    "The practice has a Xero Practice Manager subscription with at least read access to clients.",
    "StructureGram is open on the organisation that was connected (Account → Organisation).",
    "The Xero user who connected may authorise third-party apps (the \u{201c}Connect third-party add-ons\u{201d} privilege in XPM); if not, reconnect as a user who may.",
];

/// What every integration action says when Xero cannot be reached at all (no network, DNS
/// failure, connection refused, no answer in time): offline, the local data is all there and
/// nothing was changed, so the message says so and what to do. The technical cause goes to the
/// log only.
pub const UNREACHABLE_MESSAGE: &str = "Can't reach Xero. Check your internet connection and try again; your StructureGram data is unaffected.";

/// A Xero connection failure the user can act on. `Display` starts with the guide's words
/// ([`XeroError::guide_words`]) and says what to do next.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XeroError {
    /// The callback's `state` was missing, did not match the newest attempt, or the attempt was
    /// older than 10 minutes (or there was no attempt).
    #[error("Security validation failed. The answer from Xero did not match the newest connection attempt, or came more than 10 minutes after it started. Connect again from Account \u{2192} Integrations.")]
    SecurityValidationFailed,
    /// Xero answered `error=access_denied`: the user cancelled on Xero's page.
    #[error("Authorization was denied. StructureGram was not given access on Xero's page. Connect again and choose Allow access.")]
    AuthorizationDenied,
    /// The consent has no PRACTICEMANAGER tenant.
    #[error("No Xero organizations found. The Xero user you signed in with has no Xero Practice Manager practice it may connect. Check that the practice uses XPM and that this user has the \u{201c}Connect third-party add-ons\u{201d} privilege, then connect again.")]
    NoOrganizations,
    /// Anything else during connecting (token endpoint, network, storage); details are logged.
    #[error("Failed to complete connection. Try connecting again; if it keeps failing, the log file has the details.")]
    ConnectionFailed,
    /// No callback came before the wait's timeout; the attempt was cancelled.
    #[error("No answer came back from Xero within {minutes} minutes, so the connection attempt was cancelled. Connect again and finish signing in to Xero in your browser.")]
    TimedOut {
        /// The timeout, in whole minutes (at least 1).
        minutes: u64,
    },
    /// A newer attempt replaced this one, or it was cancelled.
    #[error(
        "The connection attempt was cancelled. Connect again from Account \u{2192} Integrations."
    )]
    Cancelled,
    /// Nothing is waiting for an answer (no attempt, or no tenant choice pending).
    #[error("There is no Xero connection in progress. Connect again from Account \u{2192} Integrations.")]
    NoAttempt,
    /// The organisation has no connection.
    #[error(
        "This organisation is not connected to Xero. Connect it on Account \u{2192} Integrations."
    )]
    NotConnected,
    /// Xero refused the refresh token (`invalid_grant`) or the tokens are gone: reconnect.
    #[error("The connection to Xero has expired or was revoked. Reconnect to Xero on Account \u{2192} Integrations.")]
    ReconnectRequired,
    /// The tokens are in another user's vault (that user connected).
    #[error("Xero was connected by another user of this organisation, and only they hold its keys. Sign in as them, or reconnect to Xero as yourself on Account \u{2192} Integrations.")]
    ConnectedByAnotherUser,
    /// Xero could not be reached or did not answer (timeouts, network, 5xx) while renewing the
    /// connection's tokens: [`UNREACHABLE_MESSAGE`].
    #[error("{}", UNREACHABLE_MESSAGE)]
    Unavailable,
    /// No client id configured.
    #[error("Enter your Xero app's client id in the Xero settings before connecting.")]
    NotConfigured,
    /// None of the callback ports could be opened.
    #[error("None of the callback ports for Xero ({ports}) is free on this computer. Close the program using them, or add another port in the Xero settings and register it with your Xero app.")]
    NoFreePort {
        /// The ports tried, comma-separated.
        ports: String,
    },
}

impl XeroError {
    /// The guide's exact words for this failure, where the guide has some (for a title or a
    /// test); `None` for the others.
    pub fn guide_words(&self) -> Option<&'static str> {
        match self {
            Self::SecurityValidationFailed => Some("Security validation failed"),
            Self::AuthorizationDenied => Some("Authorization was denied"),
            Self::NoOrganizations => Some("No Xero organizations found"),
            Self::ConnectionFailed => Some("Failed to complete connection"),
            Self::TimedOut { .. }
            | Self::Cancelled
            | Self::NoAttempt
            | Self::NotConnected
            | Self::ReconnectRequired
            | Self::ConnectedByAnotherUser
            | Self::Unavailable
            | Self::NotConfigured
            | Self::NoFreePort { .. } => None,
        }
    }
}

/// The organisation's connection as the Integrations page shows it.
///
/// # Errors
/// [`crate::Error::Db`] on database failure.
pub async fn status(db: &DatabaseConnection, org: OrgId) -> Result<ConnectionStatus> {
    Ok(match connection_row(db, org).await? {
        None => ConnectionStatus::Disconnected,
        Some(row) => match row.status {
            LinkState::Disconnected => ConnectionStatus::Disconnected,
            LinkState::NeedsReconnect => ConnectionStatus::NeedsReconnect {
                tenant_name: row.tenant_name,
            },
            LinkState::Connected => ConnectionStatus::Connected {
                tenant_name: row.tenant_name,
                connected_at: row.connected_at,
                refresh_expires_at: row
                    .refresh_token_issued_at
                    .map(|t| t + chrono::Duration::days(REFRESH_TOKEN_DAYS)),
            },
        },
    })
}

/// The practice the organisation is (or was last) connected to, whatever its state: the tenant
/// that group links refer to. `None` if it never connected.
///
/// # Errors
/// [`crate::Error::Db`] on database failure.
pub async fn last_tenant(db: &DatabaseConnection, org: OrgId) -> Result<Option<Tenant>> {
    Ok(connection_row(db, org).await?.map(|r| Tenant {
        tenant_id: r.tenant_id,
        tenant_name: r.tenant_name,
    }))
}

pub(crate) async fn connection_row<C: sea_orm::ConnectionTrait>(
    db: &C,
    org: OrgId,
) -> Result<Option<xpm_connection::Model>> {
    Ok(xpm_connection::Entity::find()
        .filter(xpm_connection::Column::OrganisationId.eq(org.0))
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_serialise_with_a_state_tag_in_camel_case() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let json = serde_json::to_value(ConnectionStatus::Connected {
            tenant_name: "Small Practice".into(),
            connected_at: at,
            refresh_expires_at: Some(at + chrono::Duration::days(REFRESH_TOKEN_DAYS)),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "state": "connected",
                "tenantName": "Small Practice",
                "connectedAt": "2026-11-30T01:00:00Z",
                "refreshExpiresAt": "2027-01-29T01:00:00Z",
            }),
            "the UI reads these names; 60 days after 30 November is 29 January"
        );
        assert_eq!(
            serde_json::to_value(ConnectionStatus::Disconnected).unwrap(),
            serde_json::json!({"state": "disconnected"})
        );
    }

    #[test]
    fn guide_words_start_every_connect_message() {
        for e in [
            XeroError::SecurityValidationFailed,
            XeroError::AuthorizationDenied,
            XeroError::NoOrganizations,
            XeroError::ConnectionFailed,
        ] {
            let words = e.guide_words().expect("a guide message");
            assert!(
                e.to_string().starts_with(words),
                "{e} must start with {words:?}"
            );
        }
    }
}
