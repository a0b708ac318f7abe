//! Accounts (issue 5): wrong passwords are throttled like wrong two-factor codes —
//! `user.sign_in_failed_attempts` (wrong passwords in a row) and `user.sign_in_locked_until`
//! (no password is checked before it; `NULL` = not locked). Two statements, because SQLite
//! alters one column at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum User {
    Table,
    SignInFailedAttempts,
    SignInLockedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(User::Table)
                    .add_column(integer(User::SignInFailedAttempts).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(User::Table)
                    .add_column(timestamp_with_time_zone_null(User::SignInLockedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(User::Table)
                    .drop_column(User::SignInLockedUntil)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(User::Table)
                    .drop_column(User::SignInFailedAttempts)
                    .to_owned(),
            )
            .await
    }
}
