//! A screening run over the month's cases (and the month before for readmissions), stored once
//! per request and versioned per rerun, in the caller's region only.

use medpay_proto::supervision::v1 as pb;
use platform::testing::{as_caller, error_reason};
use tonic::Code;

use crate::fake_settlement::{FakeSettlement, fee_line, stored_list};
use crate::{HAIKOU, SANYA, agency, findings, march, screen_request, summary, supervision};

const INFUSION: &str = "003107010010000";
const INJECTION: &str = "003107020010000";

/// P1 readmitted on day 15 after a February stay (rule 2), P2 readmitted on day 16 (no finding),
/// P3 billed an injection beside an infusion on one day (rule 10), and a Sanya stay that a
/// Haikou run must not see.
pub fn march_cases() -> FakeSettlement {
    let stay = |id: &str, person: &str, from: &str, to: &str| {
        stored_list(HAIKOU, id, person, from, to, vec![])
    };
    FakeSettlement {
        cases: vec![
            stay("A1", "P1", "2026-02-20 08:00", "2026-02-25 10:00"),
            stay("A2", "P1", "2026-03-12 08:00", "2026-03-20 10:00"),
            stay("B1", "P2", "2026-02-24 08:00", "2026-03-01 10:00"),
            stay("B2", "P2", "2026-03-17 08:00", "2026-03-22 10:00"),
            stored_list(
                HAIKOU,
                "C1",
                "P3",
                "2026-03-05 08:00",
                "2026-03-08 10:00",
                vec![
                    fee_line(INFUSION, "05", "15.00", "2026-03-06 09:00"),
                    fee_line(INJECTION, "05", "5.00", "2026-03-06 10:00"),
                    fee_line(INJECTION, "05", "5.00", "2026-03-07 10:00"),
                ],
            ),
            stored_list(
                SANYA,
                "S1",
                "P1",
                "2026-03-02 08:00",
                "2026-03-04 10:00",
                vec![],
            ),
        ],
    }
}

#[tokio::test]
async fn a_run_stores_exactly_the_violations_of_the_month() {
    let mut client = supervision(march_cases()).await;
    let answer = client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("screen")
        .into_inner();
    assert_eq!(answer.run_version, 1);
    // March's four Haikou lists; February's stay is read for the pairs only.
    assert_eq!(answer.cases, 4);
    assert_eq!(answer.findings, 2);

    let found = findings(&mut client, march(0)).await;
    assert_eq!(
        summary(&found),
        [
            (2, "A2".into(), "A1".into(), String::new()),
            (10, "C1".into(), String::new(), INJECTION.into()),
        ]
    );
    let duplicate = &found[1];
    assert_eq!(duplicate.rule_id, "duplicate_charging");
    assert_eq!(duplicate.status, "open");
    assert_eq!(duplicate.fee_lines, [2]);
    assert_eq!(duplicate.evidence, [INFUSION]);
    assert_eq!(duplicate.amount, "5.00");
    assert_eq!(duplicate.level, pb::RuleLevel::Strong as i32);
    assert_eq!(found[0].finding_id, "460100-202603-1-1");

    let by_rule = findings(
        &mut client,
        pb::ListFindingsRequest {
            rule_id: "10".into(),
            ..march(0)
        },
    )
    .await;
    assert_eq!(summary(&by_rule).len(), 1);
    let other_hospital = findings(
        &mut client,
        pb::ListFindingsRequest {
            hospital_code: "H002".into(),
            ..march(0)
        },
    )
    .await;
    assert!(other_hospital.is_empty());
    let page = client
        .list_findings(agency(pb::ListFindingsRequest {
            page_size: 1,
            ..march(0)
        }))
        .await
        .expect("first page")
        .into_inner();
    assert_eq!(summary(&page.findings), summary(&found[..1]));
    assert!(!page.next_page_token.is_empty());
}

#[tokio::test]
async fn the_same_request_replays_and_a_new_one_is_the_next_version() {
    let mut client = supervision(march_cases()).await;
    let first = client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("screen")
        .into_inner();
    let again = client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(again, first);
    assert_eq!(findings(&mut client, march(0)).await.len(), 2);

    let rerun = client
        .screen_cases(agency(screen_request("screen-2")))
        .await
        .expect("rerun")
        .into_inner();
    assert_eq!(rerun.run_version, 2);
    assert_eq!(rerun.findings, 2);
    let latest = findings(&mut client, march(0)).await;
    assert!(latest.iter().all(|f| f.run_version == 2));
    assert_eq!(findings(&mut client, march(1)).await.len(), 2);

    let mut other_month = screen_request("screen-1");
    other_month.month = 4;
    let status = client
        .screen_cases(agency(other_month))
        .await
        .expect_err("request id reused with another body");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(error_reason(&status), "REQUEST_ID_REUSED");
}

#[tokio::test]
async fn another_prefecture_is_refused_and_a_bad_request_names_its_fields() {
    let mut client = supervision(march_cases()).await;
    let mut sanya = screen_request("screen-1");
    sanya.region_code = SANYA.into();
    let status = client
        .screen_cases(agency(sanya))
        .await
        .expect_err("Sanya is outside Haikou's scope");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = client
        .list_findings(agency(pb::ListFindingsRequest {
            region_code: SANYA.into(),
            ..march(0)
        }))
        .await
        .expect_err("Sanya's findings");
    assert_eq!(status.code(), Code::PermissionDenied);

    let status = client
        .screen_cases(agency(pb::ScreenCasesRequest {
            request_id: String::new(),
            month: 13,
            ..screen_request("")
        }))
        .await
        .expect_err("no request id, no month 13");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        platform::testing::violated_fields(&status),
        ["request_id", "month"]
    );

    let status = client
        .list_findings(agency(march(0)))
        .await
        .expect_err("nothing screened yet");
    assert_eq!(status.code(), Code::NotFound);

    // A provincial caller screens Haikou: the province contains it.
    let province = as_caller(
        screen_request("province-1"),
        "agency-hainan",
        "460000",
        &["run"],
    );
    let answer = client
        .screen_cases(province)
        .await
        .expect("the province screens Haikou")
        .into_inner();
    assert_eq!(answer.cases, 4);
}
