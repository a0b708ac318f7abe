//! StructureGram's database schema as SeaORM migrations.
//!
//! This crate owns the schema's history and nothing else: one file per change, named
//! `mYYYYMMDD_HHMMSS_verb_noun.rs`, each with `up` and `down`, listed in order in [`Migrator`].
//! Migrations are append-only — a shipped file is never edited — because desktop users keep
//! their database across upgrades and downgrades. Queries stay backend-neutral (schema builder
//! only, no raw SQL) so the same history can run on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_structure_tables;
mod m20261129_000002_create_accounts;
mod m20261130_000001_create_xpm_connection;
mod m20261130_000002_create_xpm_sync;
mod m20261130_000003_add_xpm_client_values;
mod m20261130_000004_create_reconcile;
mod m20261130_000010_create_xpm_bulk_queue;
mod m20261130_000020_add_sign_in_throttle;

/// The ordered list of every migration; run [`MigratorTrait::up`] at start-up and in DB tests.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_structure_tables::Migration),
            Box::new(m20261129_000002_create_accounts::Migration),
            Box::new(m20261130_000001_create_xpm_connection::Migration),
            Box::new(m20261130_000002_create_xpm_sync::Migration),
            Box::new(m20261130_000003_add_xpm_client_values::Migration),
            Box::new(m20261130_000004_create_reconcile::Migration),
            Box::new(m20261130_000010_create_xpm_bulk_queue::Migration),
            Box::new(m20261130_000020_add_sign_in_throttle::Migration),
        ]
    }
}
