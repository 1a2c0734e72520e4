//! ListCases' keyset pages and ExportCases over a real socket: every case once across pages
//! while cases arrive, tokens refused when altered or used for another request, and a
//! region-month exported whole, once, across the export's chunks.

use std::collections::BTreeMap;

use kernel::{Money, Points, RegionCode};
use settlement_domain::ledger::{LedgerStatus, RecordKind};
use settlement_service::store::ledger::LedgerCase;

use super::*;

fn ledger_case(county: &str, hospital: &str, list_id: &str, discharge: i32) -> LedgerCase {
    LedgerCase {
        region: county.parse::<RegionCode>().expect("region"),
        hospital_code: hospital.into(),
        list_id: list_id.into(),
        version: 1,
        record_kind: RecordKind::Inpatient,
        fund: FundType::Employee,
        discharge_date: discharge,
        payment_mode: "drg".into(),
        group_code: "GB13".into(),
        points: Points::from_scaled(1_000_000),
        total_cost: Money::from_fen(1_000_000),
        individual_burden: Money::from_fen(200_000),
        fund_amount: Money::from_fen(800_000),
        amount: None,
        person_id: String::new(),
        admission_date: 0,
        planned_readmission: false,
        episode_programme: String::new(),
        prior_episode_days: 0,
        status: LedgerStatus::Valued,
        valuation_error: String::new(),
        scheme_version: "demo@1".into(),
        table_version: "t@1".into(),
        valuation_json: "{}".into(),
        content_hash: format!("{hospital}-{list_id}"),
        case_json: "{}".into(),
        request_id: "seed".into(),
        stored_at: 1_700_000_000,
        head: None,
    }
}

/// `count` cases per hospital, discharged on `discharge`.
async fn seed(db: &DatabaseConnection, hospitals: &[(&str, &str)], count: usize, discharge: i32) {
    let cases: Vec<LedgerCase> = hospitals
        .iter()
        .flat_map(|(county, hospital)| {
            (0..count).map(move |n| ledger_case(county, hospital, &format!("L{n:04}"), discharge))
        })
        .collect();
    // A few rows per statement: SQLite bounds the variables of one.
    for chunk in cases.chunks(20) {
        CaseStore::insert_new_many(db, chunk).await.expect("seed");
    }
}

fn list_request(region: &str, page_size: i32, page_token: &str) -> pb::ListCasesRequest {
    pb::ListCasesRequest {
        region_code: region.into(),
        page_size,
        page_token: page_token.into(),
        ..Default::default()
    }
}

fn violated_field(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_list_every_case_once_while_cases_arrive() {
    let Server { mut client, db } = start(true).await;
    seed(&db, &[("460105", "HB"), ("460108", "HA")], 23, 20250615).await;
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = client
            .list_cases(bureau(list_request("460100", 10, &token)))
            .await
            .expect("page")
            .into_inner();
        for case in page.cases {
            *seen.entry((case.hospital_code, case.list_id)).or_default() += 1;
        }
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        // A case behind the pages read and one ahead arrive between pages.
        seed(&db, &[("460105", &format!("HA{pages:02}"))], 1, 20250616).await;
        seed(&db, &[("460108", &format!("HZ{pages:02}"))], 1, 20250616).await;
        token = page.next_page_token;
    }
    assert!(seen.values().all(|&n| n == 1), "no case twice: {seen:?}");
    for hospital in ["HA", "HB"] {
        let of_hospital = seen.keys().filter(|(h, _)| h == hospital).count();
        assert_eq!(of_hospital, 23, "every case of {hospital}");
    }
    let ahead = seen.keys().filter(|(h, _)| h.starts_with("HZ")).count();
    assert_eq!(
        ahead,
        pages - 1,
        "each arrival ahead of the reader listed once"
    );
    assert!(
        seen.keys().all(|(h, _)| !h.starts_with("HA0")),
        "arrivals behind are not"
    );
}

#[tokio::test]
async fn altered_made_up_and_foreign_tokens_are_refused_naming_page_token() {
    let Server { mut client, db } = start(true).await;
    seed(&db, &[("460105", "HB"), ("460108", "HA")], 3, 20250615).await;
    let first = client
        .list_cases(bureau(list_request("460100", 2, "")))
        .await
        .expect("first page")
        .into_inner();
    let token = first.next_page_token;
    assert!(!token.is_empty());
    assert!(!token.contains("o2") || token.len() > 8, "not an offset");

    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
    let altered = String::from_utf8(altered).expect("ascii");
    let mut refusals = vec![
        ("an offset", list_request("460100", 2, "o2")),
        ("made up", list_request("460100", 2, "not-a-token")),
        ("altered", list_request("460100", 2, &altered)),
        ("another region", list_request("460105", 2, &token)),
    ];
    refusals.push((
        "another filter",
        pb::ListCasesRequest {
            status: "valued".into(),
            ..list_request("460100", 2, &token)
        },
    ));
    for (what, request) in refusals {
        let refused = client.list_cases(bureau(request)).await.expect_err(what);
        assert_eq!(refused.code(), Code::InvalidArgument, "{what}");
        assert_eq!(violated_field(&refused), ["page_token"], "{what}");
    }
    // Another page size is the same request.
    let rest = client
        .list_cases(bureau(list_request("460100", 50, &token)))
        .await
        .expect("the rest")
        .into_inner();
    assert_eq!(rest.cases.len(), 4);
    assert!(rest.next_page_token.is_empty());
}

#[tokio::test]
async fn a_region_month_exports_every_case_once_across_chunks() {
    let Server { mut client, db } = start(true).await;
    seed(&db, &[("460105", "HB"), ("460108", "HA")], 620, 20250615).await;
    // Another month, another prefecture, another fund: not exported.
    seed(&db, &[("460105", "HJ")], 5, 20250715).await;
    seed(&db, &[("460201", "HS")], 5, 20250615).await;
    let mut resident = ledger_case("460108", "HR", "R1", 20250620);
    resident.fund = FundType::Resident;
    CaseStore::insert_new_many(&db, &[resident])
        .await
        .expect("resident");

    let export = |region: &str, fund: i32, caller: &str| {
        as_caller(
            pb::ExportCasesRequest {
                region_code: region.into(),
                period: Some(common::YearMonth {
                    year: 2025,
                    month: 6,
                }),
                fund_type: fund,
                hospital_code: String::new(),
            },
            caller,
            "agency",
        )
    };
    let mut stream = client
        .export_cases(export("460100", 310, "460100"))
        .await
        .expect("export")
        .into_inner();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut messages = 0;
    while let Some(message) = stream.next().await {
        let message = message.expect("chunk");
        assert!(message.cases.len() <= 500);
        messages += 1;
        for case in message.cases {
            *seen.entry((case.hospital_code, case.list_id)).or_default() += 1;
        }
    }
    assert!(messages >= 3, "{messages} messages");
    assert_eq!(seen.len(), 1_240, "every employee case of Haikou in June");
    assert!(seen.values().all(|&n| n == 1));
    assert!(seen.keys().all(|(h, _)| h == "HA" || h == "HB"));

    let refused = client
        .export_cases(export("460100", 310, "460105"))
        .await
        .expect_err("a county exports its own cases only");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let without_month = client
        .export_cases(as_caller(
            pb::ExportCasesRequest {
                region_code: "460100".into(),
                ..Default::default()
            },
            "460100",
            "agency",
        ))
        .await
        .expect_err("no month");
    assert_eq!(violated_field(&without_month), ["period"]);
}

// A case a clearing took answers `cleared` in ListCases (and its status filter), GetCase and
// ExportCases, though its ledger row still says valued; its next version answers `valued`.
#[tokio::test]
async fn cases_a_clearing_took_read_as_cleared() {
    let Server { mut client, db } = start(true).await;
    seed(&db, &[("460108", "HA")], 3, 20250615).await;
    let recorded = settlement_service::runs::store::mark_cleared(
        &db,
        "run-1",
        "460100".parse().expect("region"),
        FundType::Employee,
        (20250101, 20251231),
    )
    .await
    .expect("recorded");
    assert_eq!(recorded, 3);
    let mut corrected = ledger_case("460108", "HA", "L0002", 20250615);
    corrected.version = 2;
    corrected.content_hash = "corrected".into();
    CaseStore::insert_current(&db, &corrected)
        .await
        .expect("v2");

    let mut list = async |status: &str| {
        let request = pb::ListCasesRequest {
            status: status.into(),
            ..list_request("460100", 50, "")
        };
        client
            .list_cases(as_caller(request, "460100", "agency"))
            .await
            .expect("list")
            .into_inner()
            .cases
            .into_iter()
            .map(|case| (case.list_id, case.status))
            .collect::<Vec<_>>()
    };
    let pair = |list_id: &str, status: &str| (list_id.to_owned(), status.to_owned());
    assert_eq!(
        list("").await,
        [
            pair("L0000", "cleared"),
            pair("L0001", "cleared"),
            pair("L0002", "valued")
        ]
    );
    assert_eq!(
        list("cleared").await,
        [pair("L0000", "cleared"), pair("L0001", "cleared")]
    );
    assert_eq!(list("valued").await, [pair("L0002", "valued")]);

    let versions = client
        .get_case(as_caller(
            pb::GetCaseRequest {
                region_code: "460100".into(),
                hospital_code: "HA".into(),
                list_id: "L0002".into(),
            },
            "460100",
            "agency",
        ))
        .await
        .expect("get")
        .into_inner()
        .versions;
    let statuses: Vec<String> = versions
        .into_iter()
        .map(|version| version.summary.expect("summary").status)
        .collect();
    assert_eq!(statuses, ["cleared", "valued"]);

    let mut stream = client
        .export_cases(as_caller(
            pb::ExportCasesRequest {
                region_code: "460100".into(),
                period: Some(common::YearMonth {
                    year: 2025,
                    month: 6,
                }),
                fund_type: 310,
                hospital_code: String::new(),
            },
            "460100",
            "agency",
        ))
        .await
        .expect("export")
        .into_inner();
    let mut exported = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message.expect("chunk");
        exported.extend(message.cases.into_iter().map(|c| (c.list_id, c.status)));
    }
    assert_eq!(
        exported,
        [
            pair("L0000", "cleared"),
            pair("L0001", "cleared"),
            pair("L0002", "valued")
        ]
    );
}
