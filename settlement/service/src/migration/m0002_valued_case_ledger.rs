//! The case ledger with valuations, current-version flag and provenance. Before this migration
//! no intake existed, so the first ledger table is necessarily empty and is replaced, not altered.

use sea_orm_migration::prelude::*;

pub struct ValuedCaseLedger;

impl MigrationName for ValuedCaseLedger {
    fn name(&self) -> &str {
        "m0002_valued_case_ledger"
    }
}

#[derive(DeriveIden)]
enum SettlementCase {
    Table,
    HospitalCode,
    ListId,
    Version,
    RegionCode,
    IsCurrent,
    RecordKind,
    FundType,
    DischargeDate,
    PaymentMode,
    GroupCode,
    PointsScaled,
    TotalFen,
    IndividualBurdenFen,
    FundFen,
    Status,
    ValuationError,
    SchemeVersion,
    TableVersion,
    ValuationJson,
    ContentHash,
    CaseJson,
    RequestId,
    StoredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for ValuedCaseLedger {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementCase::Table).to_owned())
            .await?;
        let text = |column: SettlementCase| ColumnDef::new(column).string().not_null().to_owned();
        let long_text =
            |column: SettlementCase| ColumnDef::new(column).text().not_null().to_owned();
        let integer =
            |column: SettlementCase| ColumnDef::new(column).integer().not_null().to_owned();
        let big =
            |column: SettlementCase| ColumnDef::new(column).big_integer().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(SettlementCase::Table)
                    .col(text(SettlementCase::HospitalCode))
                    .col(text(SettlementCase::ListId))
                    .col(integer(SettlementCase::Version))
                    .col(integer(SettlementCase::RegionCode))
                    .col(
                        ColumnDef::new(SettlementCase::IsCurrent)
                            .boolean()
                            .not_null(),
                    )
                    .col(text(SettlementCase::RecordKind))
                    .col(integer(SettlementCase::FundType))
                    .col(integer(SettlementCase::DischargeDate))
                    .col(text(SettlementCase::PaymentMode))
                    .col(text(SettlementCase::GroupCode))
                    .col(big(SettlementCase::PointsScaled))
                    .col(big(SettlementCase::TotalFen))
                    .col(big(SettlementCase::IndividualBurdenFen))
                    .col(big(SettlementCase::FundFen))
                    .col(text(SettlementCase::Status))
                    .col(long_text(SettlementCase::ValuationError))
                    .col(text(SettlementCase::SchemeVersion))
                    .col(text(SettlementCase::TableVersion))
                    .col(long_text(SettlementCase::ValuationJson))
                    .col(text(SettlementCase::ContentHash))
                    .col(long_text(SettlementCase::CaseJson))
                    .col(text(SettlementCase::RequestId))
                    .col(big(SettlementCase::StoredAt))
                    .primary_key(
                        Index::create()
                            .col(SettlementCase::HospitalCode)
                            .col(SettlementCase::ListId)
                            .col(SettlementCase::Version),
                    )
                    .to_owned(),
            )
            .await?;
        // Runs read the current cases of a region, fund and discharge range.
        manager
            .create_index(
                Index::create()
                    .name("settlement_case_run_scan")
                    .table(SettlementCase::Table)
                    .col(SettlementCase::RegionCode)
                    .col(SettlementCase::FundType)
                    .col(SettlementCase::DischargeDate)
                    .col(SettlementCase::IsCurrent)
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
