//! Bulk sync (issue 11): the persisted queue of groups to pull, one queue per XPM tenant, so a
//! run stopped by XPM's day limit, a closed window or a crash resumes where it stopped.
//!
//! `xpm_bulk_queue` holds the tenant's queue totals (calls made, the practice's client count as
//! last listed, which the scheduler's cost model reads); `xpm_bulk_item` one row per queued
//! group (unique per group: queueing it again re-opens the row) with its state (`queued`,
//! `done`, `failed`), the calls its pull made, its run and its last error.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Group {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum XpmBulkQueue {
    Table,
    Id,
    OrganisationId,
    TenantId,
    PracticeClients,
    Calls,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum XpmBulkItem {
    Table,
    Id,
    OrganisationId,
    TenantId,
    GroupId,
    State,
    QueuedAt,
    FinishedAt,
    Calls,
    RunId,
    Error,
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
                    .table(XpmBulkQueue::Table)
                    .col(pk_auto(XpmBulkQueue::Id))
                    .col(integer(XpmBulkQueue::OrganisationId))
                    .col(string(XpmBulkQueue::TenantId))
                    .col(integer_null(XpmBulkQueue::PracticeClients))
                    .col(integer(XpmBulkQueue::Calls).default(0))
                    .col(timestamp_with_time_zone(XpmBulkQueue::CreatedAt))
                    .col(timestamp_with_time_zone(XpmBulkQueue::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_xpm_bulk_queue_organisation",
                        (XpmBulkQueue::Table, XpmBulkQueue::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_xpm_bulk_queue_org_tenant")
                    .table(XpmBulkQueue::Table)
                    .col(XpmBulkQueue::OrganisationId)
                    .col(XpmBulkQueue::TenantId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(XpmBulkItem::Table)
                    .col(pk_auto(XpmBulkItem::Id))
                    .col(integer(XpmBulkItem::OrganisationId))
                    .col(string(XpmBulkItem::TenantId))
                    .col(integer(XpmBulkItem::GroupId))
                    .col(string(XpmBulkItem::State))
                    .col(timestamp_with_time_zone(XpmBulkItem::QueuedAt))
                    .col(timestamp_with_time_zone_null(XpmBulkItem::FinishedAt))
                    .col(integer(XpmBulkItem::Calls).default(0))
                    .col(integer_null(XpmBulkItem::RunId))
                    .col(text_null(XpmBulkItem::Error))
                    .foreign_key(&mut fk(
                        "fk_xpm_bulk_item_organisation",
                        (XpmBulkItem::Table, XpmBulkItem::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_xpm_bulk_item_group",
                        (XpmBulkItem::Table, XpmBulkItem::GroupId),
                        (Group::Table, Group::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_xpm_bulk_item_group")
                    .table(XpmBulkItem::Table)
                    .col(XpmBulkItem::GroupId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_xpm_bulk_item_org_tenant_state")
                    .table(XpmBulkItem::Table)
                    .col(XpmBulkItem::OrganisationId)
                    .col(XpmBulkItem::TenantId)
                    .col(XpmBulkItem::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(XpmBulkItem::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(XpmBulkQueue::Table).to_owned())
            .await
    }
}
