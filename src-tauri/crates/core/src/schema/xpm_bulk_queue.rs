//! `xpm_bulk_queue`: one bulk-sync queue per XPM tenant (unique on `(organisation, tenant)`):
//! calls made for it so far and the practice's client count as last listed (issue 11).
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpm_bulk_queue")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub tenant_id: String,
    pub practice_clients: Option<i32>,
    pub calls: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
