//! Push to XPM (issue 9): `xpm_client_map.xpm_values`, the client's values as XPM last showed
//! them (after a pull or a push), in StructureGram's terms, as JSON. A push compares an entity
//! with it to know, without a call, which fields changed here since the last sync, so a dry run
//! can list them and an unchanged entity costs no call. `NULL` = not known yet (the push reads
//! the client first).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum XpmClientMap {
    Table,
    XpmValues,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(XpmClientMap::Table)
                    .add_column(text_null(XpmClientMap::XpmValues))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(XpmClientMap::Table)
                    .drop_column(XpmClientMap::XpmValues)
                    .to_owned(),
            )
            .await
    }
}
