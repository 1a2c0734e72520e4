//! RespondToFinding: the finding's own hospital (or its region's agency) answers an open finding
//! once; the answer is listed with the finding, leaves its status, and the review records it.

use medpay_proto::supervision::v1 as pb;
use platform::testing::{as_caller, as_principal, error_reason, violated_fields};
use tonic::Code;

use crate::deductions::review;
use crate::screening::march_cases;
use crate::{HAIKOU, SANYA, agency, findings, march, screen_request, supervision};

/// A Haikou hospital's key for institution `code`.
pub fn hospital<T>(message: T, code: &str) -> tonic::Request<T> {
    let mut principal =
        platform::testing::principal(&format!("hospital-{code}"), HAIKOU, &["hospital"]);
    principal.institution = Some(code.to_owned());
    as_principal(message, &principal)
}

fn respond(request_id: &str, finding_id: &str, text: &str) -> pb::RespondToFindingRequest {
    pb::RespondToFindingRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        finding_id: finding_id.into(),
        text: text.into(),
    }
}

async fn screened() -> (crate::Client, Vec<pb::Finding>) {
    let mut client = supervision(march_cases()).await;
    client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("screen");
    let found = findings(&mut client, march(0)).await;
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.hospital_code == "H001"));
    (client, found)
}

#[tokio::test]
async fn the_hospital_answers_its_open_finding_once_and_the_review_records_it() {
    let (mut client, found) = screened().await;
    let id = found[0].finding_id.clone();
    let request = respond("answer-1", &id, "The second stay was a planned transfer.");
    let answered = client
        .respond_to_finding(hospital(request.clone(), "H001"))
        .await
        .expect("answer")
        .into_inner()
        .finding
        .expect("finding");
    assert_eq!(answered.response, "The second stay was a planned transfer.");
    assert_eq!(answered.responder, "hospital-H001");
    assert_eq!(answered.status, "open");
    let replayed = client
        .respond_to_finding(hospital(request, "H001"))
        .await
        .expect("replay")
        .into_inner()
        .finding
        .expect("finding");
    assert_eq!(replayed, answered);
    let again = client
        .respond_to_finding(hospital(respond("answer-2", &id, "more"), "H001"))
        .await
        .expect_err("answered once");
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&again), "FINDING_ANSWERED");

    // Listed with the finding; a hospital lists its own findings only.
    let listed = findings(&mut client, march(0)).await;
    assert_eq!(listed[0], answered);
    let own = client
        .list_findings(hospital(march(0), "H001"))
        .await
        .expect("own")
        .into_inner()
        .findings;
    assert_eq!(own.len(), 2);
    let other = client
        .list_findings(hospital(march(0), "H002"))
        .await
        .expect("none of H002")
        .into_inner()
        .findings;
    assert!(other.is_empty());
    let prying = client
        .list_findings(hospital(
            pb::ListFindingsRequest {
                hospital_code: "H001".into(),
                ..march(0)
            },
            "H002",
        ))
        .await
        .expect_err("not H002's");
    assert_eq!(error_reason(&prying), "NOT_YOUR_HOSPITAL");

    let reviewed = client
        .review_finding(agency(review("review-1", &id, "dismissed")))
        .await
        .expect("review")
        .into_inner()
        .finding
        .expect("finding");
    assert!(reviewed.responded_before_review);
    assert_eq!(reviewed.response, answered.response);
    let silent = client
        .review_finding(agency(review(
            "review-2",
            &found[1].finding_id,
            "confirmed",
        )))
        .await
        .expect("review")
        .into_inner()
        .finding
        .expect("finding");
    assert!(!silent.responded_before_review);

    // A decided finding takes no response.
    let late = client
        .respond_to_finding(hospital(
            respond("answer-3", &found[1].finding_id, "late"),
            "H001",
        ))
        .await
        .expect_err("closed");
    assert_eq!(error_reason(&late), "FINDING_DECIDED");
}

#[tokio::test]
async fn another_hospital_another_region_and_an_empty_text_are_refused() {
    let (mut client, found) = screened().await;
    let id = found[1].finding_id.clone();
    let other = client
        .respond_to_finding(hospital(respond("a1", &id, "not ours"), "H002"))
        .await
        .expect_err("H001's finding");
    assert_eq!(other.code(), Code::PermissionDenied);
    assert_eq!(error_reason(&other), "NOT_YOUR_FINDING");

    let sanya_asks_haikou = client
        .respond_to_finding(as_caller(
            respond("a2", &id, "text"),
            "agency-sanya",
            SANYA,
            &["submit"],
        ))
        .await
        .expect_err("Haikou is not Sanya's");
    assert_eq!(error_reason(&sanya_asks_haikou), "REGION_OUT_OF_SCOPE");
    let sanya_own_region = client
        .respond_to_finding(as_caller(
            pb::RespondToFindingRequest {
                region_code: SANYA.into(),
                ..respond("a3", &id, "text")
            },
            "agency-sanya",
            SANYA,
            &["submit"],
        ))
        .await
        .expect_err("the finding is Haikou's");
    assert_eq!(sanya_own_region.code(), Code::NotFound);

    let empty = client
        .respond_to_finding(hospital(respond("a4", &id, "  "), "H001"))
        .await
        .expect_err("empty");
    assert_eq!(violated_fields(&empty), ["text"]);
    let long = client
        .respond_to_finding(hospital(respond("a5", &id, &"字".repeat(4001)), "H001"))
        .await
        .expect_err("too long");
    assert_eq!(violated_fields(&long), ["text"]);

    // The region's agency answers for the hospital.
    let by_agency = client
        .respond_to_finding(as_caller(
            respond("a6", &id, "Sent the medical record."),
            "intake-haikou",
            HAIKOU,
            &["submit"],
        ))
        .await
        .expect("agency")
        .into_inner()
        .finding
        .expect("finding");
    assert_eq!(by_agency.responder, "intake-haikou");
    assert_eq!(by_agency.status, "open");
}
