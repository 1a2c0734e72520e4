//! Supervision tables, with the context's own migration table.

use platform::distribution::{DistributionInKeys, KeyedTable, REGION, RegionFromOwner};
use sea_orm_migration::prelude::*;

mod m0004_rule_changes;
mod m0005_assessment_credit_leads;
mod m0006_credit_policy;
mod m0007_finding_run_key;

pub use m0007_finding_run_key::REVIEWED;

/// The distributed tables whose keys did not name their distribution column (m0008; PostgreSQL only).
const DISTRIBUTED: &[KeyedTable] = &[
    KeyedTable {
        distribution_column: REGION,
        table: "supervision_credit_change",
        primary_key: &["seq"],
        unique_indexes: &[],
    },
    KeyedTable {
        distribution_column: REGION,
        table: "supervision_level_change",
        primary_key: &["seq"],
        unique_indexes: &[],
    },
    KeyedTable {
        distribution_column: REGION,
        table: "supervision_lead",
        primary_key: &["lead_id"],
        unique_indexes: &[],
    },
    KeyedTable {
        distribution_column: REGION,
        table: "supervision_rule_parameters",
        primary_key: &["seq"],
        unique_indexes: &[],
    },
    KeyedTable::audit_log("supervision_audit"),
];

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateScreeningRule),
            Box::new(CreateRunsAndFindings),
            Box::new(FindingFundAndCaseRegion),
            Box::new(m0004_rule_changes::RuleChangesAndResponses),
            Box::new(m0005_assessment_credit_leads::AssessmentCreditLeads),
            Box::new(m0006_credit_policy::CreditPolicy),
            Box::new(m0007_finding_run_key::FindingRunKey),
            Box::new(DistributionInKeys {
                name: "m0008_distribution_keys",
                tables: DISTRIBUTED,
            }),
            // A lead's links carry the lead's region, so they are distributed with it.
            Box::new(RegionFromOwner {
                name: "m0009_lead_link_region",
                table: "supervision_lead_link",
                primary_key: &["lead_id", "finding_id"],
                owner: "supervision_lead",
                owner_key: "lead_id",
            }),
        ]
    }

    fn migration_table_name() -> DynIden {
        "supervision_migrations".into_iden()
    }
}

struct CreateScreeningRule;

impl MigrationName for CreateScreeningRule {
    fn name(&self) -> &str {
        "m0001_create_screening_rule"
    }
}

#[derive(DeriveIden)]
enum SupervisionRule {
    Table,
    RegionCode,
    RuleId,
    Name,
    Level,
    ParametersJson,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateScreeningRule {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupervisionRule::Table)
                    .col(
                        ColumnDef::new(SupervisionRule::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisionRule::RuleId).string().not_null())
                    .col(ColumnDef::new(SupervisionRule::Name).string().not_null())
                    .col(ColumnDef::new(SupervisionRule::Level).string().not_null())
                    .col(
                        ColumnDef::new(SupervisionRule::ParametersJson)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SupervisionRule::RegionCode)
                            .col(SupervisionRule::RuleId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SupervisionRule::Table).to_owned())
            .await
    }
}

/// Screening runs, their findings, and the context's journal of idempotent writes.
struct CreateRunsAndFindings;

impl MigrationName for CreateRunsAndFindings {
    fn name(&self) -> &str {
        "m0002_create_runs_and_findings"
    }
}

#[derive(DeriveIden)]
enum SupervisionRun {
    Table,
    RegionCode,
    Period,
    Version,
    RequestId,
    CallerId,
    Cases,
    Findings,
    PolicyJson,
}

#[derive(DeriveIden)]
enum SupervisionFinding {
    Table,
    FindingId,
    RegionCode,
    Period,
    RunVersion,
    Seq,
    RuleNumber,
    RuleId,
    Level,
    HospitalCode,
    ListId,
    Arm,
    ItemCode,
    Date,
    OtherHospitalCode,
    OtherListId,
    FeeLines,
    EvidenceJson,
    AmountFen,
    Status,
    Reviewer,
    ReviewReason,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRunsAndFindings {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupervisionRun::Table)
                    .col(
                        ColumnDef::new(SupervisionRun::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisionRun::Period).integer().not_null())
                    .col(ColumnDef::new(SupervisionRun::Version).integer().not_null())
                    .col(
                        ColumnDef::new(SupervisionRun::RequestId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisionRun::CallerId).string().not_null())
                    .col(ColumnDef::new(SupervisionRun::Cases).integer().not_null())
                    .col(
                        ColumnDef::new(SupervisionRun::Findings)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisionRun::PolicyJson).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(SupervisionRun::RegionCode)
                            .col(SupervisionRun::Period)
                            .col(SupervisionRun::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SupervisionFinding::Table)
                    .col(
                        ColumnDef::new(SupervisionFinding::FindingId)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::Period)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::RunVersion)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisionFinding::Seq).integer().not_null())
                    .col(
                        ColumnDef::new(SupervisionFinding::RuleNumber)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::RuleId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::Level)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::HospitalCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::ListId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisionFinding::Arm).string().not_null())
                    .col(
                        ColumnDef::new(SupervisionFinding::ItemCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::Date)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::OtherHospitalCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::OtherListId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::FeeLines)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::EvidenceJson)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::AmountFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::Status)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::Reviewer)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SupervisionFinding::ReviewReason)
                            .text()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("supervision_finding_run")
                    .table(SupervisionFinding::Table)
                    .col(SupervisionFinding::RegionCode)
                    .col(SupervisionFinding::Period)
                    .col(SupervisionFinding::RunVersion)
                    .col(SupervisionFinding::Seq)
                    .to_owned(),
            )
            .await?;
        platform::journal::migration::create_tables(manager, "supervision").await?;
        platform::journal::migration::add_fingerprint_and_region(manager, "supervision").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::journal::migration::drop_tables(manager, "supervision").await?;
        manager
            .drop_table(Table::drop().table(SupervisionFinding::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SupervisionRun::Table).to_owned())
            .await
    }
}

/// The fund and region of the case each finding is on, which deductions are read by (a run of a
/// prefecture finds violations on its counties' cases). Findings stored before keep fund 0 (none)
/// and the run's region: they deduct nothing until the month is screened again.
struct FindingFundAndCaseRegion;

impl MigrationName for FindingFundAndCaseRegion {
    fn name(&self) -> &str {
        "m0003_finding_fund_and_case_region"
    }
}

#[derive(DeriveIden)]
enum FindingCase {
    #[sea_orm(iden = "supervision_finding")]
    Table,
    RegionCode,
    Period,
    Status,
    FundType,
    CaseRegionCode,
}

#[async_trait::async_trait]
impl MigrationTrait for FindingFundAndCaseRegion {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [FindingCase::FundType, FindingCase::CaseRegionCode] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FindingCase::Table)
                        .add_column(ColumnDef::new(column).integer().not_null().default(0))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .exec_stmt(
                Query::update()
                    .table(FindingCase::Table)
                    .value(
                        FindingCase::CaseRegionCode,
                        Expr::col(FindingCase::RegionCode),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("supervision_finding_deductions")
                    .table(FindingCase::Table)
                    .col(FindingCase::Status)
                    .col(FindingCase::FundType)
                    .col(FindingCase::CaseRegionCode)
                    .col(FindingCase::Period)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("supervision_finding_deductions")
                    .table(FindingCase::Table)
                    .to_owned(),
            )
            .await?;
        for column in [FindingCase::FundType, FindingCase::CaseRegionCode] {
            manager
                .alter_table(
                    Table::alter()
                        .table(FindingCase::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
