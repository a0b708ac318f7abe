//! `review_item`: something a pull could not decide alone (product-spec §8.4, §8.13), unique per
//! group by `item_key` so a re-pull updates the item instead of adding another. `payload` and
//! `decision` are JSON ([`crate::review`]).
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "review_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub group_id: i32,
    pub run_id: Option<i32>,
    pub item_key: String,
    pub kind: String,
    pub state: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
