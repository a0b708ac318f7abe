//! `user`: a local account — argon2id password hash (PHC string), the salt of its vault key,
//! two-factor state, the integration-MFA flag and the wrong-password throttle. Never a secret: TOTP secrets and recovery
//! codes live in the user's vault.
#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub username: String,
    pub password_hash: String,
    pub vault_salt: String,
    pub mfa_enrolled: bool,
    pub mfa_last_step: Option<i64>,
    pub mfa_failed_attempts: i32,
    pub mfa_locked_until: Option<DateTimeUtc>,
    pub integration_mfa: bool,
    pub sign_in_failed_attempts: i32,
    pub sign_in_locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
