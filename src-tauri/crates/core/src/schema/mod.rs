//! SeaORM entity definitions, one module per table, mirroring the migrations exactly.
//!
//! These are storage shapes only; behaviour and the public domain types live in the service
//! modules ([`crate::groups`], [`crate::entities`], [`crate::relationships`]). Enumerations are
//! stored as their camelCase names (the same strings the UI and the JSON export use) so the
//! database stays readable and backend-neutral.

pub mod audit_event;
pub mod entity;
pub mod group;
pub mod group_member;
pub mod membership;
pub mod organisation;
pub mod relationship;
pub mod setting;
pub mod user;
pub mod xpm_connection;
