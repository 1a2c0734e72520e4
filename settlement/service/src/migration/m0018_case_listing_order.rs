//! The ledger's listing index led by the listing's order instead of `is_current`.
//!
//! `settlement_case_keyset` (m0012) put `is_current` first. Without statistics SQLite takes an
//! equality on an index's first column to match about ten rows, so every query that asks for
//! current versions chose that index for `is_current = ?` alone and walked every current case of
//! the ledger: intake's lookup of a chunk's stored versions and of its persons' per-diem stays
//! (instead of the primary key and `settlement_case_person_hospital`), and each run's read of a
//! region, fund and month (instead of `settlement_case_run_scan`). A chunk's lookups then grew
//! with the ledger: 1,600 records a second taken in at 20,000 cases, 330 at 160,000.
//!
//! Nearly every stored version is current, so `is_current` narrows nothing: last in the index it
//! is still checked from the index, and the listings' keyset pages keep their single range scan
//! in (region, hospital, list id) order.

use sea_orm_migration::prelude::*;

pub struct CaseListingOrder;

impl MigrationName for CaseListingOrder {
    fn name(&self) -> &str {
        "m0018_case_listing_order"
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

/// m0012's index, led by `is_current`.
const CURRENT_FIRST: &str = "settlement_case_keyset";
/// Its replacement, in listing order.
const LISTING: &str = "settlement_case_listing";

#[async_trait::async_trait]
impl MigrationTrait for CaseListingOrder {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(LISTING)
                    .table(SettlementCase::Table)
                    .col(SettlementCase::RegionCode)
                    .col(SettlementCase::HospitalCode)
                    .col(SettlementCase::ListId)
                    .col(SettlementCase::IsCurrent)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(CURRENT_FIRST)
                    .table(SettlementCase::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(CURRENT_FIRST)
                    .table(SettlementCase::Table)
                    .col(SettlementCase::IsCurrent)
                    .col(SettlementCase::RegionCode)
                    .col(SettlementCase::HospitalCode)
                    .col(SettlementCase::ListId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(LISTING)
                    .table(SettlementCase::Table)
                    .to_owned(),
            )
            .await
    }
}
