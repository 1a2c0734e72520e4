//! DIP directories: loading from a path or an upload, grouping through the same method, and
//! building a directory from history.

use grouping_service::GroupingApi;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use tonic::Code;

use super::{as_caller, bureau, date, dip_input, start};

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
    // A number padded with leading zeros is refused by its length before it is read (the
    // reader recurses once per zero), and the server answers on.
    let mut request = build_request("", false);
    request.score_scale = Some(medpay_proto::common::v1::Decimal {
        value: format!("{}1000", "0".repeat(200_000)),
    });
    let refused = client
        .build_dip_directory(bureau(request))
        .await
        .expect_err("overlong scale");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .contains("score_scale: a decimal number of 200004 characters is refused (at most 64)"),
        "{}",
        refused.message()
    );
    let other_region = client
        .build_dip_directory(as_caller(build_request("", false), "460200", &[]))
        .await
        .expect_err("out of scope");
    assert_eq!(other_region.code(), Code::PermissionDenied);
}

/// The CCI table of the auxiliary-directory build below.
const CCI: &str = "prefix\tweight\tcondition\nI50\t1\tcongestive_heart_failure\n";

#[tokio::test]
async fn a_build_with_a_cci_table_derives_the_auxiliary_directory_and_names_a_bad_table_line() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    // Laparoscopic appendectomies: 15 at 7,000 without comorbidity, 15 at 13,000 with heart
    // failure (CCI 1): the group's mean is 10,000 and CCI 1-2 costs 1.3 times it.
    let mut csv =
        String::from("year,principal_diagnosis,procedures,total_cost,secondary_diagnoses\n");
    for _ in 0..15 {
        csv.push_str("2025,K35.800,47.0100,7000,\n2025,K35.800,47.0100,13000,I50.900\n");
    }
    let request = |cci: &str| pb::BuildDipDirectoryRequest {
        region_code: "460100".into(),
        history_csv: csv.clone(),
        min_cases: 15,
        options: Some(pb::DipBuildOptions {
            trimming: Some(pb::DipTrimming {
                none: true,
                ..Default::default()
            }),
            cci_weights_tsv: cci.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let built = client
        .build_dip_directory(bureau(request(CCI)))
        .await
        .expect("built")
        .into_inner();
    let rows: Vec<(String, String, String, u64, String)> = built
        .report
        .expect("report")
        .auxiliary
        .into_iter()
        .map(|a| {
            (
                a.group,
                a.dimension,
                a.subtype,
                a.cases,
                a.coefficient.map(|c| c.value).unwrap_or_default(),
            )
        })
        .collect();
    let row = |group: &str| (group.into(), "cci".into(), "1-2".into(), 15, "1.3".into());
    assert_eq!(rows, [row("*"), row("K35.8-01")]);
    assert_eq!(
        built.files["auxiliary.tsv"],
        "group\tdimension\tsubtype\tcoefficient\n*\tcci\t1-2\t1.3\nK35.8-01\tcci\t1-2\t1.3\n"
    );
    assert_eq!(built.files["cci_weights.tsv"], CCI);

    let refused = client
        .build_dip_directory(bureau(request(&format!(
            "{CCI}I21\tseven\tmyocardial_infarction\n"
        ))))
        .await
        .expect_err("bad table");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let message = refused.message();
    assert!(
        message.contains("options.cci_weights_tsv") && message.contains("line 3: BAD_VALUE"),
        "{message}"
    );
}
