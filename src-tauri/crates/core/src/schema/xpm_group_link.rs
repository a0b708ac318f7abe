//! `xpm_group_link`: a StructureGram group linked one-to-one to an XPM client group (unique on
//! `group_id` and on `(organisation, tenant, xpm_uuid)`).
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpm_group_link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub group_id: i32,
    pub tenant_id: String,
    pub xpm_uuid: String,
    pub linked_at: DateTimeUtc,
    pub last_pull_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
