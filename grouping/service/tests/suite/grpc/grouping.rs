//! Grouping cases with the scheme active for their region and date, one by one and streamed.

use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use tonic::Code;

use super::{activate_demo, as_caller, bureau, case, date, start};

#[tokio::test]
async fn cases_group_with_the_scheme_active_for_their_region_and_date() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let appendicitis = case("A1", &["K35.800"], &["47.0100"]);
    let request = |as_of| {
        bureau(pb::GroupCaseRequest {
            region_code: "460108".into(),
            case: Some(appendicitis.clone()),
            as_of,
            ..Default::default()
        })
    };
    let before = client
        .group_case(request(date(2025, 3, 1)))
        .await
        .expect_err("nothing active");
    assert_eq!(before.code(), Code::FailedPrecondition);

    activate_demo(&mut client, "act-1", date(2025, 1, 1))
        .await
        .expect("activated");
    // A county of Hainan finds the province's activation.
    let grouped = client
        .group_case(request(date(2025, 3, 1)))
        .await
        .expect("grouped")
        .into_inner();
    let result = grouped.result.expect("result");
    assert_eq!(
        (
            result.mdc.as_str(),
            result.adrg.as_str(),
            result.drg.as_str()
        ),
        ("MDCG", "GD1", "GD15")
    );
    assert_eq!(result.status, pb::GroupStatus::Success as i32);
    assert_eq!(
        result.scheme.map(|s| (s.scheme_id, s.version)),
        Some(("demo".into(), "1".into()))
    );
    assert_eq!(result.case_id, "A1");

    let with_mcc = case("A2", &["K35.800", "J96.000"], &["47.0100"]);
    let with_cc = case("A3", &["K35.800", "J18.900"], &["47.0100"]);
    for (input, drg) in [(with_mcc, "GD11"), (with_cc, "GD13")] {
        let result = client
            .group_case(bureau(pb::GroupCaseRequest {
                region_code: "460000".into(),
                case: Some(input),
                as_of: date(2025, 3, 1),
                trace: true,
                ..Default::default()
            }))
            .await
            .expect("grouped")
            .into_inner()
            .result
            .expect("result");
        assert_eq!(result.drg, drg);
        let trace: serde_json::Value =
            serde_json::from_str(&result.trace_json).expect("trace json");
        assert!(
            trace["runs"]
                .as_array()
                .is_some_and(|runs| !runs.is_empty()),
            "{trace}"
        );
    }

    // A county may not group for another prefecture.
    let denied = client
        .group_case(as_caller(
            pb::GroupCaseRequest {
                region_code: "460200".into(),
                case: Some(case("X", &["K35.800"], &[])),
                ..Default::default()
            },
            "460108",
            &[],
        ))
        .await
        .expect_err("outside scope");
    assert_eq!(denied.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn streaming_returns_one_result_per_case_in_input_order() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    activate_demo(&mut client, "act-1", date(2020, 1, 1))
        .await
        .expect("activated");
    let cases: Vec<pb::CaseInput> = (0..500)
        .map(|i| match i % 3 {
            0 => case(&format!("c{i}"), &["K35.800"], &["47.0100"]),
            1 => pb::CaseInput {
                gender: "3".into(),
                ..case(&format!("c{i}"), &["K35.800"], &["47.0100"])
            },
            _ => case(&format!("c{i}"), &["K35.800", "J96.000"], &["47.0100"]),
        })
        .collect();
    let messages: Vec<pb::GroupCasesRequest> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| pb::GroupCasesRequest {
            region_code: if i == 0 {
                "460100".into()
            } else {
                String::new()
            },
            case: Some(c.clone()),
            ..Default::default()
        })
        .collect();
    let mut responses = client
        .group_cases(bureau(tokio_stream::iter(messages)))
        .await
        .expect("stream")
        .into_inner();
    let mut seen = Vec::new();
    while let Some(response) = tokio_stream::StreamExt::next(&mut responses).await {
        seen.push(response.expect("response"));
    }
    assert_eq!(seen.len(), 500);
    for (i, response) in seen.iter().enumerate() {
        assert_eq!(response.sequence, i as u64);
        let result = response.result.as_ref().expect("result");
        assert_eq!(result.case_id, format!("c{i}"));
        let expected = match i % 3 {
            0 => (pb::GroupStatus::Success, "GD15"),
            1 => (pb::GroupStatus::CheckFailed, ""),
            _ => (pb::GroupStatus::Success, "GD11"),
        };
        assert_eq!(
            (result.status, result.drg.as_str()),
            (expected.0 as i32, expected.1),
            "case {i}"
        );
    }
}
