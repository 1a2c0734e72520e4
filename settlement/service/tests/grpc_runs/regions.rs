//! Runs across regions: another region's run answers like a missing one, year inputs name only
//! the region's hospitals.

use super::*;

/// A request of a caller acting for another prefecture (460200) than the runs' (460100).
fn as_other_prefecture<T>(message: T, caller: &str, role: &str) -> Request<T> {
    as_principal_in("460200", message, caller, role)
}

/// What a caller of prefecture 460200 is answered for `run_id` by every method that looks a run
/// up, in its own region.
async fn run_lookups_from_another_prefecture(
    server: &mut Server,
    run_id: &str,
) -> Vec<tonic::Status> {
    let region = || "460200".to_owned();
    let run_id = || run_id.to_owned();
    let agency = |n: u32| format!("other-{n}-{}", run_id());
    let client = &mut server.client;
    vec![
        client
            .get_run(as_other_prefecture(
                pb::GetRunRequest {
                    region_code: region(),
                    run_id: run_id(),
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("get_run"),
        client
            .list_statements(as_other_prefecture(
                pb::ListStatementsRequest {
                    region_code: region(),
                    run_id: run_id(),
                    page_size: 0,
                    page_token: String::new(),
                    hospital_code: String::new(),
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("list_statements"),
        client
            .export_statements(as_other_prefecture(
                pb::ExportStatementsRequest {
                    region_code: region(),
                    run_id: run_id(),
                    format: pb::ExportFormat::Csv.into(),
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("export_statements"),
        client
            .list_disputes(as_other_prefecture(
                pb::ListDisputesRequest {
                    region_code: region(),
                    run_id: run_id(),
                    state: String::new(),
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("list_disputes"),
        client
            .confirm_statement(as_other_prefecture(
                pb::ConfirmStatementRequest {
                    request_id: agency(1),
                    region_code: region(),
                    run_id: run_id(),
                    hospital_code: "H001".into(),
                },
                "H001",
                "hospital",
            ))
            .await
            .expect_err("confirm_statement"),
        client
            .object_to_statement(as_other_prefecture(
                pb::ObjectToStatementRequest {
                    request_id: agency(2),
                    region_code: region(),
                    run_id: run_id(),
                    hospital_code: "H001".into(),
                    reasons: vec!["points missing".into()],
                },
                "H001",
                "hospital",
            ))
            .await
            .expect_err("object_to_statement"),
        client
            .resolve_dispute(as_other_prefecture(
                pb::ResolveDisputeRequest {
                    request_id: agency(3),
                    region_code: region(),
                    run_id: run_id(),
                    hospital_code: "H001".into(),
                    resolution: "upheld".into(),
                    upheld: true,
                },
                "agency-460200",
                "agency",
            ))
            .await
            .expect_err("resolve_dispute"),
    ]
}

#[tokio::test]
async fn another_regions_run_answers_exactly_like_a_missing_one() {
    let mut server = start_seeded().await;
    let clearing_run = server
        .client
        .run_clearing(as_agency(clearing("k1", "")))
        .await
        .expect("clearing")
        .into_inner()
        .run_id;
    let prepayment_run = server
        .client
        .run_prepayment(as_agency(pb::RunPrepaymentRequest {
            request_id: "m1".into(),
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
        }))
        .await
        .expect("prepayment")
        .into_inner()
        .run_id;
    // Run ids are 128 random bits: nothing of region, period or order to guess from.
    for id in [&clearing_run, &prepayment_run] {
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert!(!id.contains("460100") && !id.contains("2025"), "{id}");
    }
    let first = u128::from_str_radix(&clearing_run, 16).expect("hex");
    let second = u128::from_str_radix(&prepayment_run, 16).expect("hex");
    assert!(first.abs_diff(second) > 1_000_000, "{first:x} {second:x}");

    let missing = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let for_existing = run_lookups_from_another_prefecture(&mut server, &clearing_run).await;
    let for_missing = run_lookups_from_another_prefecture(&mut server, missing).await;
    assert_eq!(for_existing.len(), 7);
    for (existing, absent) in for_existing.iter().zip(&for_missing) {
        assert_eq!(existing.code(), Code::NotFound, "{existing:?}");
        assert_eq!(existing.code(), absent.code());
        assert_eq!(
            existing.message().replace(&clearing_run, "<run>"),
            absent.message().replace(missing, "<run>"),
        );
        let reason = |status: &tonic::Status| {
            status
                .get_details_error_info()
                .map(|info| (info.reason, info.domain, info.metadata))
        };
        assert_eq!(reason(existing), reason(absent));
        assert!(reason(existing).is_some_and(|(reason, ..)| reason == "RUN_NOT_FOUND"));
    }
    // The run's own region still reads it.
    let own = run_of(&mut server, &clearing_run).await.expect("run");
    assert_eq!(own.run_id, clearing_run);
}

#[tokio::test]
async fn year_inputs_name_only_hospitals_registered_in_the_region() {
    let mut server = start().await;
    register(&server.db, "H001", "460108").await;
    register(&server.db, "HB", "460205").await;
    let input = |code: &str| pb::HospitalYearInput {
        hospital_code: code.into(),
        assessment_coefficient: decimal("0.50"),
        violation_deductions: money("99999.00"),
        deposit_returned: money("0.00"),
        assessment_score: None,
    };
    let refused = server
        .client
        .put_hospital_year_inputs(as_agency(pb::PutHospitalYearInputsRequest {
            request_id: "y1".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![input("H001"), input("HB"), input("HX")],
        }))
        .await
        .expect_err("another prefecture's hospital and an unregistered one");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let violations = refused
        .get_details_bad_request()
        .expect("field violations")
        .field_violations;
    let named: Vec<(String, String)> = violations
        .iter()
        .map(|v| {
            let code = if v.field.starts_with("hospitals[1]") {
                "HB"
            } else {
                "HX"
            };
            (v.field.clone(), v.description.replace(code, "<h>"))
        })
        .collect();
    assert_eq!(named.len(), 2, "{named:?}");
    assert_eq!(named[0].0, "hospitals[1].hospital_code");
    assert_eq!(named[1].0, "hospitals[2].hospital_code");
    assert_eq!(
        named[0].1, named[1].1,
        "another region's hospital reads like no hospital"
    );
    // Nothing was stored: the policy's year inputs are still empty, so H001 alone is accepted.
    let stored = server
        .client
        .put_hospital_year_inputs(as_agency(pb::PutHospitalYearInputsRequest {
            request_id: "y2".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![input("H001")],
        }))
        .await
        .expect("own hospital")
        .into_inner();
    assert_eq!(stored.version, 1);
}

#[tokio::test]
async fn an_assessment_score_is_refused_outside_0_to_100_or_beside_a_typed_in_return() {
    let mut server = start().await;
    register(&server.db, "H001", "460108").await;
    register(&server.db, "H002", "460108").await;
    let refused = server
        .client
        .put_hospital_year_inputs(as_agency(pb::PutHospitalYearInputsRequest {
            request_id: "scores".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![
                pb::HospitalYearInput {
                    hospital_code: "H001".into(),
                    assessment_score: decimal("100.5"),
                    ..Default::default()
                },
                pb::HospitalYearInput {
                    hospital_code: "H002".into(),
                    assessment_score: decimal("70"),
                    deposit_returned: money("10.00"),
                    ..Default::default()
                },
            ],
        }))
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = refused
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        [
            "hospitals[0].assessment_score",
            "hospitals[1].assessment_score"
        ]
    );
}
