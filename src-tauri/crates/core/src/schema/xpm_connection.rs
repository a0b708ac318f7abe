//! `xpm_connection`: an organisation's Xero connection — the XPM tenant, its status
//! (`connected` | `needsReconnect` | `disconnected`), when and by whom it was connected, and
//! when the refresh token was last rotated. Never a token: those live in the vault.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpm_connection")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub organisation_id: i32,
    pub tenant_id: String,
    pub tenant_name: String,
    pub status: crate::xero::LinkState,
    pub connected_at: DateTimeUtc,
    pub connected_by_user_id: Option<i32>,
    pub refresh_token_issued_at: Option<DateTimeUtc>,
    pub disconnected_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
