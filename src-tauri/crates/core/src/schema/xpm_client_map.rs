//! `xpm_client_map`: an entity mapped to an XPM client, one-to-one per organisation and tenant.
//! `values_hash` is the SHA-256 of the values last taken from XPM, so a pull updates the entity
//! only when XPM changed them. `xpm_values` is the JSON of the client's values as XPM last
//! showed them ([`crate::push`]), so a push knows what changed here without a call.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpm_client_map")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub tenant_id: String,
    pub entity_id: i32,
    pub xpm_uuid: String,
    pub xpm_name: String,
    pub business_structure: Option<String>,
    pub values_hash: Option<String>,
    pub last_seen_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub xpm_values: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
