//! `xpm_relationship_map`: a relationship mapped to the XPM relationship it came from. XPM shows
//! one relationship on both clients (xpm-api.md §2.2), so the key is the merged fact
//! (`from client|type|to client`) and `xpm_uuids` lists the sides' UUIDs, comma-separated.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpm_relationship_map")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub tenant_id: String,
    pub relationship_id: i32,
    pub xpm_key: String,
    #[sea_orm(column_type = "Text")]
    pub xpm_uuids: String,
    pub values_hash: Option<String>,
    pub last_seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
