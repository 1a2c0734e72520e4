//! Rules 7 and 8 over real gRPC: supervision asks settlement's StreamCases for the outpatient and
//! pharmacy settlements beside the stays and pairs them with the stays of the same patient.

use medpay_proto::common::v1 as common;
use medpay_proto::supervision::v1 as pb;
use platform::testing::as_caller;

use crate::fake_settlement::{FakeSettlement, fee_line, stored_ambulatory, stored_list};
use crate::{Client, SANYA, summary, supervision};

const EXAM: &str = "002201000010000";
const DRUG: &str = "XJ01DDA001";

fn sanya<T>(message: T) -> tonic::Request<T> {
    as_caller(message, "agency-sanya", SANYA, &["run", "read", "review"])
}

/// P1 in hospital H001 from 10 to 15 March with pneumonia; P2 from 25 January to 2 March.
fn cases() -> FakeSettlement {
    let outpatient = |id: &str, person: &str, settled: &str, lines| {
        stored_ambulatory(
            SANYA,
            ("H001", id),
            person,
            "outpatient",
            settled,
            ("J18.000", lines),
        )
    };
    let pharmacy = |id: &str, person: &str, settled: &str| {
        stored_ambulatory(
            SANYA,
            ("P46001", id),
            person,
            "pharmacy",
            settled,
            ("", vec![fee_line(DRUG, "09", "56.00", settled)]),
        )
    };
    FakeSettlement {
        cases: vec![
            stored_list(
                SANYA,
                "L1",
                "P1",
                "2026-03-10 09:00",
                "2026-03-15 09:00",
                vec![],
            ),
            stored_list(
                SANYA,
                "L2",
                "P2",
                "2026-01-25 09:00",
                "2026-03-02 09:00",
                vec![],
            ),
            // Five days before the admission, an exam for the same disease: rule 7.
            outpatient(
                "O1",
                "P1",
                "2026-03-05 10:00",
                vec![
                    fee_line(EXAM, "03", "90.00", "2026-03-05 10:00"),
                    fee_line(DRUG, "09", "56.00", "2026-03-05 10:00"),
                ],
            ),
            // Eight days before: too early for rule 7.
            outpatient(
                "O0",
                "P1",
                "2026-03-02 08:00",
                vec![fee_line(EXAM, "03", "90.00", "2026-03-02 08:00")],
            ),
            // During the stay, at another institution: rule 8.
            pharmacy("Y1", "P1", "2026-03-12 11:00"),
            // At the discharge and the day after: outside the stay.
            pharmacy("Y2", "P1", "2026-03-15 09:00"),
            pharmacy("Y3", "P1", "2026-03-16 10:00"),
            // During P2's long stay, two months before the screened one: rule 8.
            pharmacy("Y4", "P2", "2026-01-28 10:00"),
            // Someone without a stay.
            pharmacy("Y5", "P9", "2026-03-12 11:00"),
        ],
    }
}

async fn rule_findings(client: &mut Client, rule: &str) -> Vec<pb::Finding> {
    client
        .list_findings(sanya(pb::ListFindingsRequest {
            region_code: SANYA.into(),
            period: Some(common::YearMonth {
                year: 2026,
                month: 3,
            }),
            rule_id: rule.into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .expect("findings")
        .into_inner()
        .findings
}

#[tokio::test]
async fn settlements_before_and_during_a_stay_are_found_and_the_day_after_is_not() {
    let mut client = supervision(cases()).await;
    let answer = client
        .screen_cases(sanya(pb::ScreenCasesRequest {
            request_id: "screen-sanya-3".into(),
            region_code: SANYA.into(),
            year: 2026,
            month: 3,
        }))
        .await
        .expect("screen")
        .into_inner();
    // The settlements are read beside the lists, not screened as cases.
    assert_eq!(answer.cases, 2);

    let moved = rule_findings(&mut client, "costs_moved_to_outpatient").await;
    assert_eq!(
        summary(&moved),
        [(7, "L1".into(), "O1".into(), String::new())]
    );
    assert_eq!(moved[0].other_hospital_code, "H001");
    assert_eq!(moved[0].fee_lines, [1], "the exam, not the drug");
    assert_eq!(moved[0].amount, "90.00");

    let during = rule_findings(&mut client, "ambulatory_during_stay").await;
    assert_eq!(
        summary(&during),
        [
            (8, "L1".into(), "Y1".into(), String::new()),
            (8, "L2".into(), "Y4".into(), String::new()),
        ]
    );
    assert_eq!(during[0].other_hospital_code, "P46001");
    assert_eq!(during[0].amount, "56.00");
}
