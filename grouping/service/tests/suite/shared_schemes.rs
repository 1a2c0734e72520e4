//! Every scheme of the shared schemes folder (found by listing it) over a real loopback socket:
//! `LoadScheme` accepts it from its server path, `ListSchemes` shows it with the MDC, ADRG and
//! DRG counts its `scheme.json` declares, and `GroupCases` with that scheme groups every row of its
//! `examples.csv` as expected (length of stay and discharge type travel in the case message).
//! The largest regional scheme is also uploaded file by file. Skipped when the folder is absent,
//! except under `CI=true`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use grouping_service::store::RegistryStore;
use grouping_service::{GroupingApi, Migrator};
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use tonic::Request;
use tonic::transport::Channel;

/// `$MEDPAY_SHARED_DIR/schemes`, else `shared/schemes` beside the workspace; `None` when absent
/// outside CI, a failure under `CI=true`.
fn shared_schemes_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("MEDPAY_SHARED_DIR") {
        Some(shared) => PathBuf::from(shared).join("schemes"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemes"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|value| value == "true");
    assert!(
        !ci,
        "shared schemes folder {} is missing (set MEDPAY_SHARED_DIR); required when CI=true",
        dir.display()
    );
    println!(
        "skipped: shared schemes folder {} not found (set MEDPAY_SHARED_DIR)",
        dir.display()
    );
    None
}

fn scheme_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("shared schemes folder readable")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("scheme.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

async fn start() -> Channel {
    let api = GroupingApi::start(RegistryStore::new(
        platform::testing::sqlite::<Migrator>().await,
    ))
    .await
    .expect("starts");
    platform::testing::serve(tonic::service::Routes::new(api.into_server())).await
}

fn bureau<T>(message: T) -> Request<T> {
    platform::testing::as_caller(message, "bureau", "460000", &["configure", "read"])
}

/// (mdcs, adrgs, drgs) as `scheme.json` declares them.
fn declared_counts(dir: &Path) -> (u32, u32, u32) {
    let text = std::fs::read_to_string(dir.join("scheme.json")).expect("scheme.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("scheme.json is JSON");
    let count = |key: &str| {
        json["counts"][key]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or_else(|| panic!("{}: counts.{key}", dir.display()))
    };
    (count("mdcs"), count("adrgs"), count("drgs"))
}

/// The examples as cases (ids are line numbers) and the expected `mdc,adrg,drg,status`.
fn examples(dir: &Path) -> Vec<(pb::CaseInput, String)> {
    let text = std::fs::read_to_string(dir.join("examples.csv")).expect("examples.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{}: column {name}", dir.display()))
    };
    let [
        gender,
        age,
        age_days,
        weight,
        dept,
        stay,
        leaving,
        dx,
        px,
        mdc,
        adrg,
        drg,
        status,
    ] = [
        "gender",
        "age",
        "ageDay",
        "weight",
        "dept",
        "inHospitalTime",
        "leavingType",
        "ICD10_DRGS",
        "ICD9_DRGS",
        "mdc",
        "adrg",
        "drg",
        "status",
    ]
    .map(column);
    let codes = |field: &str| -> Vec<String> {
        if field.is_empty() {
            Vec::new()
        } else {
            field.split('|').map(str::to_owned).collect()
        }
    };
    lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let case = pb::CaseInput {
                case_id: format!("line {}", i + 2),
                gender: f[gender].to_owned(),
                age_years: f[age].to_owned(),
                age_days: f[age_days].to_owned(),
                weight_grams: f[weight].to_owned(),
                department: f[dept].to_owned(),
                diagnoses: codes(f[dx]),
                procedures: codes(f[px]),
                discharge_type: f[leaving].to_owned(),
                length_of_stay_days: f[stay].parse().expect("examples carry integer stays"),
                ..Default::default()
            };
            let expected = [f[mdc], f[adrg], f[drg], f[status]].join(",");
            (case, expected)
        })
        .collect()
}

fn status_text(status: i32) -> String {
    pb::GroupStatus::try_from(status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("GROUP_STATUS_")
                .to_owned()
        })
        .unwrap_or_default()
}

/// Streams every example of a loaded scheme through `GroupCases`; returns each mismatch.
async fn group_examples(
    client: &mut GroupingServiceClient<Channel>,
    scheme: &pb::SchemeInfo,
    dir: &Path,
) -> Vec<String> {
    let examples = examples(dir);
    let messages: Vec<pb::GroupCasesRequest> = examples
        .iter()
        .enumerate()
        .map(|(i, (case, _))| pb::GroupCasesRequest {
            region_code: if i == 0 {
                "460000".into()
            } else {
                String::new()
            },
            scheme_id: if i == 0 {
                scheme.scheme_id.clone()
            } else {
                String::new()
            },
            scheme_version: if i == 0 {
                scheme.version.clone()
            } else {
                String::new()
            },
            case: Some(case.clone()),
            map_codes: false,
        })
        .collect();
    let mut responses = client
        .group_cases(bureau(tokio_stream::iter(messages)))
        .await
        .expect("stream")
        .into_inner();
    let mut mismatches = Vec::new();
    let mut seen = 0;
    while let Some(response) = tokio_stream::StreamExt::next(&mut responses).await {
        let response = response.expect("response");
        let result = response.result.unwrap_or_default();
        let index = usize::try_from(response.sequence).expect("sequence");
        let got = [
            result.mdc.clone(),
            result.adrg.clone(),
            result.drg.clone(),
            status_text(result.status),
        ]
        .join(",");
        let (case, expected) = &examples[index];
        if &got != expected || result.case_id != case.case_id {
            mismatches.push(format!(
                "{} {}: expected {expected}, got {got} ({})",
                scheme.scheme_id, case.case_id, response.error
            ));
        }
        seen += 1;
    }
    if seen != examples.len() {
        mismatches.push(format!(
            "{}: {seen} results for {} cases",
            scheme.scheme_id,
            examples.len()
        ));
    }
    mismatches
}

#[tokio::test]
async fn every_shared_scheme_loads_lists_and_groups_over_grpc() {
    let Some(root) = shared_schemes_dir() else {
        return;
    };
    let dirs = scheme_dirs(&root);
    assert!(!dirs.is_empty(), "no scheme in {}", root.display());
    let mut client = GroupingServiceClient::new(start().await);
    let mut loaded = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let scheme = client
            .load_scheme(bureau(pb::LoadSchemeRequest {
                request_id: format!("load-{i}"),
                region_code: "460000".into(),
                path: dir.display().to_string(),
                kind: pb::SchemeKind::Drg as i32,
                ..Default::default()
            }))
            .await
            .unwrap_or_else(|e| panic!("{} refused: {}", dir.display(), e.message()))
            .into_inner()
            .scheme
            .expect("scheme");
        assert_eq!(
            (scheme.mdc_count, scheme.adrg_count, scheme.drg_count),
            declared_counts(dir),
            "{}",
            dir.display()
        );
        loaded.push((dir.clone(), scheme));
    }

    let listed = client
        .list_schemes(bureau(pb::ListSchemesRequest {
            region_code: "460000".into(),
            page_size: 500,
            ..Default::default()
        }))
        .await
        .expect("listed")
        .into_inner();
    for (dir, scheme) in &loaded {
        let shown = listed
            .schemes
            .iter()
            .find(|s| s.scheme_id == scheme.scheme_id && s.version == scheme.version)
            .unwrap_or_else(|| panic!("{} is not listed", scheme.scheme_id));
        assert_eq!(shown.kind, pb::SchemeKind::Drg as i32);
        assert_eq!(
            (shown.mdc_count, shown.adrg_count, shown.drg_count),
            declared_counts(dir),
            "{}",
            scheme.scheme_id
        );
    }

    let mut mismatches = Vec::new();
    for (dir, scheme) in &loaded {
        mismatches.extend(group_examples(&mut client, scheme, dir).await);
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es):\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The largest regional scheme (by bytes of its files), uploaded file by file rather than named
/// by a server path, loads to the same counts.
#[tokio::test]
async fn the_largest_regional_scheme_loads_from_an_upload() {
    let Some(root) = shared_schemes_dir() else {
        return;
    };
    let size = |dir: &Path| -> u64 {
        std::fs::read_dir(dir)
            .expect("scheme folder")
            .filter_map(Result::ok)
            .filter_map(|entry| entry.metadata().ok())
            .map(|meta| meta.len())
            .sum()
    };
    let Some(largest) = scheme_dirs(&root)
        .into_iter()
        .filter(|dir| !dir.ends_with("chs-drg-1.1") && !dir.ends_with("chs-drg-1.0"))
        .max_by_key(|dir| size(dir))
    else {
        panic!("no regional scheme in {}", root.display());
    };
    let mut files = HashMap::new();
    for entry in std::fs::read_dir(&largest).expect("scheme folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json" || e == "tsv") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_owned();
            files.insert(name, std::fs::read(&path).expect("read"));
        }
    }
    let mut client = GroupingServiceClient::new(start().await).max_encoding_message_size(64 << 20);
    let scheme = client
        .load_scheme(bureau(pb::LoadSchemeRequest {
            request_id: "upload".into(),
            region_code: "460000".into(),
            files,
            kind: pb::SchemeKind::Drg as i32,
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|e| panic!("{} refused: {}", largest.display(), e.message()))
        .into_inner()
        .scheme
        .expect("scheme");
    assert_eq!(
        (scheme.mdc_count, scheme.adrg_count, scheme.drg_count),
        declared_counts(&largest)
    );
}
