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

#[derive(DeriveIden)]
enum SettlementRequest {
    Table,
    CallerId,
    RequestId,
    Method,
    Response,
}

#[derive(DeriveIden)]
enum SettlementAudit {
    Table,
    Id,
    AtUnixSeconds,
    CallerId,
    Action,
    Detail,
    RequestId,
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
        manager
            .create_table(
                Table::create()
                    .table(SettlementRequest::Table)
                    .col(
                        ColumnDef::new(SettlementRequest::CallerId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementRequest::RequestId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementRequest::Method)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementRequest::Response)
                            .binary()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SettlementRequest::CallerId)
                            .col(SettlementRequest::RequestId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SettlementAudit::Table)
                    .col(
                        ColumnDef::new(SettlementAudit::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SettlementAudit::AtUnixSeconds)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementAudit::CallerId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementAudit::Action).string().not_null())
                    .col(ColumnDef::new(SettlementAudit::Detail).text().not_null())
                    .col(
                        ColumnDef::new(SettlementAudit::RequestId)
                            .string()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementAudit::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SettlementRequest::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SettlementClosedMonth::Table).to_owned())
            .await
    }
}
