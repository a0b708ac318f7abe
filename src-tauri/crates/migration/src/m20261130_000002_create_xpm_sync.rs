//! XPM sync (issues 7 and 8): the discovery catalog of XPM client groups, one-to-one group links,
//! the maps from entities and relationships to their XPM counterparts, the organisation's
//! business-structure rules, the history of sync runs and the review items a pull leaves for
//! a person to decide.
//!
//! Every row belongs to an organisation and, where it names an XPM record, to the XPM tenant
//! (`Xero-Tenant-Id`) it came from, so reconnecting to another practice never mixes the two.
//! UUIDs are stored as lower-case hyphenated text. One-to-one rules are unique indexes here
//! *and* checks in the services (which give the user the message).

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
enum Entity {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Relationship {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum XpmGroup {
    Table,
    Id,
    OrganisationId,
    TenantId,
    XpmUuid,
    Name,
    MemberCount,
    RefreshedAt,
    MissingSince,
}

#[derive(DeriveIden)]
enum XpmGroupLink {
    Table,
    Id,
    OrganisationId,
    GroupId,
    TenantId,
    XpmUuid,
    LinkedAt,
    LastPullAt,
}

#[derive(DeriveIden)]
enum XpmClientMap {
    Table,
    Id,
    OrganisationId,
    TenantId,
    EntityId,
    XpmUuid,
    XpmName,
    BusinessStructure,
    ValuesHash,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum XpmRelationshipMap {
    Table,
    Id,
    OrganisationId,
    TenantId,
    RelationshipId,
    XpmKey,
    XpmUuids,
    ValuesHash,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum XpmStructureRule {
    Table,
    Id,
    OrganisationId,
    LabelKey,
    Label,
    Kind,
    TrustType,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SyncRun {
    Table,
    Id,
    OrganisationId,
    GroupId,
    TenantId,
    Kind,
    Status,
    StartedAt,
    FinishedAt,
    Calls,
    Summary,
    Error,
}

#[derive(DeriveIden)]
enum ReviewItem {
    Table,
    Id,
    OrganisationId,
    GroupId,
    RunId,
    ItemKey,
    Kind,
    State,
    Subject,
    Payload,
    Decision,
    CreatedAt,
    UpdatedAt,
    ResolvedAt,
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

async fn unique(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for col in cols {
        index.col(col);
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(XpmGroup::Table)
                    .col(pk_auto(XpmGroup::Id))
                    .col(integer(XpmGroup::OrganisationId))
                    .col(string(XpmGroup::TenantId))
                    .col(string(XpmGroup::XpmUuid))
                    .col(string(XpmGroup::Name))
                    .col(integer_null(XpmGroup::MemberCount))
                    .col(timestamp_with_time_zone(XpmGroup::RefreshedAt))
                    .col(timestamp_with_time_zone_null(XpmGroup::MissingSince))
                    .foreign_key(&mut fk(
                        "fk_xpm_group_organisation",
                        (XpmGroup::Table, XpmGroup::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_xpm_group_org_tenant_uuid",
            XpmGroup::Table,
            vec![
                XpmGroup::OrganisationId.into_iden(),
                XpmGroup::TenantId.into_iden(),
                XpmGroup::XpmUuid.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(XpmGroupLink::Table)
                    .col(pk_auto(XpmGroupLink::Id))
                    .col(integer(XpmGroupLink::OrganisationId))
                    .col(integer(XpmGroupLink::GroupId))
                    .col(string(XpmGroupLink::TenantId))
                    .col(string(XpmGroupLink::XpmUuid))
                    .col(timestamp_with_time_zone(XpmGroupLink::LinkedAt))
                    .col(timestamp_with_time_zone_null(XpmGroupLink::LastPullAt))
                    .foreign_key(&mut fk(
                        "fk_xpm_group_link_organisation",
                        (XpmGroupLink::Table, XpmGroupLink::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_xpm_group_link_group",
                        (XpmGroupLink::Table, XpmGroupLink::GroupId),
                        (Group::Table, Group::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_xpm_group_link_group",
            XpmGroupLink::Table,
            vec![XpmGroupLink::GroupId.into_iden()],
        )
        .await?;
        unique(
            manager,
            "ux_xpm_group_link_org_tenant_uuid",
            XpmGroupLink::Table,
            vec![
                XpmGroupLink::OrganisationId.into_iden(),
                XpmGroupLink::TenantId.into_iden(),
                XpmGroupLink::XpmUuid.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(XpmClientMap::Table)
                    .col(pk_auto(XpmClientMap::Id))
                    .col(integer(XpmClientMap::OrganisationId))
                    .col(string(XpmClientMap::TenantId))
                    .col(integer(XpmClientMap::EntityId))
                    .col(string(XpmClientMap::XpmUuid))
                    .col(string(XpmClientMap::XpmName))
                    .col(string_null(XpmClientMap::BusinessStructure))
                    .col(string_null(XpmClientMap::ValuesHash))
                    .col(timestamp_with_time_zone(XpmClientMap::LastSeenAt))
                    .foreign_key(&mut fk(
                        "fk_xpm_client_map_organisation",
                        (XpmClientMap::Table, XpmClientMap::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_xpm_client_map_entity",
                        (XpmClientMap::Table, XpmClientMap::EntityId),
                        (Entity::Table, Entity::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_xpm_client_map_entity",
            XpmClientMap::Table,
            vec![
                XpmClientMap::OrganisationId.into_iden(),
                XpmClientMap::TenantId.into_iden(),
                XpmClientMap::EntityId.into_iden(),
            ],
        )
        .await?;
        unique(
            manager,
            "ux_xpm_client_map_uuid",
            XpmClientMap::Table,
            vec![
                XpmClientMap::OrganisationId.into_iden(),
                XpmClientMap::TenantId.into_iden(),
                XpmClientMap::XpmUuid.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(XpmRelationshipMap::Table)
                    .col(pk_auto(XpmRelationshipMap::Id))
                    .col(integer(XpmRelationshipMap::OrganisationId))
                    .col(string(XpmRelationshipMap::TenantId))
                    .col(integer(XpmRelationshipMap::RelationshipId))
                    .col(string(XpmRelationshipMap::XpmKey))
                    .col(text(XpmRelationshipMap::XpmUuids))
                    .col(string_null(XpmRelationshipMap::ValuesHash))
                    .col(timestamp_with_time_zone(XpmRelationshipMap::LastSeenAt))
                    .foreign_key(&mut fk(
                        "fk_xpm_relationship_map_organisation",
                        (
                            XpmRelationshipMap::Table,
                            XpmRelationshipMap::OrganisationId,
                        ),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_xpm_relationship_map_relationship",
                        (
                            XpmRelationshipMap::Table,
                            XpmRelationshipMap::RelationshipId,
                        ),
                        (Relationship::Table, Relationship::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_xpm_relationship_map_relationship",
            XpmRelationshipMap::Table,
            vec![XpmRelationshipMap::RelationshipId.into_iden()],
        )
        .await?;
        unique(
            manager,
            "ux_xpm_relationship_map_key",
            XpmRelationshipMap::Table,
            vec![
                XpmRelationshipMap::OrganisationId.into_iden(),
                XpmRelationshipMap::TenantId.into_iden(),
                XpmRelationshipMap::XpmKey.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(XpmStructureRule::Table)
                    .col(pk_auto(XpmStructureRule::Id))
                    .col(integer(XpmStructureRule::OrganisationId))
                    .col(string(XpmStructureRule::LabelKey))
                    .col(string(XpmStructureRule::Label))
                    .col(string(XpmStructureRule::Kind))
                    .col(string_null(XpmStructureRule::TrustType))
                    .col(timestamp_with_time_zone(XpmStructureRule::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_xpm_structure_rule_organisation",
                        (XpmStructureRule::Table, XpmStructureRule::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_xpm_structure_rule_label",
            XpmStructureRule::Table,
            vec![
                XpmStructureRule::OrganisationId.into_iden(),
                XpmStructureRule::LabelKey.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SyncRun::Table)
                    .col(pk_auto(SyncRun::Id))
                    .col(integer(SyncRun::OrganisationId))
                    .col(integer_null(SyncRun::GroupId))
                    .col(string(SyncRun::TenantId))
                    .col(string(SyncRun::Kind))
                    .col(string(SyncRun::Status))
                    .col(timestamp_with_time_zone(SyncRun::StartedAt))
                    .col(timestamp_with_time_zone_null(SyncRun::FinishedAt))
                    .col(integer(SyncRun::Calls))
                    .col(text_null(SyncRun::Summary))
                    .col(text_null(SyncRun::Error))
                    .foreign_key(&mut fk(
                        "fk_sync_run_organisation",
                        (SyncRun::Table, SyncRun::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_sync_run_group",
                        (SyncRun::Table, SyncRun::GroupId),
                        (Group::Table, Group::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sync_run_org_group")
                    .table(SyncRun::Table)
                    .col(SyncRun::OrganisationId)
                    .col(SyncRun::GroupId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReviewItem::Table)
                    .col(pk_auto(ReviewItem::Id))
                    .col(integer(ReviewItem::OrganisationId))
                    .col(integer(ReviewItem::GroupId))
                    .col(integer_null(ReviewItem::RunId))
                    .col(string(ReviewItem::ItemKey))
                    .col(string(ReviewItem::Kind))
                    .col(string(ReviewItem::State))
                    .col(string(ReviewItem::Subject))
                    .col(text(ReviewItem::Payload))
                    .col(text_null(ReviewItem::Decision))
                    .col(timestamp_with_time_zone(ReviewItem::CreatedAt))
                    .col(timestamp_with_time_zone(ReviewItem::UpdatedAt))
                    .col(timestamp_with_time_zone_null(ReviewItem::ResolvedAt))
                    .foreign_key(&mut fk(
                        "fk_review_item_organisation",
                        (ReviewItem::Table, ReviewItem::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_review_item_group",
                        (ReviewItem::Table, ReviewItem::GroupId),
                        (Group::Table, Group::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_review_item_group_key",
            ReviewItem::Table,
            vec![
                ReviewItem::GroupId.into_iden(),
                ReviewItem::ItemKey.into_iden(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ReviewItem::Table.into_iden(),
            SyncRun::Table.into_iden(),
            XpmStructureRule::Table.into_iden(),
            XpmRelationshipMap::Table.into_iden(),
            XpmClientMap::Table.into_iden(),
            XpmGroupLink::Table.into_iden(),
            XpmGroup::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
