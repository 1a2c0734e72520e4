//! The 15-day readmission halving applied by the clearing over the stored stays (DOMAIN.md §3,
//! §5): the order of arrival does not matter, and a stay of the next year readmits December's.

use super::*;

/// A DRG stay of `person` at H001 with 100 points, fund 9,000 and burden 3,000.
fn stay(list_id: &str, person: &str, admitted: i32, discharged: i32) -> LedgerCase {
    LedgerCase {
        region: region("460108"),
        hospital_code: "H001".into(),
        list_id: list_id.into(),
        version: 1,
        record_kind: RecordKind::Inpatient,
        fund: FundType::Employee,
        discharge_date: discharged,
        payment_mode: "drg".into(),
        group_code: "GB11".into(),
        points: Points::from_scaled(1_000_000),
        total_cost: Money::from_fen(1_200_000),
        individual_burden: Money::from_fen(300_000),
        fund_amount: Money::from_fen(900_000),
        amount: None,
        person_id: person.into(),
        admission_date: admitted,
        planned_readmission: false,
        episode_programme: String::new(),
        prior_episode_days: 0,
        status: LedgerStatus::Valued,
        valuation_error: String::new(),
        scheme_version: "demo@1".into(),
        table_version: "460100-2025-310@1".into(),
        valuation_json: "{}".into(),
        content_hash: list_id.into(),
        case_json: "{}".into(),
        request_id: "seed".into(),
        stored_at: 1_700_000_000,
        head: None,
    }
}

#[tokio::test]
async fn the_clearing_halves_stays_readmitted_within_15_days() {
    let mut server = start().await;
    // The later stays arrive first: arrival order never changes the result.
    let stays = [
        stay("R2", "P1", 20250320, 20250322),
        stay("R1", "P1", 20250301, 20250305),
        // 16 days after R2's discharge: no halving of R2.
        stay("R3", "P1", 20250407, 20250410),
        // Another person readmitted the next day: no halving of R1 or R3.
        stay("R4", "P2", 20250411, 20250412),
        // December's stay readmitted in January of the next year.
        stay("R6", "P3", 20260110, 20260112),
        stay("R5", "P3", 20251220, 20251228),
    ];
    CaseStore::insert_new_many(&server.db, &stays)
        .await
        .expect("seed");
    let run = server
        .client
        .run_clearing(as_agency(clearing("readmission", "")))
        .await
        .expect("clearing")
        .into_inner();
    let rows = server
        .client
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: run.run_id,
            page_size: 10,
            page_token: String::new(),
            hospital_code: String::new(),
        }))
        .await
        .expect("statements")
        .into_inner()
        .statements;
    let statement: serde_json::Value = serde_json::from_str(&rows[0].statement_json).expect("json");
    let halved: Vec<(String, String, i64)> = statement["readmissions_halved"]
        .as_array()
        .expect("halvings")
        .iter()
        .map(|h| {
            (
                h["list_id"].as_str().unwrap_or_default().to_owned(),
                h["readmitted_as"].as_str().unwrap_or_default().to_owned(),
                h["gap_days"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        halved,
        [
            ("R1".to_owned(), "R2".to_owned(), 15),
            ("R5".to_owned(), "R6".to_owned(), 13),
        ]
    );
    // Five stays of 2025 at 100 points, two of them halved; R6 belongs to 2026.
    assert_eq!(statement["cases"], 5);
    assert_eq!(statement["points"], "400.0000");
}
