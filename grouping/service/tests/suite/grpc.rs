//! The grouping API over a real socket: grouping with the active scheme, streaming in order,
//! explanation, the registry (load, activate, audit, idempotency) and its permissions, building a
//! DIP directory from history, and the internal batch grouping other contexts call.

use std::sync::Arc;

use grouping_service::catalog::SchemeCatalog;
use grouping_service::store::RegistryStore;
use grouping_service::{GroupingApi, Migrator};
use medpay_proto::common::v1::Date;
use medpay_proto::grouping::internal::v1 as gi;
use medpay_proto::grouping::internal::v1::grouping_internal_service_client::GroupingInternalServiceClient;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use tonic::transport::Channel;
use tonic::{Code, Request};

struct Server {
    channel: Channel,
    registry: RegistryStore,
}

async fn start() -> Server {
    let registry = RegistryStore::new(platform::testing::sqlite::<Migrator>().await);
    let api = GroupingApi::start(registry.clone()).await.expect("starts");
    let routes = tonic::service::Routes::new(api.clone().into_internal_server())
        .add_service(api.into_server());
    let channel = platform::testing::serve(routes).await;
    Server { channel, registry }
}

/// `message` sent by a caller acting in `scope` with `roles`.
fn as_caller<T>(message: T, scope: &str, roles: &[&str]) -> Request<T> {
    platform::testing::as_caller(message, &format!("caller-{scope}"), scope, roles)
}

fn bureau<T>(message: T) -> Request<T> {
    as_caller(message, "460000", &["bureau"])
}

fn case(id: &str, diagnoses: &[&str], procedures: &[&str]) -> pb::CaseInput {
    pb::CaseInput {
        case_id: id.into(),
        gender: "1".into(),
        age_years: "35".into(),
        diagnoses: diagnoses.iter().map(|d| (*d).to_owned()).collect(),
        procedures: procedures.iter().map(|p| (*p).to_owned()).collect(),
        ..Default::default()
    }
}

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

async fn activate_demo(
    client: &mut GroupingServiceClient<Channel>,
    request_id: &str,
    from: Option<Date>,
) -> Result<pb::ActivateSchemeResponse, tonic::Status> {
    client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: request_id.into(),
            region_code: "460000".into(),
            scheme_id: "demo".into(),
            version: "1".into(),
            effective_from: from,
        }))
        .await
        .map(tonic::Response::into_inner)
}

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

#[tokio::test]
async fn activation_is_audited_idempotent_and_forward_only() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let first = activate_demo(&mut client, "act-7", date(2025, 1, 1))
        .await
        .expect("activated");
    // The same request again replays the first answer and writes nothing.
    let again = activate_demo(&mut client, "act-7", date(2025, 1, 1))
        .await
        .expect("replayed");
    assert_eq!(first, again);
    let audit = server.registry.audit_log().await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].method, "ActivateScheme");
    assert_eq!(audit[0].request_id, "act-7");
    assert!(
        audit[0].detail.contains("demo 1 from 20250101"),
        "{}",
        audit[0].detail
    );

    // A new activation may not start on or before the latest one.
    let backdated = activate_demo(&mut client, "act-8", date(2024, 6, 1))
        .await
        .expect_err("backdated");
    assert_eq!(backdated.code(), Code::FailedPrecondition);
    let unknown = client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: "act-9".into(),
            region_code: "460000".into(),
            scheme_id: "nope".into(),
            version: "1".into(),
            effective_from: date(2026, 1, 1),
        }))
        .await
        .expect_err("unknown scheme");
    assert_eq!(unknown.code(), Code::FailedPrecondition);
    let impossible = activate_demo(&mut client, "act-10", date(2026, 2, 30))
        .await
        .expect_err("bad date");
    assert_eq!(impossible.code(), Code::InvalidArgument);

    // Roles are the edge's (platform::access, integration-tests/tests/access.rs).
    assert_eq!(server.registry.audit_log().await.expect("audit").len(), 1);
}

#[tokio::test]
async fn loaded_schemes_are_validated_listed_and_remembered() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let demo_dir = grouping_domain::demo_scheme_dir();
    let mut files = std::collections::HashMap::new();
    for entry in std::fs::read_dir(&demo_dir).expect("demo dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json" || e == "tsv") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_owned();
            let mut bytes = std::fs::read(&path).expect("read");
            if name == "scheme.json" {
                let text = String::from_utf8(bytes).expect("utf8").replacen(
                    "\"version\": \"1\"",
                    "\"version\": \"2\"",
                    1,
                );
                bytes = text.into_bytes();
            }
            files.insert(name, bytes);
        }
    }
    let loaded = client
        .load_scheme(bureau(pb::LoadSchemeRequest {
            request_id: "load-1".into(),
            region_code: "460000".into(),
            files: files.clone(),
            kind: pb::SchemeKind::Drg as i32,
            ..Default::default()
        }))
        .await
        .expect("loaded")
        .into_inner()
        .scheme
        .expect("scheme");
    assert_eq!(
        (loaded.scheme_id.as_str(), loaded.version.as_str()),
        ("demo", "2")
    );
    assert!(loaded.drg_count > 0 && loaded.mdc_count > 0);

    // A broken upload is refused with the file named, and nothing is remembered.
    let mut broken = files.clone();
    broken.insert("drg_names.tsv".into(), b"drg\tname\nGD11\n".to_vec());
    let refused = client
        .load_scheme(bureau(pb::LoadSchemeRequest {
            request_id: "load-2".into(),
            region_code: "460000".into(),
            files: broken,
            ..Default::default()
        }))
        .await
        .expect_err("broken");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("drg_names.tsv"),
        "{}",
        refused.message()
    );

    let listed = client
        .list_schemes(bureau(pb::ListSchemesRequest {
            region_code: "460000".into(),
            ..Default::default()
        }))
        .await
        .expect("listed")
        .into_inner();
    let versions: Vec<_> = listed
        .schemes
        .iter()
        .filter(|s| s.kind == pb::SchemeKind::Drg as i32)
        .map(|s| (s.scheme_id.as_str(), s.version.as_str()))
        .collect();
    assert_eq!(versions, [("demo", "1"), ("demo", "2")]);
    assert!(
        listed
            .schemes
            .iter()
            .any(|s| s.kind == pb::SchemeKind::Dip as i32),
        "the demo DIP directory is listed"
    );

    // A restarted service reloads what the registry remembers.
    let restarted = GroupingApi::start(server.registry.clone())
        .await
        .expect("restart");
    drop(restarted);
    let stored = server.registry.schemes().await.expect("schemes");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].version, "2");
    let catalog = SchemeCatalog::with_demo().expect("demo");
    assert_eq!(
        catalog.summaries().len(),
        2,
        "demo DRG scheme and demo DIP directory"
    );
    let _ = Arc::new(catalog);
}

#[tokio::test]
async fn a_dip_directory_groups_through_the_same_method() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let dip_case = |cost: &str, discharge: &str, los: i32| pb::CaseInput {
        case_id: "D1".into(),
        gender: "1".into(),
        age_years: "35".into(),
        diagnoses: vec!["K35.800".into()],
        procedures: vec!["47.0100".into()],
        total_cost: Some(medpay_proto::common::v1::Money { yuan: cost.into() }),
        discharge_type: discharge.into(),
        length_of_stay_days: los,
        ..Default::default()
    };
    let group = |input: pb::CaseInput| {
        bureau(pb::GroupCaseRequest {
            region_code: "460000".into(),
            case: Some(input),
            scheme_id: "demo-460000-2024".into(),
            scheme_version: "2024.1".into(),
            ..Default::default()
        })
    };
    let result = client
        .group_case(group(dip_case("11800.00", "1", 5)))
        .await
        .expect("grouped")
        .into_inner()
        .result
        .expect("result");
    assert_eq!(result.status, pb::GroupStatus::Success as i32);
    assert_eq!(
        result.drg, "K35.8-01",
        "laparoscopic appendectomy core group"
    );
    assert_eq!(
        result.scheme.map(|s| s.kind),
        Some(pb::SchemeKind::Dip as i32)
    );
    assert!(result.dip_coefficient.is_some());

    let bad = client
        .group_case(group(pb::CaseInput {
            age_years: "old".into(),
            total_cost: None,
            ..dip_case("0", "1", 5)
        }))
        .await
        .expect_err("bad fields");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("case.age_years") && bad.message().contains("case.total_cost"),
        "{}",
        bad.message()
    );
}

#[tokio::test]
async fn dip_directories_load_from_a_path_or_an_upload_and_are_validated() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let demo = grouping_dip::demo_dir();
    let mut files = std::collections::HashMap::new();
    for entry in std::fs::read_dir(&demo).expect("demo dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let mut text = std::fs::read_to_string(&path).expect("read");
        if name == "directory.json" {
            text = text.replacen("\"version\": \"2024.1\"", "\"version\": \"2024.2\"", 1);
        }
        files.insert(name, text.into_bytes());
    }
    let uploaded = client
        .load_scheme(bureau(pb::LoadSchemeRequest {
            request_id: "dip-1".into(),
            region_code: "460000".into(),
            files: files.clone(),
            kind: pb::SchemeKind::Dip as i32,
            ..Default::default()
        }))
        .await
        .expect("uploaded")
        .into_inner()
        .scheme
        .expect("scheme");
    assert_eq!(uploaded.kind, pb::SchemeKind::Dip as i32);
    assert_eq!(uploaded.version, "2024.2");
    assert!(
        uploaded.drg_count > uploaded.adrg_count,
        "comprehensive groups counted"
    );

    let from_path = client
        .load_scheme(bureau(pb::LoadSchemeRequest {
            request_id: "dip-2".into(),
            region_code: "460000".into(),
            path: demo.display().to_string(),
            kind: pb::SchemeKind::Dip as i32,
            ..Default::default()
        }))
        .await
        .expect("from path")
        .into_inner()
        .scheme
        .expect("scheme");
    assert_eq!(from_path.version, "2024.1");

    let mut broken = files;
    broken.remove("core_groups.tsv");
    let refused = client
        .load_scheme(bureau(pb::LoadSchemeRequest {
            request_id: "dip-3".into(),
            region_code: "460000".into(),
            files: broken,
            kind: pb::SchemeKind::Dip as i32,
            ..Default::default()
        }))
        .await
        .expect_err("missing table");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("core_groups"),
        "{}",
        refused.message()
    );

    // The uploaded directory is remembered and reloads after a restart.
    let stored = server.registry.schemes().await.expect("schemes");
    assert!(
        stored
            .iter()
            .any(|s| s.kind == "dip" && s.version == "2024.2" && s.files_json.is_some())
    );
    let restarted = GroupingApi::start(server.registry.clone()).await;
    assert!(restarted.is_ok());
}

/// Three years of history: two K35.8 combinations with enough cases for core groups, one I21.9
/// combination without. Every year has the same costs, so no case is trimmed.
fn history() -> String {
    let mut csv = String::from("year,principal_diagnosis,procedures,total_cost\n");
    for year in [2023, 2024, 2025] {
        for i in 0..10 {
            csv.push_str(&format!("{year},K35.800,47.0100,{}\n", 11000 + 100 * i));
            csv.push_str(&format!("{year},K35.800,,{}\n", 5000 + 50 * i));
        }
        for i in 0..2 {
            csv.push_str(&format!("{year},I21.900,36.0700,{}\n", 45000 + 1000 * i));
        }
    }
    csv
}

fn build_request(request_id: &str, load: bool) -> pb::BuildDipDirectoryRequest {
    pb::BuildDipDirectoryRequest {
        request_id: request_id.into(),
        region_code: "460100".into(),
        history_csv: history(),
        years: vec![2023, 2024, 2025],
        min_cases: 15,
        options: Some(pb::DipBuildOptions {
            directory_id: "haikou-dip".into(),
            directory_version: "2026.1".into(),
            ..Default::default()
        }),
        load,
        ..Default::default()
    }
}

fn dip_input(id: &str, diagnosis: &str, procedures: &[&str], cost: &str) -> pb::CaseInput {
    pb::CaseInput {
        case_id: id.into(),
        gender: "1".into(),
        age_years: "35".into(),
        diagnoses: vec![diagnosis.into()],
        procedures: procedures.iter().map(|p| (*p).to_owned()).collect(),
        total_cost: Some(medpay_proto::common::v1::Money { yuan: cost.into() }),
        discharge_type: "1".into(),
        length_of_stay_days: 5,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_dip_directory_built_from_history_loads_and_groups() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());

    // Without `load`, any caller of the region gets the directory and its report.
    let built = client
        .build_dip_directory(as_caller(build_request("", false), "460100", &[]))
        .await
        .expect("built")
        .into_inner();
    assert!(built.scheme.is_none(), "nothing loaded");
    let mut names: Vec<&str> = built.files.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "auxiliary.tsv",
            "cci_weights.tsv",
            "comprehensive_groups.tsv",
            "core_groups.tsv",
            "directory.json",
            "procedure_types.tsv",
            "tumour_markers.tsv"
        ]
    );
    let report = built.report.expect("report");
    assert_eq!(report.cases_read, 66);
    assert_eq!(report.cases_trimmed, 0);
    let years: Vec<(i32, &str)> = report
        .years
        .iter()
        .map(|y| (y.year, y.weight.as_ref().map_or("", |w| w.value.as_str())))
        .collect();
    assert_eq!(years, [(2023, "1"), (2024, "2"), (2025, "7")]);
    // M = (10 × 11450 + 10 × 5225 + 2 × 45500) / 22 in every year; score = mean / M × 1000.
    let groups: Vec<(&str, i32, &str, &str, u64)> = report
        .groups
        .iter()
        .map(|g| {
            (
                g.code.as_str(),
                g.kind,
                g.score.as_ref().map_or("", |s| s.value.as_str()),
                g.mean_cost.as_ref().map_or("", |m| m.yuan.as_str()),
                g.cases,
            )
        })
        .collect();
    let core = pb::DipGroupKind::Core as i32;
    let comprehensive = pb::DipGroupKind::Comprehensive as i32;
    assert_eq!(
        groups,
        [
            ("K35.8-00", core, "445.9748", "5225.00", 30),
            ("K35.8-01", core, "977.3036", "11450.00", 30),
            ("ZH-I21-I", comprehensive, "3883.6081", "45500.00", 6),
        ]
    );
    assert!(report.riv.is_some());

    // Loading needs a request id (its role is checked at the edge).
    let no_id = client
        .build_dip_directory(bureau(build_request("", true)))
        .await
        .expect_err("no request id");
    assert_eq!(no_id.code(), Code::InvalidArgument);

    let loaded = client
        .build_dip_directory(bureau(build_request("b-1", true)))
        .await
        .expect("built and loaded")
        .into_inner();
    let scheme = loaded.scheme.clone().expect("loaded");
    assert_eq!(
        (
            scheme.scheme_id.as_str(),
            scheme.version.as_str(),
            scheme.kind
        ),
        ("haikou-dip", "2026.1", pb::SchemeKind::Dip as i32)
    );
    assert_eq!(
        loaded.files, built.files,
        "the same history builds the same files"
    );
    let replayed = client
        .build_dip_directory(bureau(build_request("b-1", true)))
        .await
        .expect("replayed")
        .into_inner();
    assert_eq!(replayed, loaded);
    client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: "shared-id".into(),
            region_code: "460200".into(),
            scheme_id: "demo".into(),
            version: "1".into(),
            effective_from: date(2025, 1, 1),
        }))
        .await
        .expect("activated");
    let other_method = client
        .build_dip_directory(bureau(build_request("shared-id", true)))
        .await
        .expect_err("the id belongs to an activation");
    assert_eq!(other_method.code(), Code::AlreadyExists);
    assert!(
        other_method.message().contains("ActivateScheme"),
        "{}",
        other_method.message()
    );
    let again = client
        .build_dip_directory(bureau(build_request("b-2", true)))
        .await
        .expect_err("the version exists");
    assert_eq!(again.code(), Code::AlreadyExists);
    let audit = server.registry.audit_log().await.expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.method == "BuildDipDirectory")
            .count(),
        1
    );

    // Loaded inactive; activated for Haikou it groups Haikou's counties.
    let group = |input: pb::CaseInput| {
        bureau(pb::GroupCaseRequest {
            region_code: "460105".into(),
            case: Some(input),
            as_of: date(2026, 3, 1),
            ..Default::default()
        })
    };
    let inactive = client
        .group_case(group(dip_input("H1", "K35.800", &["47.0100"], "11800")))
        .await
        .expect_err("nothing active yet");
    assert_eq!(inactive.code(), Code::FailedPrecondition);
    client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: "act-haikou".into(),
            region_code: "460100".into(),
            scheme_id: "haikou-dip".into(),
            version: "2026.1".into(),
            effective_from: date(2026, 1, 1),
        }))
        .await
        .expect("activated");
    for (input, expected) in [
        (
            dip_input("H1", "K35.800", &["47.0100"], "11800"),
            "K35.8-01",
        ),
        (dip_input("H2", "K35.800", &[], "5000"), "K35.8-00"),
        (
            dip_input("H3", "I21.900", &["36.0700"], "44000"),
            "ZH-I21-I",
        ),
    ] {
        let result = client
            .group_case(group(input))
            .await
            .expect("grouped")
            .into_inner()
            .result
            .expect("result");
        assert_eq!(result.drg, expected);
        assert_eq!(result.status, pb::GroupStatus::Success as i32);
        assert_eq!(
            result.scheme.map(|s| s.scheme_id),
            Some("haikou-dip".to_owned())
        );
    }

    // The directory is remembered: a restarted service loads it again.
    let restarted = GroupingApi::start(server.registry.clone())
        .await
        .expect("restarts");
    drop(restarted);
    assert!(
        server
            .registry
            .schemes()
            .await
            .expect("schemes")
            .iter()
            .any(|s| s.scheme_id == "haikou-dip" && s.files_json.is_some())
    );
}

#[tokio::test]
async fn a_bad_history_or_bad_options_are_named_field_by_field() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let mut request = build_request("", false);
    request
        .history_csv
        .push_str("2025,K35.800,47.0100,abc\n2019,K35.800,,100\n");
    let refused = client
        .build_dip_directory(bureau(request))
        .await
        .expect_err("bad records");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let message = refused.message();
    assert!(message.contains("line 68: BAD_COST"), "{message}");
    assert!(
        message.contains("line 69: YEAR_OUTSIDE_WINDOW"),
        "{message}"
    );

    let mut request = build_request("", false);
    request.score_scale = Some(medpay_proto::common::v1::Decimal {
        value: "lots".into(),
    });
    request.years = vec![2023, 20245];
    request.options = Some(pb::DipBuildOptions {
        procedure_types_scheme_id: "demo".into(),
        procedure_types_version: "1".into(),
        ..Default::default()
    });
    let refused = client
        .build_dip_directory(bureau(request))
        .await
        .expect_err("bad options");
    let message = refused.message();
    for field in [
        "score_scale",
        "years[1]",
        "options.procedure_types_scheme_id",
    ] {
        assert!(message.contains(field), "{field}: {message}");
    }
    let other_region = client
        .build_dip_directory(as_caller(build_request("", false), "460200", &[]))
        .await
        .expect_err("out of scope");
    assert_eq!(other_region.code(), Code::PermissionDenied);
}

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
async fn a_request_id_reused_for_another_activation_is_refused_and_activates_nothing() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    activate_demo(&mut client, "act-1", date(2025, 1, 1))
        .await
        .expect("activated");
    let reused = activate_demo(&mut client, "act-1", date(2026, 1, 1))
        .await
        .expect_err("another date under the same request id");
    assert_eq!(reused.code(), Code::AlreadyExists);
    assert!(
        reused.message().contains("act-1") && reused.message().contains("ActivateScheme"),
        "{}",
        reused.message()
    );
    let region = "460000".parse().expect("code");
    assert_eq!(
        server
            .registry
            .latest_activation_date(region)
            .await
            .expect("read")
            .map(kernel::Date::to_yyyymmdd),
        Some(20250101),
        "the second activation was not stored"
    );
    assert_eq!(server.registry.audit_log().await.expect("audit").len(), 1);
}

#[tokio::test]
async fn audit_entries_are_listed_to_administrators_by_region_filter_and_page() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    activate_demo(&mut client, "act-1", date(2025, 1, 1))
        .await
        .expect("province");
    activate_demo(&mut client, "act-2", date(2025, 7, 1))
        .await
        .expect("province again");
    client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: "act-3".into(),
            region_code: "460105".into(),
            scheme_id: "demo".into(),
            version: "1".into(),
            effective_from: date(2025, 3, 1),
        }))
        .await
        .expect("county");
    let admin =
        |request: pb::ListAuditEntriesRequest, scope: &str| as_caller(request, scope, &["admin"]);
    let ids = |response: pb::ListAuditEntriesResponse| -> Vec<String> {
        response.entries.into_iter().map(|e| e.request_id).collect()
    };
    let all = client
        .list_audit_entries(admin(pb::ListAuditEntriesRequest::default(), "460000"))
        .await
        .expect("province")
        .into_inner();
    assert!(all.entries.iter().all(|e| e.method == "ActivateScheme"));
    assert_eq!(ids(all), ["act-1", "act-2", "act-3"]);
    let county = client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                region_code: "460105".into(),
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("county filter")
        .into_inner();
    assert_eq!(ids(county), ["act-3"]);
    let prefecture = client
        .list_audit_entries(admin(pb::ListAuditEntriesRequest::default(), "460100"))
        .await
        .expect("prefecture scope")
        .into_inner();
    assert_eq!(ids(prefecture), ["act-3"]);
    let first = client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                page_size: 2,
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("first page")
        .into_inner();
    let token = first.next_page_token.clone();
    assert_eq!(ids(first), ["act-1", "act-2"]);
    let second = client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(second.next_page_token, "");
    assert_eq!(ids(second), ["act-3"]);
    let outside = client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                region_code: "460000".into(),
                ..Default::default()
            },
            "460100",
        ))
        .await
        .expect_err("the province is outside a prefecture's scope");
    assert_eq!(outside.code(), Code::PermissionDenied);
    let denied = client
        .list_audit_entries(bureau(pb::ListAuditEntriesRequest::default()))
        .await
        .expect_err("not an administrator");
    assert_eq!(denied.code(), Code::PermissionDenied);
}
