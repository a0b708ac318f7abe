//! Reconciliation (issue 10): `reconcile_plan`, the last preview of a linked group (its
//! difference items as JSON, so deciding an item needs no XPM call), and `reconcile_decision`,
//! the user's decision per difference item (keyed by the item's stable id, so closing the app
//! mid-review keeps them and a re-preview where the same difference remains reuses them).

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
enum ReconcilePlan {
    Table,
    Id,
    OrganisationId,
    GroupId,
    TenantId,
    Items,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReconcileDecision {
    Table,
    Id,
    OrganisationId,
    GroupId,
    ItemId,
    Decision,
    UpdatedAt,
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
                    .table(ReconcilePlan::Table)
                    .col(pk_auto(ReconcilePlan::Id))
                    .col(integer(ReconcilePlan::OrganisationId))
                    .col(integer(ReconcilePlan::GroupId))
                    .col(string(ReconcilePlan::TenantId))
                    .col(text(ReconcilePlan::Items))
                    .col(timestamp_with_time_zone(ReconcilePlan::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_reconcile_plan_organisation",
                        (ReconcilePlan::Table, ReconcilePlan::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_reconcile_plan_group",
                        (ReconcilePlan::Table, ReconcilePlan::GroupId),
                        (Group::Table, Group::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_reconcile_plan_group")
                    .table(ReconcilePlan::Table)
                    .col(ReconcilePlan::GroupId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReconcileDecision::Table)
                    .col(pk_auto(ReconcileDecision::Id))
                    .col(integer(ReconcileDecision::OrganisationId))
                    .col(integer(ReconcileDecision::GroupId))
                    .col(string(ReconcileDecision::ItemId))
                    .col(text(ReconcileDecision::Decision))
                    .col(timestamp_with_time_zone(ReconcileDecision::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_reconcile_decision_organisation",
                        (ReconcileDecision::Table, ReconcileDecision::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_reconcile_decision_group",
                        (ReconcileDecision::Table, ReconcileDecision::GroupId),
                        (Group::Table, Group::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_reconcile_decision_group_item")
                    .table(ReconcileDecision::Table)
                    .col(ReconcileDecision::GroupId)
                    .col(ReconcileDecision::ItemId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ReconcileDecision::Table.into_iden(),
            ReconcilePlan::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
