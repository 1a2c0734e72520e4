//! The first case ledger (superseded by m0002, kept so existing databases migrate forward).

use sea_orm_migration::prelude::*;

pub struct CreateCaseLedger;

impl MigrationName for CreateCaseLedger {
    fn name(&self) -> &str {
        "m0001_create_case_ledger"
    }
}

#[derive(DeriveIden)]
enum SettlementCase {
    Table,
    RegionCode,
    HospitalCode,
    ListId,
    Version,
    FundType,
    DischargeDate,
    GroupCode,
    PointsScaled,
    TotalFen,
    Status,
    ContentHash,
    CaseJson,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateCaseLedger {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SettlementCase::Table)
                    .col(
                        ColumnDef::new(SettlementCase::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementCase::HospitalCode)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementCase::ListId).string().not_null())
                    .col(ColumnDef::new(SettlementCase::Version).integer().not_null())
                    .col(
                        ColumnDef::new(SettlementCase::FundType)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementCase::DischargeDate)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementCase::GroupCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementCase::PointsScaled)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementCase::TotalFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementCase::Status).string().not_null())
                    .col(
                        ColumnDef::new(SettlementCase::ContentHash)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementCase::CaseJson).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(SettlementCase::HospitalCode)
                            .col(SettlementCase::ListId)
                            .col(SettlementCase::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("settlement_case_region_discharge")
                    .table(SettlementCase::Table)
                    .col(SettlementCase::RegionCode)
                    .col(SettlementCase::DischargeDate)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementCase::Table).to_owned())
            .await
    }
}
