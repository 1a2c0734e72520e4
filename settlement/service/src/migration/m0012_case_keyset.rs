//! The index listings and exports of the ledger read in: current versions in (region, hospital,
//! list id) order, so that "the next page after this case" is one range scan wherever the page
//! starts (keyset pagination) instead of a scan over every row before it.
//!
//! `is_current` leads as a plain column rather than a partial-index condition: the queries bind
//! it as a parameter, which neither SQLite nor PostgreSQL's generic plans match against a partial
//! index's condition.

use sea_orm_migration::prelude::*;

pub struct CaseKeyset;

impl MigrationName for CaseKeyset {
    fn name(&self) -> &str {
        "m0012_case_keyset"
    }
}

#[derive(DeriveIden)]
enum SettlementCase {
    Table,
    IsCurrent,
    RegionCode,
    HospitalCode,
    ListId,
}

const INDEX: &str = "settlement_case_keyset";

#[async_trait::async_trait]
impl MigrationTrait for CaseKeyset {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(SettlementCase::Table)
                    .col(SettlementCase::IsCurrent)
                    .col(SettlementCase::RegionCode)
                    .col(SettlementCase::HospitalCode)
                    .col(SettlementCase::ListId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(SettlementCase::Table)
                    .to_owned(),
            )
            .await
    }
}
