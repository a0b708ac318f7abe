//! Local accounts (issue 5): users with their argon2id password hash, two-factor state and
//! integration-MFA flag, memberships of organisations, and device-wide settings (the active
//! organisation).
//!
//! Secrets are deliberately absent: TOTP secrets, recovery codes and Xero tokens live in each
//! user's Stronghold vault, never in the database. The user row keeps only the vault's salt,
//! which is not secret.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
    Username,
    PasswordHash,
    VaultSalt,
    MfaEnrolled,
    MfaLastStep,
    MfaFailedAttempts,
    MfaLockedUntil,
    IntegrationMfa,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    Id,
    UserId,
    OrganisationId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Setting {
    Table,
    Key,
    Value,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(User::Table)
                    .col(pk_auto(User::Id))
                    .col(string_uniq(User::Username))
                    .col(string(User::PasswordHash))
                    .col(string(User::VaultSalt))
                    .col(boolean(User::MfaEnrolled).default(false))
                    .col(big_integer_null(User::MfaLastStep))
                    .col(integer(User::MfaFailedAttempts).default(0))
                    .col(timestamp_with_time_zone_null(User::MfaLockedUntil))
                    .col(boolean(User::IntegrationMfa).default(false))
                    .col(timestamp_with_time_zone(User::CreatedAt))
                    .col(timestamp_with_time_zone(User::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .col(pk_auto(Membership::Id))
                    .col(integer(Membership::UserId))
                    .col(integer(Membership::OrganisationId))
                    .col(string(Membership::Role))
                    .col(timestamp_with_time_zone(Membership::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_membership_user",
                        (Membership::Table, Membership::UserId),
                        (User::Table, User::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_membership_organisation",
                        (Membership::Table, Membership::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_membership_user_organisation")
                    .table(Membership::Table)
                    .col(Membership::UserId)
                    .col(Membership::OrganisationId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Setting::Table)
                    .col(string(Setting::Key).primary_key())
                    .col(string(Setting::Value))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Setting::Table.into_iden(),
            Membership::Table.into_iden(),
            User::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
