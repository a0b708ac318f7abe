//! `xpm_group`: the discovery catalog, one row per XPM client group seen in a tenant
//! (`clientgroup.api/list`, xpm-api.md §2.3). `missing_since` is set when a linked group no
//! longer appears in XPM (unlinked groups that disappear are dropped).
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpm_group")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub tenant_id: String,
    pub xpm_uuid: String,
    pub name: String,
    pub member_count: Option<i32>,
    pub refreshed_at: DateTimeUtc,
    pub missing_since: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
