//! The internal batch grouping other contexts call.

use medpay_proto::common::v1::Date;
use medpay_proto::grouping::internal::v1 as gi;
use medpay_proto::grouping::internal::v1::grouping_internal_service_client::GroupingInternalServiceClient;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use tonic::Code;

use super::{activate_demo, as_caller, bureau, date, dip_input, start};

#[tokio::test]
async fn a_batch_groups_each_case_with_the_scheme_of_its_discharge_date() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let mut internal = GroupingInternalServiceClient::new(server.channel.clone());
    // DRG from 2025, the demo DIP directory from 2026 (Hainan switches to DIP).
    activate_demo(&mut client, "act-drg", date(2025, 1, 1))
        .await
        .expect("DRG activated");
    client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: "act-dip".into(),
            region_code: "460000".into(),
            scheme_id: "demo-460000-2024".into(),
            version: "2024.1".into(),
            effective_from: date(2026, 1, 1),
        }))
        .await
        .expect("DIP activated");
    let dated = |input: Option<pb::CaseInput>, discharge_date: Option<Date>| gi::DatedCase {
        case: input,
        discharge_date,
    };
    let appendicitis = |id: &str| dip_input(id, "K35.800", &["47.0100"], "11800");
    let request = gi::GroupBatchRequest {
        region_code: "460108".into(),
        cases: vec![
            dated(Some(appendicitis("in-2025")), date(2025, 6, 1)),
            dated(Some(appendicitis("in-2026")), date(2026, 2, 1)),
            dated(Some(appendicitis("before")), date(2024, 12, 31)),
            dated(Some(appendicitis("no-date")), date(2025, 2, 30)),
            dated(
                Some(pb::CaseInput {
                    total_cost: None,
                    ..appendicitis("no-cost")
                }),
                date(2026, 2, 1),
            ),
            dated(None, date(2026, 2, 1)),
            dated(Some(appendicitis("again-2025")), date(2025, 12, 31)),
        ],
    };
    let results = internal
        .group_batch(bureau(request.clone()))
        .await
        .expect("batch")
        .into_inner()
        .results;
    let seen: Vec<(String, String, String, &str)> = results
        .iter()
        .map(|r| {
            let result = r.result.clone().unwrap_or_default();
            (
                result.case_id,
                result.drg,
                result.scheme.map(|s| s.scheme_id).unwrap_or_default(),
                r.error.as_str(),
            )
        })
        .collect();
    let row = |id: &str, group: &str, scheme: &str, error: &'static str| {
        (id.to_owned(), group.to_owned(), scheme.to_owned(), error)
    };
    assert_eq!(
        seen,
        [
            row("in-2025", "GD15", "demo", ""),
            row("in-2026", "K35.8-01", "demo-460000-2024", ""),
            row("before", "", "", "NO_ACTIVE_SCHEME"),
            row("no-date", "", "", "BAD_DISCHARGE_DATE"),
            row("no-cost", "", "demo-460000-2024", "INVALID_CASE"),
            row("", "", "", "MISSING_CASE"),
            row("again-2025", "GD15", "demo", ""),
        ]
    );
    let kinds: Vec<i32> = results
        .iter()
        .filter_map(|r| r.result.as_ref()?.scheme.as_ref().map(|s| s.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            pb::SchemeKind::Drg as i32,
            pb::SchemeKind::Dip as i32,
            pb::SchemeKind::Dip as i32,
            pb::SchemeKind::Drg as i32
        ]
    );
    let refused = &results[4];
    assert_eq!(
        refused.result.as_ref().map(|r| r.status),
        Some(pb::GroupStatus::CheckFailed as i32)
    );
    assert!(
        refused.error_message.contains("case.total_cost"),
        "{}",
        refused.error_message
    );
    assert!(
        results[1]
            .result
            .as_ref()
            .is_some_and(|r| r.dip_coefficient.is_some())
    );

    let outside = internal
        .group_batch(as_caller(request, "460200", &[]))
        .await
        .expect_err("another prefecture");
    assert_eq!(outside.code(), Code::PermissionDenied);
    let empty = internal
        .group_batch(bureau(gi::GroupBatchRequest {
            region_code: "460000".into(),
            cases: Vec::new(),
        }))
        .await
        .expect("empty batch")
        .into_inner();
    assert!(empty.results.is_empty());
}

#[tokio::test]
async fn a_batch_names_the_codes_the_scheme_of_each_case_does_not_know() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let mut internal = GroupingInternalServiceClient::new(server.channel.clone());
    activate_demo(&mut client, "act-drg", date(2025, 1, 1))
        .await
        .expect("DRG activated");
    client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: "act-dip".into(),
            region_code: "460000".into(),
            scheme_id: "demo-460000-2024".into(),
            version: "2024.1".into(),
            effective_from: date(2026, 1, 1),
        }))
        .await
        .expect("DIP activated");
    let dated = |input: pb::CaseInput, discharge_date: Option<Date>| gi::DatedCase {
        case: Some(input),
        discharge_date,
    };
    // DRG: K35.900 is known through the demo's code map, U99.900 and 99.9999 are in neither
    // dictionary; D64.900 is a known secondary diagnosis.
    let mut drg = dip_input("drg", "K35.900", &["47.0100", "99.9999"], "11800");
    drg.diagnoses
        .extend(["U99.900".to_owned(), "D64.900".to_owned()]);
    // DIP: a principal diagnosis no category of the directory covers is refused, and still
    // named; the directory has no procedure dictionary.
    let dip = dip_input("dip", "99.x00", &["99.9999"], "11800");
    let known = dip_input("known", "K35.800", &["47.0100"], "11800");
    let results = internal
        .group_batch(bureau(gi::GroupBatchRequest {
            region_code: "460108".into(),
            cases: vec![
                dated(drg, date(2025, 6, 1)),
                dated(dip, date(2026, 2, 1)),
                dated(known.clone(), date(2025, 6, 1)),
                dated(known, date(2024, 6, 1)),
            ],
        }))
        .await
        .expect("batch")
        .into_inner()
        .results;
    let unknown: Vec<Vec<(gi::CodeKind, u32, &str)>> = results
        .iter()
        .map(|r| {
            r.unknown_codes
                .iter()
                .map(|u| (u.kind(), u.position, u.code.as_str()))
                .collect()
        })
        .collect();
    assert_eq!(
        unknown,
        [
            vec![
                (gi::CodeKind::Diagnosis, 1, "U99.900"),
                (gi::CodeKind::Procedure, 1, "99.9999"),
            ],
            vec![(gi::CodeKind::Diagnosis, 0, "99.x00")],
            vec![],
            // No scheme in force: nothing to check against.
            vec![],
        ]
    );
    assert_eq!(results[0].error, "");
    assert_eq!(results[1].error, "BAD_PRINCIPAL_DIAGNOSIS");
    assert_eq!(results[3].error, "NO_ACTIVE_SCHEME");
}
