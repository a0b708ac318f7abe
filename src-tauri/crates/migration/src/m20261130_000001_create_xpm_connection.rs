//! The Xero connection of each organisation (issue 6): which XPM practice (tenant) it is
//! connected to, whether the connection works, since when, by whom, and when the refresh token
//! was last rotated (it expires 60 days after its last use, reference §5.5).
//!
//! Tokens are deliberately absent: they live in the connecting user's vault. The row outlives a
//! disconnect (status `disconnected`) so that reconnecting to the same practice resumes the
//! organisation's group links, and connecting a different one can be warned about first.

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
}

#[derive(DeriveIden)]
enum XpmConnection {
    Table,
    Id,
    OrganisationId,
    TenantId,
    TenantName,
    Status,
    ConnectedAt,
    ConnectedByUserId,
    RefreshTokenIssuedAt,
    DisconnectedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(XpmConnection::Table)
                    .col(pk_auto(XpmConnection::Id))
                    .col(integer_uniq(XpmConnection::OrganisationId))
                    .col(string(XpmConnection::TenantId))
                    .col(string(XpmConnection::TenantName))
                    .col(string(XpmConnection::Status))
                    .col(timestamp_with_time_zone(XpmConnection::ConnectedAt))
                    .col(integer_null(XpmConnection::ConnectedByUserId))
                    .col(timestamp_with_time_zone_null(
                        XpmConnection::RefreshTokenIssuedAt,
                    ))
                    .col(timestamp_with_time_zone_null(XpmConnection::DisconnectedAt))
                    .col(timestamp_with_time_zone(XpmConnection::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_xpm_connection_organisation")
                            .from(XpmConnection::Table, XpmConnection::OrganisationId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_xpm_connection_user")
                            .from(XpmConnection::Table, XpmConnection::ConnectedByUserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(XpmConnection::Table).to_owned())
            .await
    }
}
