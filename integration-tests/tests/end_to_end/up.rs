//! `medpay up` end to end: the real binary on port 0 with a temporary SQLite database, called over
//! a real socket.

use integration_tests::{COUNTY_KEY, Medpay, config_with_county_key};
use medpay_proto::budget::v1 as budget;
use medpay_proto::grouping::v1 as grouping;
use medpay_proto::points::v1 as points;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::supervision::v1 as supervision;
use tokio_stream::StreamExt;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const PUBLIC_SERVICES: [&str; 10] = medpay_proto::PUBLIC_SERVICES;

async fn health_of(channel: &Channel, service: &str) -> anyhow::Result<i32> {
    let response = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await?;
    Ok(response.into_inner().status)
}

async fn reflected_services(channel: &Channel, v1alpha: bool) -> anyhow::Result<Vec<String>> {
    if v1alpha {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new(channel.clone())
            .server_reflection_info(tokio_stream::iter([request]))
            .await?
            .into_inner();
        let mut names = Vec::new();
        while let Some(response) = responses.next().await {
            if let Some(MessageResponse::ListServicesResponse(list)) = response?.message_response {
                names.extend(list.service.into_iter().map(|s| s.name));
            }
        }
        Ok(names)
    } else {
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new(channel.clone())
            .server_reflection_info(tokio_stream::iter([request]))
            .await?
            .into_inner();
        let mut names = Vec::new();
        while let Some(response) = responses.next().await {
            if let Some(MessageResponse::ListServicesResponse(list)) = response?.message_response {
                names.extend(list.service.into_iter().map(|s| s.name));
            }
        }
        Ok(names)
    }
}

#[tokio::test]
async fn up_serves_health_and_reflection_for_every_context_and_stops_cleanly() -> anyhow::Result<()>
{
    let medpay = Medpay::up(&config_with_county_key())?;
    let channel = medpay.channel().await?;

    assert_eq!(
        health_of(&channel, "").await?,
        ServingStatus::Serving as i32
    );
    for service in PUBLIC_SERVICES {
        assert_eq!(
            health_of(&channel, service).await?,
            ServingStatus::Serving as i32,
            "{service}"
        );
    }
    let unknown = health_of(&channel, "medpay.nothing.v1.Nothing").await;
    assert!(unknown.is_err(), "an unknown service has no health status");

    for v1alpha in [false, true] {
        let listed = reflected_services(&channel, v1alpha).await?;
        for service in PUBLIC_SERVICES {
            assert!(
                listed.iter().any(|s| s == service),
                "{service} missing from {listed:?}"
            );
        }
        assert!(
            !listed.iter().any(|s| s.contains(".internal.")),
            "internal contracts are not reflected at the edge: {listed:?}"
        );
    }

    // A fresh `medpay up` groups at once: the demo scheme is active for Hainan.
    let grouped = grouping::grouping_service_client::GroupingServiceClient::new(channel.clone())
        .group_case(grouping::GroupCaseRequest {
            region_code: "460108".into(),
            case: Some(grouping::CaseInput {
                case_id: "demo-1".into(),
                gender: "2".into(),
                age_years: "41".into(),
                diagnoses: vec!["K35.800".into(), "J96.000".into()],
                procedures: vec!["47.0100".into()],
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?
        .into_inner()
        .result
        .expect("result");
    assert_eq!(
        (grouped.adrg.as_str(), grouped.drg.as_str()),
        ("GD1", "GD11")
    );

    let status = medpay.stop()?;
    assert!(status.success(), "medpay exited with {status}");
    Ok(())
}

fn as_county<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {COUNTY_KEY}")).expect("ascii"),
    );
    // A caller cannot widen its own scope by sending principal headers: the edge drops them.
    request
        .metadata_mut()
        .insert("x-medpay-scopes", MetadataValue::from_static("460000"));
    request
}

/// Calls one region-scoped method of every context for `region` as the county agency and returns
/// the codes, in context order.
async fn codes_for(channel: &Channel, region: &str) -> Vec<(&'static str, Code)> {
    let code = |r: Result<Code, tonic::Status>| r.unwrap_or_else(|s| s.code());
    let mut codes = Vec::new();
    let mut grouping =
        grouping::grouping_service_client::GroupingServiceClient::new(channel.clone());
    codes.push((
        "grouping.ListSchemes",
        code(
            grouping
                .list_schemes(as_county(grouping::ListSchemesRequest {
                    region_code: region.into(),
                    ..Default::default()
                }))
                .await
                .map(|_| Code::Ok),
        ),
    ));
    let mut points = points::points_service_client::PointsServiceClient::new(channel.clone());
    codes.push((
        "points.GetTable",
        code(
            points
                .get_table(as_county(points::GetTableRequest {
                    region_code: region.into(),
                    year: 2025,
                    fund_type: 310,
                    version: 0,
                }))
                .await
                .map(|_| Code::Ok),
        ),
    ));
    let mut budget = budget::budget_service_client::BudgetServiceClient::new(channel.clone());
    codes.push((
        "budget.GetBudget",
        code(
            budget
                .get_budget(as_county(budget::GetBudgetRequest {
                    region_code: region.into(),
                    year: 2025,
                    fund_type: 390,
                    version: 0,
                }))
                .await
                .map(|_| Code::Ok),
        ),
    ));
    let mut settlement =
        settlement::settlement_service_client::SettlementServiceClient::new(channel.clone());
    codes.push((
        "settlement.ListCases",
        code(
            settlement
                .list_cases(as_county(settlement::ListCasesRequest {
                    region_code: region.into(),
                    ..Default::default()
                }))
                .await
                .map(|_| Code::Ok),
        ),
    ));
    let mut supervision =
        supervision::supervision_service_client::SupervisionServiceClient::new(channel.clone());
    codes.push((
        "supervision.ListRules",
        code(
            supervision
                .list_rules(as_county(supervision::ListRulesRequest {
                    region_code: region.into(),
                    ..Default::default()
                }))
                .await
                .map(|_| Code::Ok),
        ),
    ));
    codes
}

#[tokio::test]
async fn every_context_refuses_regions_outside_the_callers_scope() -> anyhow::Result<()> {
    let medpay = Medpay::up(&config_with_county_key())?;
    let channel = medpay.channel().await?;

    // The county 460108 asks for its prefecture and for a neighbouring county.
    for foreign in ["460100", "460106", "460000"] {
        for (method, code) in codes_for(&channel, foreign).await {
            assert_eq!(code, Code::PermissionDenied, "{method} for {foreign}");
        }
    }
    // Its own region passes the scope check: lists answer, reads of absent tables say NOT_FOUND.
    let own = codes_for(&channel, "460108").await;
    assert_eq!(
        own,
        vec![
            ("grouping.ListSchemes", Code::Ok),
            ("points.GetTable", Code::NotFound),
            ("budget.GetBudget", Code::NotFound),
            ("settlement.ListCases", Code::Ok),
            ("supervision.ListRules", Code::Ok),
        ]
    );
    // A malformed region is the caller's error, with the field named.
    let mut budget = budget::budget_service_client::BudgetServiceClient::new(channel.clone());
    let status = budget
        .get_budget(as_county(budget::GetBudgetRequest {
            region_code: "4601".into(),
            year: 2025,
            fund_type: 390,
            version: 0,
        }))
        .await
        .expect_err("malformed region");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("region_code"),
        "{}",
        status.message()
    );

    // An unknown key is refused before any service sees the request.
    let mut request = Request::new(supervision::ListRulesRequest {
        region_code: "460108".into(),
        ..Default::default()
    });
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::from_static("Bearer not-a-key"),
    );
    let status =
        supervision::supervision_service_client::SupervisionServiceClient::new(channel.clone())
            .list_rules(request)
            .await
            .expect_err("unknown key");
    assert_eq!(status.code(), Code::Unauthenticated);

    assert!(medpay.stop()?.success());
    Ok(())
}

#[tokio::test]
async fn without_anonymous_access_calls_need_a_key_but_probes_work() -> anyhow::Result<()> {
    let medpay =
        Medpay::up("[telemetry]\nlog_filter = \"warn\"\n[auth]\nallow_anonymous = false\n")?;
    let channel = medpay.channel().await?;
    assert_eq!(
        health_of(&channel, "").await?,
        ServingStatus::Serving as i32
    );
    assert!(!reflected_services(&channel, false).await?.is_empty());
    let status = supervision::supervision_service_client::SupervisionServiceClient::new(channel)
        .list_rules(supervision::ListRulesRequest {
            region_code: "460000".into(),
            ..Default::default()
        })
        .await
        .expect_err("no credentials");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(medpay.stop()?.success());
    Ok(())
}
