//! StructureGram's domain and storage, free of Tauri and of any WebView.
//!
//! This crate owns the practice's data — organisations, groups, entities, memberships and
//! relationships — in a SeaORM database, the rules that keep it valid (product-spec §3–§4), the
//! structure diagram a group draws as (§6), the group JSON document of the headless CLI, and
//! the demo practice; and local accounts — users, organisations, memberships, two-factor
//! authentication and the integration gate — with secrets kept behind the
//! [`secrets::SecretStore`] trait (the shell's Stronghold vault), never in the database; and the
//! XPM sync services — [`discovery`] of XPM client groups, one-to-one group [`links`], the
//! [`pull`] of a linked group with its [`review`] items and business-structure [`structures`]
//! rules, the [`push`] of a linked group (or one entity) back to XPM in five phases, the
//! [`reconcile`] of a linked group with live XPM (item by item, on decisions), the [`runs`]
//! history, and the [`bulk`] scheduler that links and syncs a whole practice within XPM's limits
//! — which call XPM through the `xpm` crate's client and never
//! see tokens; and the organisation's Xero connection ([`xero`]: OAuth, tenant, tokens, test,
//! disconnect). The
//! desktop shell and the command line both call it; neither holds business logic. Services are
//! plain async functions taking a connection, the organisation and,
//! where they write, the current time (never read from the clock inside).
//!
//! The Xero connection ([`xero`], issue 6) is the one stateful service: a
//! [`xero::Connector`] per process holds the shared `xpm` client, the pending OAuth attempt
//! and the refresh locks, and reads time from an injectable clock.
//!
//! | Xero API | What |
//! |---|---|
//! | `xero::load_settings(db)` / `save_settings(db, &XeroSettings)` | device-wide settings (client id, ports, https forwarder, base URLs, scopes) |
//! | `Connector::new(settings)` / `with_clock(settings, clock)` / `set_settings(settings)` / `client()` | the service and its shared `XpmClient` |
//! | `begin(XeroContext, &gate::Session) -> Attempt` | gate, PKCE + state, loopback listener; open `attempt.authorize_url` |
//! | `complete_authorization(url) -> Completion` | loopback or `structuregram://oauth/callback?…` |
//! | `choose_tenant(tenant_id, confirm_switch) -> Completion` / `cancel()` / `wait(timeout)` | tenant choice, practice-switch confirmation, awaiting the callback |
//! | `session(&ctx) -> xpm::Session` / `renew_session(&ctx, &stale)` | a fresh token under the per-organisation refresh lock |
//! | `test(&ctx, &gate) -> TestOutcome` / `disconnect(&ctx, &gate) -> DisconnectOutcome` | light read; revoke + forget tokens, keep data |
//! | `xero::status(db, org) -> ConnectionStatus` / `xero::last_tenant(db, org)` | what the Integrations page shows; the practice links refer to |

#![deny(missing_docs)]

pub mod accounts;
pub mod audit;
pub mod bulk;
pub mod db;
pub mod demo;
pub mod diagram;
pub mod discovery;
pub mod entities;
pub mod error;
pub mod gate;
pub mod groups;
pub mod links;
pub mod mfa;
pub mod model;
pub mod pull;
pub mod push;
pub mod reconcile;
pub mod relationships;
pub mod review;
pub mod rules;
pub mod runs;
pub mod schema;
pub mod secrets;
pub mod structures;
pub mod tfn;
pub mod transfer;
pub mod words;
pub mod xero;

pub use db::OrgId;
pub use error::{Error, Result};
pub use sea_orm::DatabaseConnection;
