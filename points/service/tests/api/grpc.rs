//! The points API over a real socket: tables put, validated, activated and replayed; the DOMAIN.md
//! §3 DRG worked example through ValueCase; streaming order; point value preview; calibration;
//! region scope.

use crate::common::*;
use kernel::FundType;
use medpay_proto::points::v1 as pb;
use rust_decimal::Decimal;
use tonic::Code;

#[tokio::test]
async fn drg_worked_example_through_value_case() {
    let mut server = start().await;
    put_and_activate(&mut server).await;

    let normal = value(&mut server, "15000").await;
    assert_eq!(normal.case_id, "C1");
    assert_eq!(normal.payment_mode, "DRG");
    assert_eq!(normal.mode_rule, "main_method");
    assert_eq!(normal.case_type, "normal");
    assert_eq!(normal.points, decimal("157.5000"));
    assert_eq!(normal.coefficient, decimal("1.05"));
    assert_eq!(normal.table_version, 1);
    let breakdown: serde_json::Value =
        serde_json::from_str(&normal.breakdown_json).expect("breakdown is JSON");
    assert_eq!(breakdown["points"], "157.5000");

    let high = value(&mut server, "40000").await;
    assert_eq!(high.case_type, "high_cost");
    assert_eq!(high.points, decimal("257.5000"));

    let low = value(&mut server, "5000").await;
    assert_eq!(low.case_type, "low_cost");
    assert_eq!(low.points, decimal("50.0000"));
    assert_eq!(low.amount, None);
}

#[tokio::test]
async fn value_case_without_an_active_table_or_with_bad_fields() {
    let mut server = start().await;
    let missing = server
        .value_case(case("C1", "15000"))
        .await
        .expect_err("no table");
    assert_eq!(missing.code(), Code::FailedPrecondition);

    put_and_activate(&mut server).await;
    let mut bad = case("C2", "-1");
    bad.hospital_level = "9Z".into();
    bad.discharge_date = date(2025, 2, 30);
    bad.group_status = "MAYBE".into();
    let status = server.value_case(bad).await.expect_err("bad case");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    for field in [
        "case.hospital_level",
        "case.discharge_date",
        "case.group_status",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }

    // A coefficient padded with leading zeros is refused by its length, not read (rust_decimal
    // recurses once per zero), and the service answers the next call.
    let mut padded = case("C3", "15000");
    padded.dip_aux_coefficient = Some(medpay_proto::common::v1::Decimal {
        value: format!("{}1", "0".repeat(200_000)),
    });
    let status = server.value_case(padded).await.expect_err("overlong");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["case.dip_aux_coefficient"]);
    assert!(
        status.message().contains("is refused (at most 64)"),
        "{}",
        status.message()
    );
    assert!(server.value_case(case("C4", "15000")).await.is_ok());
}

#[tokio::test]
async fn value_cases_streams_in_input_order_past_a_bad_case() {
    let mut server = start().await;
    put_and_activate(&mut server).await;
    let mut bad = case("bad", "15000");
    bad.hospital_level = "nowhere".into();
    let messages = vec![
        pb::ValueCasesRequest {
            region_code: "460000".into(),
            year: 2025,
            case: Some(case("a", "40000")),
        },
        pb::ValueCasesRequest {
            case: Some(bad),
            ..Default::default()
        },
        pb::ValueCasesRequest {
            case: Some(case("c", "5000")),
            ..Default::default()
        },
        pb::ValueCasesRequest {
            case: Some(case("d", "15000")),
            ..Default::default()
        },
    ];
    let results = server.value_cases(messages).await;
    assert_eq!(
        results.iter().map(|r| r.sequence).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    let ids: Vec<_> = results
        .iter()
        .map(|r| r.valuation.as_ref().map(|v| v.case_id.clone()))
        .collect();
    assert_eq!(
        ids,
        vec![Some("a".into()), None, Some("c".into()), Some("d".into())]
    );
    assert!(results[1].error.contains("case.hospital_level"));
    let points: Vec<_> = results
        .iter()
        .filter_map(|r| r.valuation.as_ref())
        .map(|v| v.points.clone().map(|p| p.value))
        .collect();
    assert_eq!(
        points,
        vec![
            Some("257.5000".into()),
            Some("50.0000".into()),
            Some("157.5000".into())
        ]
    );
}

#[tokio::test]
async fn preview_point_value_of_the_worked_example() {
    let mut server = start().await;
    let preview = server
        .client
        .preview_point_value(bureau(pb::PreviewPointValueRequest {
            region_code: "460000".into(),
            year: 2025,
            fund_type: EMPLOYEE,
            fund_budget: money("600000000"),
            individual_burden: money("200000000"),
            total_points: decimal("7800000"),
        }))
        .await
        .expect("preview")
        .into_inner();
    assert_eq!(preview.point_value, decimal("102.5641"));
    assert!(
        preview
            .exact_point_value
            .expect("exact")
            .value
            .starts_with("102.564102")
    );

    let status = server
        .client
        .preview_point_value(bureau(pb::PreviewPointValueRequest {
            region_code: "460000".into(),
            year: 2025,
            fund_type: 7,
            fund_budget: money("1.234"),
            individual_burden: None,
            total_points: None,
        }))
        .await
        .expect_err("bad preview");
    assert_eq!(
        violated_fields(&status),
        vec!["fund_type", "fund_budget", "total_points"]
    );
}

#[tokio::test]
async fn bad_documents_are_rejected_with_every_field_named() {
    let mut server = start().await;
    let (mut policy, mut tables) = document();
    policy.modes.basic_level.coefficient = Some(Decimal::ZERO);
    tables.drg.all_case_mean_cost = "0".parse().expect("money");
    tables.year = 2024;
    let status = server
        .put_table(put("bad-1", document_json(&policy, &tables)))
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violated_fields(&status);
    for field in [
        "document_json.tables.year",
        "document_json.policy.modes.basic_level.coefficient",
        "document_json.tables.drg.all_case_mean_cost",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }

    // A decimal string long enough to make rust_decimal's reader overflow the stack is refused
    // before serde reads the document, and the server goes on answering.
    let mut overlong: serde_json::Value =
        serde_json::from_str(&document_json(&policy, &tables)).expect("JSON");
    overlong["policy"]["modes"]["basic_level"]["coefficient"] =
        format!("{}.9", "0".repeat(200_000)).into();
    let status = server
        .put_table(put("bad-2", overlong.to_string()))
        .await
        .expect_err("overlong");
    assert_eq!(violated_fields(&status), vec!["document_json"]);
    assert!(status.message().contains("(at most 64)"), "{status:?}");

    let status = server
        .put_table(put("", "{not json".into()))
        .await
        .expect_err("not JSON");
    assert_eq!(
        violated_fields(&status),
        vec!["request_id", "document_json"]
    );

    // Nothing was stored.
    assert_eq!(
        server
            .store
            .get(
                "460000".parse().expect("code"),
                2025,
                FundType::Employee,
                Some(1)
            )
            .await
            .expect("read"),
        None
    );
}

#[tokio::test]
async fn callers_outside_the_region_are_denied() {
    let mut server = start().await;
    let (policy, tables) = document();
    let status = server
        .client
        .put_table(as_caller(
            put("p", document_json(&policy, &tables)),
            "440000",
        ))
        .await
        .expect_err("out of scope");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(error_reason(&status), "REGION_OUT_OF_SCOPE");
    let status = server
        .client
        .value_case(as_caller(
            pb::ValueCaseRequest {
                region_code: "460000".into(),
                year: 2025,
                case: Some(case("C1", "15000")),
            },
            "460100",
        ))
        .await
        .expect_err("prefecture caller, province region");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = server
        .client
        .value_cases(as_caller(
            tokio_stream::iter(vec![pb::ValueCasesRequest {
                region_code: "460000".into(),
                year: 2025,
                case: Some(case("C1", "15000")),
            }]),
            "440000",
        ))
        .await
        .expect_err("stream out of scope");
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn put_table_replays_and_activation_supersedes() {
    let mut server = start().await;
    let (policy, tables) = document();
    let same = put("same", document_json(&policy, &tables));
    let first = server.put_table(same.clone()).await.expect("put");
    let again = server.put_table(same).await.expect("replay");
    assert_eq!(first, again);
    let first_table = first.table.expect("table");
    assert_eq!(first_table.version, 1);
    assert_eq!(first_table.status, pb::TableStatus::Draft as i32);
    let second = server
        .put_table(put("other", document_json(&policy, &tables)))
        .await
        .expect("put");
    assert_eq!(second.table.expect("table").version, 2);

    let activated = server
        .activate_table(activate("a1", 1))
        .await
        .expect("activate 1");
    let replay = server
        .activate_table(activate("a1", 1))
        .await
        .expect("replay activation");
    assert_eq!(activated, replay);
    assert_eq!(
        activated.table.expect("table").effective_from,
        date(2025, 1, 1)
    );
    let same_day = server
        .activate_table(activate("a2", 2))
        .await
        .expect_err("an activation must start after the latest one");
    assert_eq!(same_day.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&same_day), "ACTIVATION_NOT_AFTER_LATEST");
    server
        .activate_table(pb::ActivateTableRequest {
            effective_from: date(2025, 7, 1),
            ..activate("a2-july", 2)
        })
        .await
        .expect("activate 2");

    let old = server.get_table(1).await.expect("v1");
    assert_eq!(old.status, pb::TableStatus::Superseded as i32);
    let active = server.get_table(0).await.expect("active");
    assert_eq!(active.version, 2);

    let status = server
        .activate_table(activate("a3", 1))
        .await
        .expect_err("superseded is not a draft");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = server
        .activate_table(activate("a4", 9))
        .await
        .expect_err("no such version");
    assert_eq!(status.code(), Code::NotFound);

    let actions: Vec<_> = server
        .store
        .audit_log()
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| (entry.method, entry.request_id))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("PutTable".into(), "same".into()),
            ("PutTable".into(), "other".into()),
            ("ActivateTable".into(), "a1".into()),
            ("ActivateTable".into(), "a2-july".into()),
        ]
    );
}

#[tokio::test]
async fn calibrate_stores_a_draft_with_its_report() {
    let mut server = start().await;
    let mut csv = String::from("year,hospital_code,hospital_level,group_code,total_cost\n");
    for (group, costs) in [
        ("GA11", ["8000", "10000", "12000", "9000", "11000"]),
        ("GB11", ["18000", "20000", "22000", "19000", "21000"]),
    ] {
        for cost in costs {
            csv.push_str(&format!("2024,H1,2A,{group},{cost}\n"));
        }
    }
    let request = || pb::CalibrateRequest {
        request_id: "cal-1".into(),
        region_code: "460000".into(),
        year: 2025,
        fund_type: EMPLOYEE,
        cases_csv: csv.clone(),
        options_json: r#"{"scheme": "drg", "year_weights": {"2024": "1"}, "trim": "none"}"#.into(),
    };
    let response = server
        .client
        .calibrate(bureau(request()))
        .await
        .expect("calibrated")
        .into_inner();
    let table = response.table.clone().expect("table");
    assert_eq!(table.version, 1);
    assert_eq!(table.status, pb::TableStatus::Draft as i32);
    let report: serde_json::Value = serde_json::from_str(&response.report_json).expect("JSON");
    assert_eq!(report["cases_read"], 10);
    assert_eq!(report["all_case_mean_cost"], "15000.00");
    let document: serde_json::Value = serde_json::from_str(&table.document_json).expect("JSON");
    // Base points = group mean / all-case mean × 100.
    assert_eq!(
        document["tables"]["drg"]["groups"]["GB11"]["base_points"],
        "133.3333"
    );
    let replay = server
        .client
        .calibrate(bureau(request()))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replay, response);

    let status = server
        .client
        .calibrate(bureau(pb::CalibrateRequest {
            cases_csv: "year,hospital_code,hospital_level,group_code,total_cost\nyear,H1,9Z,,x\n"
                .into(),
            options_json: "{\"bogus\": 1}".into(),
            ..request()
        }))
        .await
        .expect_err("bad calibration input");
    let fields = violated_fields(&status);
    for field in [
        "options_json",
        "cases_csv.line 2.year",
        "cases_csv.line 2.hospital_level",
        "cases_csv.line 2.group_code",
        "cases_csv.line 2.total_cost",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
}

#[tokio::test]
async fn a_request_id_reused_with_another_table_is_refused_and_stores_nothing() {
    let mut server = start().await;
    let (policy, tables) = document_of("460000", "150");
    let first = server
        .put_table(put("t-1", document_json(&policy, &tables)))
        .await
        .expect("put");
    assert_eq!(first.table.expect("table").version, 1);
    let (policy, other_tables) = document_of("460000", "200");
    let reused = server
        .put_table(put("t-1", document_json(&policy, &other_tables)))
        .await
        .expect_err("another table under the same request id");
    platform::testing::assert_request_id_reused(&reused, "t-1", "PutTable");
    let other_method = server
        .activate_table(activate("t-1", 1))
        .await
        .expect_err("the request id of a PutTable");
    assert_eq!(other_method.code(), Code::AlreadyExists);
    let region = "460000".parse().expect("code");
    assert_eq!(
        server
            .store
            .get(region, 2025, FundType::Employee, Some(2))
            .await
            .expect("read"),
        None,
        "the second table was not stored"
    );
    let stored = server
        .store
        .get(region, 2025, FundType::Employee, Some(1))
        .await
        .expect("read")
        .expect("version 1");
    assert!(
        stored
            .document_json
            .contains("\"base_points\":\"150.0000\""),
        "version 1 keeps the first table: {}",
        stored.document_json
    );
    assert_eq!(server.store.audit_log().await.expect("audit").len(), 1);
}

#[tokio::test]
async fn audit_entries_are_listed_to_administrators_by_filter_and_page() {
    let mut server = start().await;
    let (policy, tables) = document();
    for request_id in ["t-1", "t-2"] {
        server
            .put_table(put(request_id, document_json(&policy, &tables)))
            .await
            .expect("put");
    }
    server
        .activate_table(activate("a-1", 1))
        .await
        .expect("activate");
    let all = server
        .audit(pb::ListAuditEntriesRequest::default(), "460000")
        .await
        .expect("list");
    let seen: Vec<(&str, &str)> = all
        .entries
        .iter()
        .map(|e| (e.method.as_str(), e.request_id.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("PutTable", "t-1"),
            ("PutTable", "t-2"),
            ("ActivateTable", "a-1")
        ]
    );
    assert!(all.entries.iter().all(|e| e.region_code == "460000"));
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let request = pb::ListAuditEntriesRequest {
            method: "PutTable".into(),
            caller_id: "caller-460000".into(),
            page_size: 1,
            page_token: token.clone(),
            ..Default::default()
        };
        let page = server.audit(request, "460000").await.expect("page");
        assert!(page.entries.len() <= 1);
        paged.extend(page.entries.into_iter().map(|e| e.request_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, ["t-1", "t-2"]);
    let earlier = pb::ListAuditEntriesRequest {
        until_unix_seconds: all.entries[0].at_unix_seconds,
        ..Default::default()
    };
    let before = server.audit(earlier, "460000").await.expect("list");
    assert!(before.entries.is_empty(), "nothing was written earlier");
    let county = server
        .audit(pb::ListAuditEntriesRequest::default(), "460108")
        .await
        .expect("county");
    assert!(
        county.entries.is_empty(),
        "the province's tables are outside"
    );
    let denied = server
        .client
        .list_audit_entries(bureau(pb::ListAuditEntriesRequest::default()))
        .await
        .expect_err("not an administrator");
    assert_eq!(denied.code(), Code::PermissionDenied);
}
