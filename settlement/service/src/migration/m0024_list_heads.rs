//! Each inpatient list's head beside it in the ledger: the list without its fee lines
//! (`list_head_json`) and what the lines add up to per charge category (`line_totals_json`),
//! which StreamCases sends instead of the whole list when asked `without_fee_lines`.
//!
//! Both are NULL for ambulatory records and for the lists stored before this migration: it does
//! not rewrite the ledger (a province's years are millions of rows), and a stream computes the
//! head of such a list from its stored document instead (`internal::streamed_head`).

use sea_orm_migration::prelude::*;

pub struct ListHeads;

impl MigrationName for ListHeads {
    fn name(&self) -> &str {
        "m0024_list_heads"
    }
}

#[derive(DeriveIden)]
enum SettlementCase {
    Table,
    ListHeadJson,
    LineTotalsJson,
}

#[async_trait::async_trait]
impl MigrationTrait for ListHeads {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(SettlementCase::ListHeadJson)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(SettlementCase::LineTotalsJson)
                .text()
                .null()
                .to_owned(),
        ] {
            // One column per statement: SQLite alters one at a time.
            manager
                .alter_table(
                    Table::alter()
                        .table(SettlementCase::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [SettlementCase::LineTotalsJson, SettlementCase::ListHeadJson] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SettlementCase::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
