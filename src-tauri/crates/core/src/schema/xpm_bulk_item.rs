//! `xpm_bulk_item`: one group in a tenant's bulk-sync queue (unique on `group_id`): `state` is
//! `queued`, `done` or `failed`; the calls its pull made, its run and its last error (issue 11).
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpm_bulk_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub tenant_id: String,
    pub group_id: i32,
    pub state: String,
    pub queued_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub calls: i32,
    pub run_id: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
