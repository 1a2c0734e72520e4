//! Findings keyed by their place in their run (region, period, run version, position) instead of
//! the text `finding_id`, and the deductions' index holding only reviewed findings.
//!
//! A run stores millions of findings, every one `open`: the text key and an index over every
//! finding's status were most of what PostgreSQL spent inserting them (measured on 400,000 rows:
//! 3.6 s with both, 1.7 s with the run's key alone). The id stays a column, read and written as
//! before; it names the same key (`StoredFinding::id_of`), so a lookup by id reads the key.
//! The deductions and the rules' evidence read only confirmed or dismissed findings, which the
//! partial index holds; their queries repeat its condition ([`REVIEWED`]) so that both databases
//! use it whatever values the statement binds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

pub struct FindingRunKey;

impl MigrationName for FindingRunKey {
    fn name(&self) -> &str {
        "m0007_finding_run_key"
    }
}

/// The condition of the deductions' index, which a query repeats to be answered from it.
pub const REVIEWED: &str = "status <> 'open'";

const DEDUCTIONS_INDEX: &str = "CREATE INDEX supervision_finding_deductions ON supervision_finding \
     (status, fund_type, case_region_code, period) WHERE status <> 'open'";

#[derive(DeriveIden, Clone, Copy, PartialEq, Eq)]
enum F {
    #[sea_orm(iden = "supervision_finding")]
    Table,
    FindingId,
    RegionCode,
    Period,
    RunVersion,
    Seq,
    RuleNumber,
    RuleId,
    Level,
    HospitalCode,
    ListId,
    Arm,
    ItemCode,
    Date,
    OtherHospitalCode,
    OtherListId,
    FeeLines,
    EvidenceJson,
    AmountFen,
    Status,
    Reviewer,
    ReviewReason,
    FundType,
    CaseRegionCode,
    Response,
    Responder,
    RespondedBeforeReview,
}

/// Every column, in the table's order.
const COLUMNS: [F; 26] = [
    F::FindingId,
    F::RegionCode,
    F::Period,
    F::RunVersion,
    F::Seq,
    F::RuleNumber,
    F::RuleId,
    F::Level,
    F::HospitalCode,
    F::ListId,
    F::Arm,
    F::ItemCode,
    F::Date,
    F::OtherHospitalCode,
    F::OtherListId,
    F::FeeLines,
    F::EvidenceJson,
    F::AmountFen,
    F::Status,
    F::Reviewer,
    F::ReviewReason,
    F::FundType,
    F::CaseRegionCode,
    F::Response,
    F::Responder,
    F::RespondedBeforeReview,
];

/// The column as migrations 2 to 4 made it.
fn column(column: F) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    match column {
        F::RegionCode | F::Period | F::RunVersion | F::Seq | F::RuleNumber | F::Date => {
            def.integer()
        }
        F::FundType | F::CaseRegionCode => def.integer().default(0),
        F::AmountFen => def.big_integer(),
        F::EvidenceJson | F::ReviewReason => def.text(),
        F::Response | F::Responder => def.text().default(""),
        F::RespondedBeforeReview => def.boolean().default(false),
        _ => def.string(),
    };
    def.not_null().to_owned()
}

const RUN_KEY: [F; 4] = [F::RegionCode, F::Period, F::RunVersion, F::Seq];

/// SQLite changes a table's key only by copying the table: `supervision_finding` is made again
/// under `key` (the run's key, or the id), with the deductions' index `deductions` made by.
async fn rebuild_on_sqlite(
    manager: &SchemaManager<'_>,
    run_key: bool,
    deductions: &str,
) -> Result<(), DbErr> {
    let copy = Alias::new("supervision_finding_copy");
    let mut table = Table::create();
    table.table(copy.clone());
    for name in COLUMNS {
        let mut def = column(name);
        if !run_key && name == F::FindingId {
            def.primary_key();
        }
        table.col(def);
    }
    if run_key {
        let mut key = Index::create();
        for name in RUN_KEY {
            key.col(name);
        }
        table.primary_key(&mut key);
    }
    manager.create_table(table).await?;
    let names: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    let names = names.join(", ");
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "INSERT INTO supervision_finding_copy ({names}) SELECT {names} FROM supervision_finding"
    ))
    .await?;
    manager
        .drop_table(Table::drop().table(F::Table).to_owned())
        .await?;
    manager
        .rename_table(Table::rename().table(copy, F::Table).to_owned())
        .await?;
    if !run_key {
        db.execute_unprepared(
            "CREATE INDEX supervision_finding_run ON supervision_finding \
             (region_code, period, run_version, seq)",
        )
        .await?;
    }
    db.execute_unprepared(deductions).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for FindingRunKey {
    /// In one transaction on every backend: SQLite copies the table in several statements, which
    /// must all run on one connection (a pooled file database hands each statement to any of its
    /// connections, and one may not yet see the table dropped) and stand or fall together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                return rebuild_on_sqlite(manager, true, DEDUCTIONS_INDEX).await;
            }
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE supervision_finding DROP CONSTRAINT supervision_finding_pkey, \
                     ADD CONSTRAINT supervision_finding_pkey \
                     PRIMARY KEY (region_code, period, run_version, seq)",
                )
                .await?;
                db.execute_unprepared("DROP INDEX supervision_finding_run")
                    .await?;
                db.execute_unprepared("DROP INDEX supervision_finding_deductions")
                    .await?;
                db.execute_unprepared(DEDUCTIONS_INDEX).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let whole = "CREATE INDEX supervision_finding_deductions ON supervision_finding \
             (status, fund_type, case_region_code, period)";
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => return rebuild_on_sqlite(manager, false, whole).await,
            _ => {
                db.execute_unprepared("DROP INDEX supervision_finding_deductions")
                    .await?;
                db.execute_unprepared(whole).await?;
                db.execute_unprepared(
                    "CREATE INDEX supervision_finding_run ON supervision_finding \
                     (region_code, period, run_version, seq)",
                )
                .await?;
                db.execute_unprepared(
                    "ALTER TABLE supervision_finding DROP CONSTRAINT supervision_finding_pkey, \
                     ADD CONSTRAINT supervision_finding_pkey PRIMARY KEY (finding_id)",
                )
                .await?;
            }
        }
        Ok(())
    }
}
