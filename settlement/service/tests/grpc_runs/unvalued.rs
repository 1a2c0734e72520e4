//! A period holding cases stored unvalued is refused by name, unless the run is told to skip
//! them: a case paid nothing for want of a valuation is a hospital paid wrongly.

use super::*;

#[tokio::test]
async fn runs_over_unvalued_cases_are_refused_naming_them_unless_told_to_skip() {
    let server = start_seeded().await;
    let mut unvalued = seed_cases()[0].clone();
    unvalued.list_id = "U0001".into();
    unvalued.content_hash = "unvalued".into();
    unvalued.status = LedgerStatus::Unvalued;
    unvalued.valuation_error = "no points table in force on 2025-01-01".into();
    unvalued.payment_mode = String::new();
    unvalued.points = Points::ZERO;
    CaseStore::insert_new_many(&server.db, &[unvalued])
        .await
        .expect("seed");
    let mut server = server;

    let refused = server
        .client
        .run_clearing(as_agency(clearing("u1", "")))
        .await
        .expect_err("unvalued case");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("H001/U0001"), "{refused:?}");
    assert!(
        refused.message().contains("no points table in force"),
        "{refused:?}"
    );
    assert_eq!(run_count(&server).await, 0, "nothing stored");

    let january = pb::RunPrepaymentRequest {
        request_id: "u2".into(),
        region_code: REGION.into(),
        period: Some(common::YearMonth {
            year: 2025,
            month: 1,
        }),
        fund_type: FUND,
        provisional_point_value: decimal("142.3571"),
        month_budget: None,
        skip_unvalued: false,
        use_published_point_value: false,
    };
    let refused = server
        .client
        .run_prepayment(as_agency(january.clone()))
        .await
        .expect_err("unvalued case in January");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    let skipped = server
        .client
        .run_clearing(as_agency(pb::RunClearingRequest {
            skip_unvalued: true,
            ..clearing("u3", "")
        }))
        .await
        .expect("skipping")
        .into_inner();
    let run = run_of(&mut server, &skipped.run_id).await.expect("run");
    let inputs: serde_json::Value = serde_json::from_str(&run.inputs_json).expect("inputs");
    assert_eq!(inputs["unvalued_cases_skipped"], 1);
    // The other 120 cases are cleared; the unvalued one waits for its valuation.
    assert_eq!(skipped.totals.expect("totals").cases, 120);
}

async fn run_count(server: &Server) -> u64 {
    settlement_service::runs::store::settlement_run::Entity::find()
        .count(&server.db)
        .await
        .expect("count")
}
