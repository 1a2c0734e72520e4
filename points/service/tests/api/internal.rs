//! `medpay.points.internal.v1.PointsInternalService/ValueBatch` over a real socket: one result per
//! case in input order, a bad case never fails the batch, request-level faults fail the call.

use crate::common::*;
use medpay_proto::points::internal::v1 as internal;
use medpay_proto::points::v1 as pb;
use tonic::Code;

fn batch(cases: Vec<pb::CaseForValuation>) -> internal::ValueBatchRequest {
    internal::ValueBatchRequest {
        region_code: "460000".into(),
        year: 2025,
        cases,
    }
}

fn ungroupable(id: &str, status: &str) -> pb::CaseForValuation {
    pb::CaseForValuation {
        group_code: String::new(),
        adrg: String::new(),
        group_status: status.into(),
        ..case(id, "12000")
    }
}

#[tokio::test]
async fn value_batch_answers_every_case_in_input_order() {
    let mut server = start().await;
    put_and_activate(&mut server).await;
    let mut bad_level = case("bad-level", "15000");
    bad_level.hospital_level = "9Z".into();
    let mut no_group = case("no-group", "15000");
    no_group.group_code = String::new();
    let early = pb::CaseForValuation {
        admission_date: date(2024, 12, 1),
        discharge_date: date(2024, 12, 10),
        ..case("early", "15000")
    };
    let response = server
        .internal
        .value_batch(bureau(batch(vec![
            case("high", "40000"),
            bad_level,
            case("low", "5000"),
            ungroupable("check-failed", "CHECK_FAILED"),
            ungroupable("dx-not-mapped", "GROUP_STATUS_DX_NOT_MAPPED"),
            no_group,
            early,
            case("normal", "15000"),
        ])))
        .await
        .expect("batch")
        .into_inner();
    let results = response.results;
    assert_eq!(
        results.iter().map(|r| r.sequence).collect::<Vec<_>>(),
        (0..8).collect::<Vec<u64>>()
    );
    let outcome: Vec<_> = results
        .iter()
        .map(|r| match &r.valuation {
            Some(v) => (
                v.case_id.clone(),
                v.case_type.clone(),
                v.points.clone().map(|p| p.value).unwrap_or_default(),
            ),
            None => (String::new(), r.error_reason.clone(), String::new()),
        })
        .collect();
    let row = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        outcome,
        vec![
            row("high", "high_cost", "257.5000"),
            row("", "INVALID_CASE", ""),
            row("low", "low_cost", "50.0000"),
            // Every way grouping fails is 无法入组, valued on cost alike.
            row("check-failed", "ungroupable", &outcome[3].2),
            row("dx-not-mapped", "ungroupable", &outcome[4].2),
            row("", "INVALID_CASE", ""),
            row("", "NO_TABLE_IN_FORCE", ""),
            row("normal", "normal", "157.5000"),
        ]
    );
    assert!(!outcome[3].2.is_empty() && outcome[3].2 == outcome[4].2);
    assert!(results[1].error.contains("case.hospital_level"));
    assert!(results[5].error.contains("case.group_code"));
    for valuation in results.iter().filter_map(|r| r.valuation.as_ref()) {
        let table = valuation.table.as_ref().expect("table named");
        assert_eq!(
            (table.region_code.as_str(), table.year, table.version),
            ("460000", 2025, 1)
        );
        assert_eq!(table.effective_from, date(2025, 1, 1));
    }

    let empty = server
        .internal
        .value_batch(bureau(batch(Vec::new())))
        .await
        .expect("empty batch")
        .into_inner();
    assert!(empty.results.is_empty());
}

#[tokio::test]
async fn value_batch_fails_whole_only_for_the_request_itself() {
    let mut server = start().await;
    put_and_activate(&mut server).await;
    let status = server
        .internal
        .value_batch(as_caller(batch(vec![case("c", "15000")]), "440000"))
        .await
        .expect_err("out of scope");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = server
        .internal
        .value_batch(bureau(internal::ValueBatchRequest {
            year: 0,
            ..batch(vec![case("c", "15000")])
        }))
        .await
        .expect_err("no year");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), vec!["year"]);
    // Without any table every case is answered, each with its reason.
    let other_year = server
        .internal
        .value_batch(bureau(internal::ValueBatchRequest {
            year: 2024,
            ..batch(vec![case("a", "15000"), case("b", "15000")])
        }))
        .await
        .expect("answered")
        .into_inner();
    assert_eq!(other_year.results.len(), 2);
    assert!(
        other_year
            .results
            .iter()
            .all(|r| r.valuation.is_none() && r.error_reason == "NO_TABLE_IN_FORCE")
    );
}

#[tokio::test]
async fn value_batch_takes_a_batch_larger_than_tonics_default_limit() {
    let mut server = start().await;
    // No table for 2024: every case is answered quickly, with its reason; what is tested is that a
    // request above 4 MiB is read at all.
    let cases: Vec<_> = (0..40_000)
        .map(|i| case(&format!("case-{i:06}"), "15000"))
        .collect();
    let request = internal::ValueBatchRequest {
        year: 2024,
        ..batch(cases)
    };
    assert!(prost::Message::encoded_len(&request) > 4 * 1024 * 1024);
    let response = server
        .internal
        .value_batch(bureau(request))
        .await
        .expect("large batch")
        .into_inner();
    assert_eq!(response.results.len(), 40_000);
    assert_eq!(response.results[39_999].sequence, 39_999);
    assert_eq!(response.results[39_999].error_reason, "NO_TABLE_IN_FORCE");
}
