//! Rule 5 (upcoding) over real gRPC, on the grouping facts settlement streams with each stored
//! list: the secondaries a DRG scheme counted as MCC or CC (arm a) and the treatment type of a
//! DIP group (arm b's DIP form).

use medpay_proto::common::v1 as common;
use medpay_proto::settlement::internal::v1 as settlement;
use medpay_proto::supervision::v1 as pb;
use platform::testing::as_caller;

use crate::fake_settlement::{FakeSettlement, StoredCase, fee_line, stored_list};
use crate::{SANYA, supervision};

/// 人血白蛋白注射液: the demo items table says it evidences E and K diagnoses.
const ALBUMIN: &str = "XB05BAA001";
const OPERATION: &str = "003307000010000-330700001";
const DIP_GROUP: &str = "K35.8:47.0100x001";

fn sanya<T>(message: T) -> tonic::Request<T> {
    as_caller(message, "agency-sanya", SANYA, &["run", "read", "review"])
}

/// A March stay in Sanya (grouped ES23 and paid by DRG, as the fake stores it) with a second
/// diagnosis E87.100.
fn stay(id: &str, lines: Vec<serde_json::Value>) -> StoredCase {
    let mut case = stored_list(SANYA, id, id, "2026-03-02 08:00", "2026-03-09 10:00", lines);
    let mut list: serde_json::Value =
        serde_json::from_str(&case.message.case_json).expect("stored list");
    if let Some(diagnoses) = list["diagnoses"].as_array_mut() {
        diagnoses.push(serde_json::json!({
            "code": "E87.100", "name": "低渗性低钠血症", "admission_condition": 1
        }));
    }
    case.message.case_json = list.to_string();
    case
}

/// The stay with the facts grouping reported at intake: E87.100 counted as a CC.
fn counted(mut case: StoredCase) -> StoredCase {
    case.message.grouping = Some(settlement::GroupingFacts {
        complications: vec![settlement::CountedDiagnosis {
            position: 2,
            code: "E87.100".into(),
            kind: "cc".into(),
        }],
        dip_treatment: String::new(),
    });
    case
}

/// The stay paid by DIP in a group of `treatment`.
fn dip_paid(mut case: StoredCase, treatment: &str) -> StoredCase {
    let summary = case.message.summary.as_mut().expect("summary");
    summary.payment_mode = "dip".into();
    summary.group_code = DIP_GROUP.into();
    case.message.grouping = Some(settlement::GroupingFacts {
        complications: Vec::new(),
        dip_treatment: treatment.into(),
    });
    case
}

#[tokio::test]
async fn upcoding_reads_the_complications_grouping_counted_and_the_dip_groups_treatment() {
    let albumin = || vec![fee_line(ALBUMIN, "09", "398.00", "2026-03-03 09:00")];
    let operation = || vec![fee_line(OPERATION, "06", "2000.00", "2026-03-03 09:00")];
    let mut client = supervision(FakeSettlement {
        cases: vec![
            // ES23 with a counted CC that no line evidences: arm a.
            counted(stay("D1", vec![])),
            // The albumin line evidences E: supported.
            counted(stay("D2", albumin())),
            // No facts from grouping (a list valued before they were kept): nothing counted.
            stay("D3", vec![]),
            // A surgical DIP group without a surgery line: arm b; with one: none.
            dip_paid(stay("P1", vec![]), "surgical"),
            dip_paid(stay("P2", operation()), "surgical"),
            dip_paid(stay("P3", vec![]), "interventional"),
            // A therapeutic group expects no surgery line.
            dip_paid(stay("P4", vec![]), "therapeutic"),
        ],
    })
    .await;
    client
        .screen_cases(sanya(pb::ScreenCasesRequest {
            request_id: "screen-upcoding".into(),
            region_code: SANYA.into(),
            year: 2026,
            month: 3,
        }))
        .await
        .expect("screen");
    let found = client
        .list_findings(sanya(pb::ListFindingsRequest {
            region_code: SANYA.into(),
            period: Some(common::YearMonth {
                year: 2026,
                month: 3,
            }),
            rule_id: "5".into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .expect("findings")
        .into_inner()
        .findings;
    let mut seen: Vec<(String, String, Vec<String>)> = found
        .iter()
        .map(|f| (f.list_id.clone(), f.arm.clone(), f.evidence.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("D1".into(), "a".into(), vec!["E87.100".to_owned()]),
            ("P1".into(), "b".into(), vec![DIP_GROUP.to_owned()]),
            ("P3".into(), "b".into(), vec![DIP_GROUP.to_owned()]),
        ]
    );
    assert!(found.iter().all(|f| f.rule_number == 5));
}

#[tokio::test]
async fn an_unknown_dip_treatment_is_refused_naming_the_list() {
    let mut client = supervision(FakeSettlement {
        cases: vec![dip_paid(stay("P9", vec![]), "robotic")],
    })
    .await;
    let refused = client
        .screen_cases(sanya(pb::ScreenCasesRequest {
            request_id: "screen-bad".into(),
            region_code: SANYA.into(),
            year: 2026,
            month: 3,
        }))
        .await
        .expect_err("an unreadable list");
    assert!(
        refused.message().contains("P9") && refused.message().contains("robotic"),
        "{}",
        refused.message()
    );
}
