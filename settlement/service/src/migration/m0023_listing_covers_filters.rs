//! The listing index carries the discharge date and the record kind after its order.
//!
//! A page asked for a month (ListCases and ExportCases with a period, StreamCases as supervision
//! reads a month) walks `settlement_case_listing` in (region, hospital, list id) order. With the
//! index ending at `is_current`, every current version of the region was fetched from the table
//! to compare its discharge date, so one month's read cost the whole ledger of the region: in
//! SQLite the first page of each row (a settlement list is several pages of JSON), in PostgreSQL
//! a heap fetch. Screening twelve months, each with the month before and the ambulatory care of
//! the months its stays reach back to, read the ledger some sixty times over. Carried in the
//! index, the month and the record kind are compared on the index entry and only the rows a page
//! answers are fetched; the order and the single range scan of m0018 stay.
//!
//! The index is rebuilt under the same name. On PostgreSQL the build holds writes to the ledger
//! for as long as it takes (about a minute per 10,000,000 versions), so it runs in the migration
//! Job before the services start, as every migration of the province overlay does.

use sea_orm_migration::prelude::*;

pub struct ListingCoversFilters;

impl MigrationName for ListingCoversFilters {
    fn name(&self) -> &str {
        "m0023_listing_covers_filters"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum SettlementCase {
    Table,
    IsCurrent,
    RegionCode,
    HospitalCode,
    ListId,
    DischargeDate,
    RecordKind,
}

const LISTING: &str = "settlement_case_listing";

/// The listing index over `columns`, replacing the one in place.
async fn rebuild(manager: &SchemaManager<'_>, columns: &[SettlementCase]) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(LISTING)
                .table(SettlementCase::Table)
                .to_owned(),
        )
        .await?;
    let mut index = Index::create();
    index.name(LISTING).table(SettlementCase::Table);
    for column in columns {
        index.col(*column);
    }
    manager.create_index(index.to_owned()).await
}

const ORDER_AND_CURRENT: [SettlementCase; 4] = [
    SettlementCase::RegionCode,
    SettlementCase::HospitalCode,
    SettlementCase::ListId,
    SettlementCase::IsCurrent,
];

#[async_trait::async_trait]
impl MigrationTrait for ListingCoversFilters {
    /// One transaction on SQLite too: the drop and the create then run on one connection (a
    /// pooled connection still reading the schema before the drop would find the index there),
    /// and a failed rebuild leaves the old index rather than none.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = ORDER_AND_CURRENT.to_vec();
        columns.extend([SettlementCase::DischargeDate, SettlementCase::RecordKind]);
        rebuild(manager, &columns).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, &ORDER_AND_CURRENT).await
    }
}
