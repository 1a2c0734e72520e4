//! Closed months: once a region's month and fund is closed, its cases are frozen.

use sea_orm_migration::prelude::*;

pub struct ClosedMonths;

impl MigrationName for ClosedMonths {
    fn name(&self) -> &str {
        "m0003_closed_months"
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
impl MigrationTrait for ClosedMonths {
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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementClosedMonth::Table).to_owned())
            .await
    }
}
