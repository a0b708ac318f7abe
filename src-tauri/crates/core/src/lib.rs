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
//! rules, and the [`runs`] history — which call XPM through the `xpm` crate's client and never
//! see tokens. The
//! desktop shell and the command line both call it; neither holds business logic. Services are
//! plain async functions taking a connection, the organisation and,
//! where they write, the current time (never read from the clock inside).

#![deny(missing_docs)]

pub mod accounts;
pub mod audit;
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
pub mod relationships;
pub mod review;
pub mod rules;
pub mod runs;
pub mod schema;
pub mod secrets;
pub mod structures;
pub mod tfn;
pub mod transfer;
pub mod xero;

pub use db::OrgId;
pub use error::{Error, Result};
pub use sea_orm::DatabaseConnection;
