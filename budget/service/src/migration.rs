//! Budget tables. The context keeps its own migration table so contexts migrate independently.

use sea_orm_migration::prelude::*;

/// The audit log, distributed with its caller's journal: its key gains `caller_id` (PostgreSQL only).
const DISTRIBUTED: &[platform::distribution::KeyedTable] =
    &[platform::distribution::KeyedTable::audit_log(
        "budget_audit",
    )];

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateBudgetVersion),
            Box::new(CreateRequestsAuditPolicies),
            Box::new(CreateAllocation),
            Box::new(platform::journal::migration::AddFingerprintAndRegion {
                context: "budget",
                name: "m0004_journal_fingerprints",
            }),
            Box::new(platform::distribution::DistributionInKeys {
                name: "m0005_distribution_keys",
                tables: DISTRIBUTED,
            }),
        ]
    }

    fn migration_table_name() -> DynIden {
        "budget_migrations".into_iden()
    }
}

struct CreateBudgetVersion;

impl MigrationName for CreateBudgetVersion {
    fn name(&self) -> &str {
        "m0001_create_budget_version"
    }
}

#[derive(DeriveIden)]
enum BudgetVersion {
    Table,
    RegionCode,
    Year,
    FundType,
    Version,
    Mode,
    TotalFen,
    DocumentJson,
    Reason,
    CreatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateBudgetVersion {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BudgetVersion::Table)
                    .col(
                        ColumnDef::new(BudgetVersion::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BudgetVersion::Year).integer().not_null())
                    .col(ColumnDef::new(BudgetVersion::FundType).integer().not_null())
                    .col(ColumnDef::new(BudgetVersion::Version).integer().not_null())
                    .col(ColumnDef::new(BudgetVersion::Mode).string().not_null())
                    .col(
                        ColumnDef::new(BudgetVersion::TotalFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetVersion::DocumentJson)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BudgetVersion::Reason).text().not_null())
                    .col(ColumnDef::new(BudgetVersion::CreatedBy).string().not_null())
                    .primary_key(
                        Index::create()
                            .col(BudgetVersion::RegionCode)
                            .col(BudgetVersion::Year)
                            .col(BudgetVersion::FundType)
                            .col(BudgetVersion::Version),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BudgetVersion::Table).to_owned())
            .await
    }
}

/// Idempotency records, the audit trail of writes, and sharing policies per region and year.
struct CreateRequestsAuditPolicies;

impl MigrationName for CreateRequestsAuditPolicies {
    fn name(&self) -> &str {
        "m0002_create_request_audit_sharing_policy"
    }
}

#[derive(DeriveIden)]
enum BudgetSharingPolicy {
    Table,
    RegionCode,
    Year,
    PolicyJson,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRequestsAuditPolicies {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::journal::migration::create_tables(manager, "budget").await?;
        manager
            .create_table(
                Table::create()
                    .table(BudgetSharingPolicy::Table)
                    .col(
                        ColumnDef::new(BudgetSharingPolicy::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetSharingPolicy::Year)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetSharingPolicy::PolicyJson)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetSharingPolicy::UpdatedBy)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(BudgetSharingPolicy::RegionCode)
                            .col(BudgetSharingPolicy::Year),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BudgetSharingPolicy::Table).to_owned())
            .await?;
        platform::journal::migration::drop_tables(manager, "budget").await
    }
}

/// Allocated caps: one row per hospital or medical alliance and block of a budget.
struct CreateAllocation;

impl MigrationName for CreateAllocation {
    fn name(&self) -> &str {
        "m0003_create_allocation"
    }
}

#[derive(DeriveIden)]
enum BudgetAllocation {
    Table,
    RegionCode,
    Year,
    FundType,
    Block,
    UnitCode,
    BudgetVersion,
    MembersJson,
    AmountFen,
    QuotaProfileJson,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAllocation {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BudgetAllocation::Table)
                    .col(
                        ColumnDef::new(BudgetAllocation::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BudgetAllocation::Year).integer().not_null())
                    .col(
                        ColumnDef::new(BudgetAllocation::FundType)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BudgetAllocation::Block).string().not_null())
                    .col(
                        ColumnDef::new(BudgetAllocation::UnitCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetAllocation::BudgetVersion)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetAllocation::MembersJson)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetAllocation::AmountFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetAllocation::QuotaProfileJson)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(BudgetAllocation::RegionCode)
                            .col(BudgetAllocation::Year)
                            .col(BudgetAllocation::FundType)
                            .col(BudgetAllocation::Block)
                            .col(BudgetAllocation::UnitCode),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BudgetAllocation::Table).to_owned())
            .await
    }
}
