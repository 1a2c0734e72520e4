//! The run scan index carries the admission date and the status after the current flag.
//!
//! A prepayment and a clearing read the current valued cases of a region, fund and discharge
//! range through `settlement_case_run_scan`, and a prepayment also reads the later stays that may
//! readmit one of its cases: discharged after the month, admitted before the end of the
//! readmission window. With the index ending at `is_current`, every version discharged after the
//! month was fetched from the table to compare its admission date and status, so January's
//! prepayment read the rest of the year of its fund, and the twelve months of both funds read the
//! ledger some five times over (1,167,146 rows fetched for 263,718 kept, 200,000-case demo).
//! Carried in the index, both are compared on the index entry and only the rows kept are fetched.
//!
//! The index is rebuilt under the same name, as m0023 rebuilds the listing index; on PostgreSQL
//! the build holds writes to the ledger while it runs, in the migration Job before the services
//! start.

use sea_orm_migration::prelude::*;

pub struct RunScanCoversFilters;

impl MigrationName for RunScanCoversFilters {
    fn name(&self) -> &str {
        "m0025_run_scan_covers_filters"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum SettlementCase {
    Table,
    RegionCode,
    FundType,
    DischargeDate,
    IsCurrent,
    AdmissionDate,
    Status,
}

const RUN_SCAN: &str = "settlement_case_run_scan";

/// The run scan index over `columns`, replacing the one in place.
async fn rebuild(manager: &SchemaManager<'_>, columns: &[SettlementCase]) -> Result<(), DbErr> {
    manager
        .drop_index(
            Index::drop()
                .name(RUN_SCAN)
                .table(SettlementCase::Table)
                .to_owned(),
        )
        .await?;
    let mut index = Index::create();
    index.name(RUN_SCAN).table(SettlementCase::Table);
    for column in columns {
        index.col(*column);
    }
    manager.create_index(index.to_owned()).await
}

const SCAN_AND_CURRENT: [SettlementCase; 4] = [
    SettlementCase::RegionCode,
    SettlementCase::FundType,
    SettlementCase::DischargeDate,
    SettlementCase::IsCurrent,
];

#[async_trait::async_trait]
impl MigrationTrait for RunScanCoversFilters {
    /// One transaction on SQLite too, as in m0023: a failed rebuild leaves the old index.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = SCAN_AND_CURRENT.to_vec();
        columns.extend([SettlementCase::AdmissionDate, SettlementCase::Status]);
        rebuild(manager, &columns).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, &SCAN_AND_CURRENT).await
    }
}
