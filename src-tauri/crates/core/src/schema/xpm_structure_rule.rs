//! `xpm_structure_rule`: the organisation's rule for a custom XPM business structure
//! (product-spec §8.6): label (matched case-insensitively through `label_key`) → entity kind and,
//! for trusts, trust type.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpm_structure_rule")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub label_key: String,
    pub label: String,
    pub kind: crate::model::EntityKind,
    pub trust_type: Option<crate::model::TrustType>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
