//! `relationship`: a directed, dated link from one entity to another (product-spec §4).
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "relationship")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub kind: crate::model::RelationshipKind,
    pub from_entity_id: i32,
    pub to_entity_id: i32,
    pub shares: Option<i64>,
    pub share_class: Option<String>,
    #[sea_orm(column_type = "Double", nullable)]
    pub percentage: Option<f64>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub label: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
