//! The local structure model: organisations, groups, entities, memberships, relationships and
//! the audit trail (product-spec §2–§4).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Group {
    Table,
    Id,
    OrganisationId,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Entity {
    Table,
    Id,
    OrganisationId,
    Kind,
    TrustType,
    Name,
    FirstName,
    MiddleName,
    LastName,
    OtherName,
    DateOfBirth,
    DateOfDeath,
    Abn,
    Acn,
    TfnSealed,
    TfnLast3,
    Email,
    Phone,
    Address,
    PostalAddress,
    Status,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupMember {
    Table,
    Id,
    GroupId,
    EntityId,
    JoinDate,
    ExitDate,
}

#[derive(DeriveIden)]
enum Relationship {
    Table,
    Id,
    OrganisationId,
    Kind,
    FromEntityId,
    ToEntityId,
    Shares,
    ShareClass,
    Percentage,
    StartDate,
    EndDate,
    Label,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    OrganisationId,
    At,
    Action,
    Subject,
    SubjectId,
    Detail,
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
                    .table(Organisation::Table)
                    .col(pk_auto(Organisation::Id))
                    .col(string(Organisation::Name))
                    .col(timestamp_with_time_zone(Organisation::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Group::Table)
                    .col(pk_auto(Group::Id))
                    .col(integer(Group::OrganisationId))
                    .col(string(Group::Name))
                    .col(timestamp_with_time_zone(Group::CreatedAt))
                    .col(timestamp_with_time_zone(Group::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_group_organisation",
                        (Group::Table, Group::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_group_organisation_name")
                    .table(Group::Table)
                    .col(Group::OrganisationId)
                    .col(Group::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Entity::Table)
                    .col(pk_auto(Entity::Id))
                    .col(integer(Entity::OrganisationId))
                    .col(string(Entity::Kind))
                    .col(string_null(Entity::TrustType))
                    .col(string(Entity::Name))
                    .col(string_null(Entity::FirstName))
                    .col(string_null(Entity::MiddleName))
                    .col(string_null(Entity::LastName))
                    .col(string_null(Entity::OtherName))
                    .col(date_null(Entity::DateOfBirth))
                    .col(date_null(Entity::DateOfDeath))
                    .col(string_null(Entity::Abn))
                    .col(string_null(Entity::Acn))
                    .col(string_null(Entity::TfnSealed))
                    .col(string_null(Entity::TfnLast3))
                    .col(string_null(Entity::Email))
                    .col(string_null(Entity::Phone))
                    .col(text_null(Entity::Address))
                    .col(text_null(Entity::PostalAddress))
                    .col(string(Entity::Status))
                    .col(text_null(Entity::Notes))
                    .col(timestamp_with_time_zone(Entity::CreatedAt))
                    .col(timestamp_with_time_zone(Entity::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_entity_organisation",
                        (Entity::Table, Entity::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_entity_organisation_name")
                    .table(Entity::Table)
                    .col(Entity::OrganisationId)
                    .col(Entity::Name)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GroupMember::Table)
                    .col(pk_auto(GroupMember::Id))
                    .col(integer(GroupMember::GroupId))
                    .col(integer(GroupMember::EntityId))
                    .col(date_null(GroupMember::JoinDate))
                    .col(date_null(GroupMember::ExitDate))
                    .foreign_key(&mut fk(
                        "fk_group_member_group",
                        (GroupMember::Table, GroupMember::GroupId),
                        (Group::Table, Group::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_group_member_entity",
                        (GroupMember::Table, GroupMember::EntityId),
                        (Entity::Table, Entity::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_group_member_group_entity")
                    .table(GroupMember::Table)
                    .col(GroupMember::GroupId)
                    .col(GroupMember::EntityId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_group_member_entity")
                    .table(GroupMember::Table)
                    .col(GroupMember::EntityId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Relationship::Table)
                    .col(pk_auto(Relationship::Id))
                    .col(integer(Relationship::OrganisationId))
                    .col(string(Relationship::Kind))
                    .col(integer(Relationship::FromEntityId))
                    .col(integer(Relationship::ToEntityId))
                    .col(big_integer_null(Relationship::Shares))
                    .col(string_null(Relationship::ShareClass))
                    .col(double_null(Relationship::Percentage))
                    .col(date_null(Relationship::StartDate))
                    .col(date_null(Relationship::EndDate))
                    .col(string_null(Relationship::Label))
                    .col(timestamp_with_time_zone(Relationship::CreatedAt))
                    .col(timestamp_with_time_zone(Relationship::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_relationship_organisation",
                        (Relationship::Table, Relationship::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_relationship_from",
                        (Relationship::Table, Relationship::FromEntityId),
                        (Entity::Table, Entity::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_relationship_to",
                        (Relationship::Table, Relationship::ToEntityId),
                        (Entity::Table, Entity::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_relationship_from", Relationship::FromEntityId),
            ("ix_relationship_to", Relationship::ToEntityId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Relationship::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(pk_auto(AuditEvent::Id))
                    .col(integer(AuditEvent::OrganisationId))
                    .col(timestamp_with_time_zone(AuditEvent::At))
                    .col(string(AuditEvent::Action))
                    .col(string(AuditEvent::Subject))
                    .col(integer_null(AuditEvent::SubjectId))
                    .col(text_null(AuditEvent::Detail))
                    .foreign_key(&mut fk(
                        "fk_audit_event_organisation",
                        (AuditEvent::Table, AuditEvent::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvent::Table.into_iden(),
            Relationship::Table.into_iden(),
            GroupMember::Table.into_iden(),
            Entity::Table.into_iden(),
            Group::Table.into_iden(),
            Organisation::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
