//! Closed months (once a region's month and fund is closed, its cases are frozen) and the
//! journal of idempotent, audited writes.

use sea_orm_migration::prelude::*;

pub struct MonthsAndJournal;

impl MigrationName for MonthsAndJournal {
    fn name(&self) -> &str {
        "m0003_months_and_journal"
    }
}

#[derive(DeriveIden)]
enum SettlementClosedMonth {
    Table,
    RegionCode,
    FundType,
    YearMonth,
    RunId,
    ClosedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for MonthsAndJournal {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SettlementClosedMonth::Table)
                    .col(
                        ColumnDef::new(SettlementClosedMonth::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementClosedMonth::FundType)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementClosedMonth::YearMonth)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementClosedMonth::RunId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementClosedMonth::ClosedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SettlementClosedMonth::RegionCode)
                            .col(SettlementClosedMonth::FundType)
                            .col(SettlementClosedMonth::YearMonth),
                    )
                    .to_owned(),
            )
            .await?;
        platform::journal::migration::create_tables(manager, "settlement").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        platform::journal::migration::drop_tables(manager, "settlement").await?;
        manager
            .drop_table(Table::drop().table(SettlementClosedMonth::Table).to_owned())
            .await
    }
}
