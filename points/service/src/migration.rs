//! Points tables, with the context's own migration table.

use sea_orm_migration::prelude::*;

/// The audit log, distributed with its caller's journal: its key gains `caller_id` (PostgreSQL only).
const DISTRIBUTED: &[platform::distribution::KeyedTable] =
    &[platform::distribution::KeyedTable::audit_log(
        "points_audit",
    )];

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateValuationTable),
            Box::new(CreateAuditAndRequests),
            Box::new(platform::journal::migration::AddFingerprintAndRegion {
                context: "points",
                name: "m0003_journal_fingerprints",
            }),
            Box::new(platform::distribution::DistributionInKeys {
                name: "m0004_distribution_keys",
                tables: DISTRIBUTED,
            }),
        ]
    }

    fn migration_table_name() -> DynIden {
        "points_migrations".into_iden()
    }
}

struct CreateValuationTable;

impl MigrationName for CreateValuationTable {
    fn name(&self) -> &str {
        "m0001_create_valuation_table"
    }
}

#[derive(DeriveIden)]
enum PointsTableVersion {
    Table,
    RegionCode,
    Year,
    FundType,
    Version,
    Status,
    DocumentJson,
    EffectiveFrom,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateValuationTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PointsTableVersion::Table)
                    .col(
                        ColumnDef::new(PointsTableVersion::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::Year)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::FundType)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::Status)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::DocumentJson)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::EffectiveFrom)
                            .integer()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PointsTableVersion::RegionCode)
                            .col(PointsTableVersion::Year)
                            .col(PointsTableVersion::FundType)
                            .col(PointsTableVersion::Version),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PointsTableVersion::Table).to_owned())
            .await
    }
}

/// The audit log of table changes and the stored responses of idempotent requests.
struct CreateAuditAndRequests;

impl MigrationName for CreateAuditAndRequests {
    fn name(&self) -> &str {
        "m0002_create_audit_and_requests"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditAndRequests {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::journal::migration::create_tables(manager, "points").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::journal::migration::drop_tables(manager, "points").await
    }
}
