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
pub mod reconcile_decision;
pub mod reconcile_plan;
pub mod relationship;
pub mod review_item;
pub mod setting;
pub mod sync_run;
pub mod user;
pub mod xpm_bulk_item;
pub mod xpm_bulk_queue;
pub mod xpm_client_map;
pub mod xpm_connection;
pub mod xpm_group;
pub mod xpm_group_link;
pub mod xpm_relationship_map;
pub mod xpm_structure_rule;
