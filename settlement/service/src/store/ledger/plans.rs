//! The indexes SQLite reads for the ledger's lookups and pages, on a migrated database without
//! statistics: a plan led by every current case would make intake and listings slow down as the
//! ledger grows.

use sea_orm::{DbBackend, QuerySelect, QueryTrait, Statement};
use settlement_domain::ledger::RecordKind;

use super::pages::{listing, summary_listing};
use super::{CaseFilter, CaseKey, lookup};
use crate::store::query_plan::{index_columns, migrated_sqlite, plan};

fn region(code: &str) -> kernel::RegionCode {
    code.parse().expect("region code")
}

#[tokio::test]
async fn a_chunks_lookup_probes_the_primary_key_once_per_case() {
    let db = migrated_sqlite().await;
    let pairs = r#"[["H1","L1"],["H2","L2"]]"#;
    let steps = plan(
        &db,
        Statement::from_sql_and_values(DbBackend::Sqlite, lookup::SQLITE, [pairs.into()]),
    )
    .await;
    assert!(
        steps.starts_with("SCAN k VIRTUAL TABLE")
            && steps.ends_with(
                "SEARCH c USING INDEX sqlite_autoindex_settlement_case_1 \
                 (hospital_code=? AND list_id=?)"
            ),
        "{steps}"
    );
}

#[tokio::test]
async fn a_page_after_a_key_is_one_range_of_the_listing_index() {
    let db = migrated_sqlite().await;
    let after = CaseKey(460108, "H001".into(), "L9".into());
    let month = CaseFilter {
        discharge_between: Some((20250101, 20250131)),
        ..CaseFilter::default()
    };
    let ambulatory_month = CaseFilter {
        record_kinds: vec![RecordKind::Outpatient, RecordKind::Pharmacy],
        ..month.clone()
    };
    for filter in [CaseFilter::default(), month, ambulatory_month] {
        let statement =
            listing(region("460000"), &filter, Some(&after), 100).build(DbBackend::Sqlite);
        let steps = plan(&db, statement).await;
        assert_eq!(
            steps,
            "SEARCH settlement_case USING INDEX settlement_case_listing \
             ((region_code,hospital_code,list_id)>(?,?,?) AND region_code<?)",
            "{filter:?}"
        );
    }
    let first = listing(region("460100"), &CaseFilter::default(), None, 100);
    let steps = plan(&db, first.build(DbBackend::Sqlite)).await;
    assert_eq!(
        steps,
        "SEARCH settlement_case USING INDEX settlement_case_listing \
         (region_code>? AND region_code<?)"
    );
}

/// A month's or a kind's page compares the discharge date and the record kind on the listing
/// index's entry, so only the rows it answers are fetched from the table (m0023).
#[tokio::test]
async fn the_listing_index_carries_the_month_and_the_kind_after_its_order() {
    let db = migrated_sqlite().await;
    let columns = index_columns(&db, "settlement_case_listing").await;
    assert_eq!(
        columns,
        [
            "region_code",
            "hospital_code",
            "list_id",
            "is_current",
            "discharge_date",
            "record_kind"
        ]
    );
}

#[tokio::test]
async fn a_page_as_read_probes_the_clearings_by_primary_key_per_row() {
    let db = migrated_sqlite().await;
    let after = CaseKey(460108, "H001".into(), "L9".into());
    let whole = listing(region("460000"), &CaseFilter::default(), Some(&after), 100)
        .expr_as(crate::store::case_clearing::taken_valued(), "taken");
    let summaries = summary_listing(region("460000"), &CaseFilter::default(), Some(&after), 100);
    for page in [whole, summaries] {
        let steps = plan(&db, page.build(DbBackend::Sqlite)).await;
        assert_eq!(
            steps,
            "SEARCH settlement_case USING INDEX settlement_case_listing \
             ((region_code,hospital_code,list_id)>(?,?,?) AND region_code<?) ; \
             CORRELATED SCALAR SUBQUERY 1 ; \
             SEARCH settlement_case_clearing USING COVERING INDEX \
             sqlite_autoindex_settlement_case_clearing_1 \
             (hospital_code=? AND list_id=? AND version=? AND region_code=?)"
        );
    }
}
