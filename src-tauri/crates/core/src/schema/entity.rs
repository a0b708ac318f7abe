//! `entity`: an individual, company, trust, partnership or SMSF (product-spec §3).
//!
//! The TFN is never stored in clear: `tfn_sealed` holds the sealed value
//! ([`crate::tfn::TfnCipher`]) and `tfn_last3` the three digits the UI may show.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "entity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    pub kind: crate::model::EntityKind,
    pub trust_type: Option<crate::model::TrustType>,
    pub name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub other_name: Option<String>,
    pub date_of_birth: Option<Date>,
    pub date_of_death: Option<Date>,
    pub abn: Option<String>,
    pub acn: Option<String>,
    pub tfn_sealed: Option<String>,
    pub tfn_last3: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub address: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub postal_address: Option<String>,
    pub status: crate::model::EntityStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
