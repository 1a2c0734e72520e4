//! Grouping registry tables, with the context's own migration table.

use sea_orm_migration::prelude::*;

/// The audit log, distributed with its caller's journal: its key gains `caller_id` (PostgreSQL only).
const DISTRIBUTED: &[platform::distribution::KeyedTable] =
    &[platform::distribution::KeyedTable::audit_log(
        "grouping_audit",
    )];

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateRegistry),
            Box::new(CreateSchemesAuditRequests),
            Box::new(platform::journal::migration::AddFingerprintAndRegion {
                context: "grouping",
                name: "m0003_journal_fingerprints",
            }),
            Box::new(platform::distribution::DistributionInKeys {
                name: "m0004_distribution_keys",
                tables: DISTRIBUTED,
            }),
        ]
    }

    fn migration_table_name() -> DynIden {
        "grouping_migrations".into_iden()
    }
}

struct CreateRegistry;

impl MigrationName for CreateRegistry {
    fn name(&self) -> &str {
        "m0001_create_registry"
    }
}

#[derive(DeriveIden)]
enum GroupingActivation {
    Table,
    RegionCode,
    EffectiveFrom,
    SchemeId,
    Version,
    ActivatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRegistry {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GroupingActivation::Table)
                    .col(
                        ColumnDef::new(GroupingActivation::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupingActivation::EffectiveFrom)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupingActivation::SchemeId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupingActivation::Version)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GroupingActivation::ActivatedBy)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(GroupingActivation::RegionCode)
                            .col(GroupingActivation::EffectiveFrom),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GroupingActivation::Table).to_owned())
            .await
    }
}

struct CreateSchemesAuditRequests;

impl MigrationName for CreateSchemesAuditRequests {
    fn name(&self) -> &str {
        "m0002_create_schemes_audit_requests"
    }
}

#[derive(DeriveIden)]
enum GroupingScheme {
    Table,
    SchemeId,
    Version,
    Kind,
    Name,
    Source,
    FilesJson,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateSchemesAuditRequests {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GroupingScheme::Table)
                    .col(ColumnDef::new(GroupingScheme::SchemeId).string().not_null())
                    .col(ColumnDef::new(GroupingScheme::Version).string().not_null())
                    .col(ColumnDef::new(GroupingScheme::Kind).string().not_null())
                    .col(ColumnDef::new(GroupingScheme::Name).string().not_null())
                    .col(ColumnDef::new(GroupingScheme::Source).text().not_null())
                    .col(ColumnDef::new(GroupingScheme::FilesJson).text().null())
                    .primary_key(
                        Index::create()
                            .col(GroupingScheme::SchemeId)
                            .col(GroupingScheme::Version),
                    )
                    .to_owned(),
            )
            .await?;
        platform::journal::migration::create_tables(manager, "grouping").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GroupingScheme::Table).to_owned())
            .await?;
        platform::journal::migration::drop_tables(manager, "grouping").await
    }
}
