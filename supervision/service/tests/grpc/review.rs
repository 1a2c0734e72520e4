//! Reviewers decide an open finding once; the decision is recorded with who and why.

use medpay_proto::supervision::v1 as pb;
use platform::testing::{error_reason, violated_fields};
use tonic::Code;

use crate::screening::march_cases;
use crate::{HAIKOU, agency, findings, march, screen_request, supervision};

fn review(request_id: &str, finding_id: &str, decision: &str) -> pb::ReviewFindingRequest {
    pb::ReviewFindingRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        finding_id: finding_id.into(),
        decision: decision.into(),
        reason: "medical record checked".into(),
    }
}

#[tokio::test]
async fn an_open_finding_is_confirmed_once_and_not_dismissed_after() {
    let mut client = supervision(march_cases()).await;
    client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("screen");
    let id = findings(&mut client, march(0)).await[0].finding_id.clone();

    let reviewed = client
        .review_finding(agency(review("review-1", &id, "confirmed")))
        .await
        .expect("confirm")
        .into_inner()
        .finding
        .expect("finding");
    assert_eq!(reviewed.status, "confirmed");
    assert_eq!(reviewed.reviewer, "agency-haikou");
    assert_eq!(reviewed.review_reason, "medical record checked");
    let replayed = client
        .review_finding(agency(review("review-1", &id, "confirmed")))
        .await
        .expect("replay")
        .into_inner()
        .finding
        .expect("finding");
    assert_eq!(replayed, reviewed);

    let status = client
        .review_finding(agency(review("review-2", &id, "dismissed")))
        .await
        .expect_err("a confirmed finding is final");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&status), "FINDING_DECIDED");

    let confirmed = findings(
        &mut client,
        pb::ListFindingsRequest {
            status: "confirmed".into(),
            ..march(0)
        },
    )
    .await;
    assert_eq!(
        confirmed
            .iter()
            .map(|f| f.finding_id.as_str())
            .collect::<Vec<_>>(),
        [id.as_str()]
    );
    let open = findings(
        &mut client,
        pb::ListFindingsRequest {
            status: "open".into(),
            ..march(0)
        },
    )
    .await;
    assert_eq!(open.len(), 1);
}

#[tokio::test]
async fn a_review_names_a_finding_of_the_region_a_decision_and_a_reason() {
    let mut client = supervision(march_cases()).await;
    let status = client
        .review_finding(agency(pb::ReviewFindingRequest {
            reason: " ".into(),
            ..review("review-1", "460100-202603-1-1", "reopened")
        }))
        .await
        .expect_err("bad review");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["decision", "reason"]);

    let status = client
        .review_finding(agency(review("review-2", "460100-202603-9-9", "dismissed")))
        .await
        .expect_err("no such finding");
    assert_eq!(status.code(), Code::NotFound);
}
