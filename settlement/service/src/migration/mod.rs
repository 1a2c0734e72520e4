//! Settlement tables, with the context's own migration table. One module per migration; a
//! migration never changes once released.

use platform::distribution::{DistributionInKeys, KeyedTable, REGION, RegionFromOwner};
use sea_orm_migration::prelude::*;

mod m0001_case_ledger;
mod m0002_valued_case_ledger;
mod m0003_months_and_journal;
mod m0004_intake;
mod m0005_runs;
mod m0006_special_cases;
mod m0007_upload_fingerprints;
mod m0009_case_amount;
mod m0010_stay_facts;
mod m0011_episode_days;
mod m0012_case_keyset;
mod m0013_budget_point_values;
mod m0014_case_warnings;
mod m0015_outpatient_enrolment;
mod m0016_rechecked_warnings;
mod m0017_main_inpatient_method;
mod m0018_case_listing_order;
mod m0021_warning_region;
mod m0022_case_clearing;
mod m0023_listing_covers_filters;
mod m0024_list_heads;
mod m0025_run_scan_covers_filters;

/// The distributed tables whose keys did not name their distribution column (m0019; PostgreSQL only).
const DISTRIBUTED: &[KeyedTable] = &[
    KeyedTable {
        distribution_column: REGION,
        table: "settlement_case",
        primary_key: &["hospital_code", "list_id", "version"],
        unique_indexes: &[],
    },
    KeyedTable {
        distribution_column: REGION,
        table: "settlement_run",
        primary_key: &["run_id"],
        unique_indexes: &[],
    },
    KeyedTable {
        distribution_column: REGION,
        table: "settlement_special_case",
        primary_key: &["application_id"],
        unique_indexes: &[(
            "settlement_special_case_case",
            &["hospital_code", "list_id"],
        )],
    },
    KeyedTable::audit_log("settlement_audit"),
];

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_case_ledger::CreateCaseLedger),
            Box::new(m0002_valued_case_ledger::ValuedCaseLedger),
            Box::new(m0003_months_and_journal::MonthsAndJournal),
            Box::new(m0004_intake::Intake),
            Box::new(m0005_runs::Runs),
            Box::new(m0006_special_cases::SpecialCases),
            Box::new(m0007_upload_fingerprints::UploadFingerprints),
            Box::new(platform::journal::migration::AddFingerprintAndRegion {
                context: "settlement",
                name: "m0008_journal_fingerprints",
            }),
            Box::new(m0009_case_amount::CaseAmount),
            Box::new(m0010_stay_facts::StayFacts),
            Box::new(m0011_episode_days::EpisodeDays),
            Box::new(m0012_case_keyset::CaseKeyset),
            Box::new(m0013_budget_point_values::BudgetPointValues),
            Box::new(m0014_case_warnings::CaseWarnings),
            Box::new(m0015_outpatient_enrolment::OutpatientEnrolment),
            Box::new(m0016_rechecked_warnings::RecheckedWarnings),
            Box::new(m0017_main_inpatient_method::MainInpatientMethod),
            Box::new(m0018_case_listing_order::CaseListingOrder),
            Box::new(DistributionInKeys {
                name: "m0019_distribution_keys",
                tables: DISTRIBUTED,
            }),
            // A statement carries its run's region, so it is distributed with its run.
            Box::new(RegionFromOwner {
                name: "m0020_statement_region",
                table: "settlement_statement",
                primary_key: &["run_id", "hospital_code"],
                owner: "settlement_run",
                owner_key: "run_id",
            }),
            // A version's warnings carry its region, so they are distributed with their case.
            Box::new(m0021_warning_region::WarningRegion),
            // A clearing records the case versions it took apart from the ledger rows.
            Box::new(m0022_case_clearing::CaseClearing),
            Box::new(m0023_listing_covers_filters::ListingCoversFilters),
            // An inpatient list's head (no fee lines, their totals) is stored beside it.
            Box::new(m0024_list_heads::ListHeads),
            Box::new(m0025_run_scan_covers_filters::RunScanCoversFilters),
        ]
    }

    fn migration_table_name() -> DynIden {
        "settlement_migrations".into_iden()
    }
}
