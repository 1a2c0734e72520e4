//! SupervisionAssessmentService over real gRPC: a scorecard put, a run scoring each hospital
//! from its year's indicators and confirmed findings (hand-computed), versions and replays,
//! credit grades with their history, a hospital held to its own assessment, the internal
//! GetAssessmentScores settlement clears with, and leads linked to findings.

use std::sync::Arc;

use medpay_proto::common::v1 as common;
use medpay_proto::supervision::internal::v1 as internal;
use medpay_proto::supervision::internal::v1::supervision_internal_service_client::SupervisionInternalServiceClient;
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_assessment_service_client::SupervisionAssessmentServiceClient;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use platform::testing::{as_caller, error_reason, serve, sqlite, violated_fields};
use supervision_service::store::SupervisionStore;
use supervision_service::{GrpcCases, Migrator, SupervisionApi, SupervisionAssessmentApi, Tables};
use tonic::Code;
use tonic::transport::Channel;

use crate::deductions::review;
use crate::responses::hospital;
use crate::screening::march_cases;
use crate::{HAIKOU, SANYA, agency, findings, haikou_policy, march, screen_request};

pub type Assessments = SupervisionAssessmentServiceClient<Channel>;

/// The public, assessment and internal services of one supervision server.
pub async fn server() -> (
    SupervisionServiceClient<Channel>,
    Assessments,
    SupervisionInternalServiceClient<Channel>,
) {
    let settlement = serve(tonic::service::Routes::new(march_cases().into_server())).await;
    let store = SupervisionStore::new(sqlite::<Migrator>().await);
    let cases = Arc::new(GrpcCases::new(settlement, None).expect("case source"));
    let tables = Tables::demo().expect("demo tables");
    let assessment = SupervisionAssessmentApi::new(store.clone(), cases.clone(), tables.clone());
    let api = SupervisionApi::new(store, cases, tables).with_parameters(haikou_policy());
    let channel = serve(
        tonic::service::Routes::new(api.clone().into_server())
            .add_service(api.into_internal_server())
            .add_service(assessment.into_server()),
    )
    .await;
    (
        SupervisionServiceClient::new(channel.clone()),
        SupervisionAssessmentServiceClient::new(channel.clone()),
        SupervisionInternalServiceClient::new(channel),
    )
}

/// Cases 5 (H001's Haikou stays of 2026) scored towards 10; 10 points per confirmed finding;
/// admissions per patient towards 1.
pub const CARD: &str = r#"{"items": [
  {"id": "volume", "group": "capacity", "measure": "cases", "weight": "50", "rule": "linear", "target": "10", "zero_at": "0"},
  {"id": "violations", "group": "behaviour", "measure": "confirmed_findings", "weight": "30", "rule": "deduct", "per_unit": "10"},
  {"id": "admissions", "group": "behaviour", "measure": "admissions_per_patient", "weight": "20", "rule": "linear", "target": "1", "zero_at": "2"}
]}"#;

pub fn put(request_id: &str, year: i32, json: &str) -> pb::PutScorecardRequest {
    pb::PutScorecardRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        year,
        scorecard_json: json.into(),
        use_demo: false,
    }
}

pub fn run(request_id: &str, year: i32) -> pb::RunAssessmentRequest {
    pb::RunAssessmentRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        year,
    }
}

/// Screens March 2026 and confirms every finding (the readmission A1 → A2 and the duplicate
/// injection of C1, both H001's): the finding ids.
pub async fn confirmed(client: &mut SupervisionServiceClient<Channel>) -> Vec<String> {
    client
        .screen_cases(agency(screen_request("screen-1")))
        .await
        .expect("screen");
    let found = findings(client, march(0)).await;
    for (n, finding) in found.iter().enumerate() {
        client
            .review_finding(agency(review(
                &format!("r{n}"),
                &finding.finding_id,
                "confirmed",
            )))
            .await
            .expect("confirm");
    }
    found.into_iter().map(|f| f.finding_id).collect()
}

#[tokio::test]
async fn a_run_scores_each_hospital_by_hand_and_grades_its_credit() {
    let (mut public, mut client, mut internal) = server().await;
    let found = confirmed(&mut public).await;
    assert_eq!(found.len(), 2);
    let card = client
        .put_scorecard(as_caller(
            put("card-1", 2026, CARD),
            "bureau",
            HAIKOU,
            &["configure"],
        ))
        .await
        .expect("put scorecard")
        .into_inner()
        .scorecard
        .expect("scorecard");
    assert_eq!(card.version, 1);
    assert_eq!(card.items.len(), 3);
    assert_eq!(card.items[1].per_unit, "10");

    let answer = client
        .run_assessment(agency(run("assess-1", 2026)))
        .await
        .expect("run")
        .into_inner();
    let first = answer.run.expect("run");
    assert_eq!(
        (first.version, first.scorecard_version, first.hospitals),
        (1, 1, 1)
    );
    // D: 41.67 is below 60.
    assert_eq!(answer.credit_changes.len(), 1);
    assert_eq!(answer.credit_changes[0].from_grade, "");
    assert_eq!(answer.credit_changes[0].to_grade, "D");
    assert_eq!(
        answer.credit_changes[0].reason,
        "score 41.67, 2 confirmed finding(s): below the score 60 that C needs"
    );

    let got = client
        .get_assessment(agency(pb::GetAssessmentRequest {
            region_code: HAIKOU.into(),
            year: 2026,
            hospital_code: "H001".into(),
            version: 0,
        }))
        .await
        .expect("get")
        .into_inner()
        .assessment
        .expect("assessment");
    // Five stays of three persons: volume 5 halfway to 10 → 25.00; two confirmed findings →
    // 30 − 20 = 10.00; 5/3 = 1.6667 admissions per patient, 0.6667 of the way to 2 →
    // 20 × 0.3333 = 6.666 → 6.67. Score 41.67.
    let items: Vec<_> = got
        .items
        .iter()
        .map(|i| (i.item_id.as_str(), i.value.as_str(), i.score.as_str()))
        .collect();
    assert_eq!(
        items,
        [
            ("volume", "5", "25.00"),
            ("violations", "2", "10.00"),
            ("admissions", "1.6667", "6.67"),
        ]
    );
    assert_eq!(got.score, "41.67");
    assert_eq!(got.confirmed_findings, 2);
    assert_eq!(got.confirmed_amount, "1005.00");
    assert_eq!(got.credit_grade, "D");
    let groups: Vec<_> = got
        .groups
        .iter()
        .map(|g| (g.group.as_str(), g.score.as_str(), g.weight.as_str()))
        .collect();
    assert_eq!(
        groups,
        [("capacity", "25.00", "50"), ("behaviour", "16.67", "50")]
    );

    // A replay answers the stored run; a new request is the next version, the grade unchanged.
    let replayed = client
        .run_assessment(agency(run("assess-1", 2026)))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed.run.expect("run").version, 1);
    let second = client
        .run_assessment(agency(run("assess-2", 2026)))
        .await
        .expect("rerun")
        .into_inner();
    assert_eq!(second.run.expect("run").version, 2);
    assert!(second.credit_changes.is_empty());
    let credit = client
        .get_credit(agency(pb::GetCreditRequest {
            region_code: HAIKOU.into(),
            hospital_code: "H001".into(),
        }))
        .await
        .expect("credit")
        .into_inner();
    assert_eq!(credit.grade, "D");
    assert_eq!(credit.history.len(), 1);
    assert_eq!(credit.history[0].assessment_version, 1);

    // Settlement reads the latest run of exactly the region.
    let scores = internal
        .get_assessment_scores(agency(internal::GetAssessmentScoresRequest {
            region_code: HAIKOU.into(),
            year: 2026,
        }))
        .await
        .expect("scores")
        .into_inner();
    assert_eq!(scores.version, 2);
    assert_eq!(scores.scores.len(), 1);
    assert_eq!(
        (
            scores.scores[0].hospital_code.as_str(),
            scores.scores[0].score.as_str()
        ),
        ("H001", "41.67")
    );
    let none = internal
        .get_assessment_scores(agency(internal::GetAssessmentScoresRequest {
            region_code: HAIKOU.into(),
            year: 2025,
        }))
        .await
        .expect("never assessed")
        .into_inner();
    assert_eq!((none.version, none.scores.len()), (0, 0));
}

#[tokio::test]
async fn a_hospital_reads_only_its_own_assessment_and_credit() {
    let (_, mut client, _) = server().await;
    client
        .put_scorecard(as_caller(
            put("card-1", 2026, CARD),
            "bureau",
            HAIKOU,
            &["configure"],
        ))
        .await
        .expect("put");
    client
        .run_assessment(agency(run("assess-1", 2026)))
        .await
        .expect("run");
    let own = client
        .list_assessments(hospital(
            pb::ListAssessmentsRequest {
                region_code: HAIKOU.into(),
                year: 2026,
                version: 0,
            },
            "H001",
        ))
        .await
        .expect("own list")
        .into_inner();
    assert_eq!(own.assessments.len(), 1);
    let other = client
        .list_assessments(hospital(
            pb::ListAssessmentsRequest {
                region_code: HAIKOU.into(),
                year: 2026,
                version: 0,
            },
            "H002",
        ))
        .await
        .expect("other list")
        .into_inner();
    assert!(other.assessments.is_empty(), "H002 sees nothing of H001");
    let refused = client
        .get_assessment(hospital(
            pb::GetAssessmentRequest {
                region_code: HAIKOU.into(),
                year: 2026,
                hospital_code: "H001".into(),
                version: 0,
            },
            "H002",
        ))
        .await
        .expect_err("another hospital's");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(error_reason(&refused), "NOT_YOUR_HOSPITAL");
    let refused = client
        .get_credit(hospital(
            pb::GetCreditRequest {
                region_code: HAIKOU.into(),
                hospital_code: "H001".into(),
            },
            "H002",
        ))
        .await
        .expect_err("another hospital's credit");
    assert_eq!(error_reason(&refused), "NOT_YOUR_HOSPITAL");
    let out_of_scope = client
        .list_assessments(as_caller(
            pb::ListAssessmentsRequest {
                region_code: HAIKOU.into(),
                year: 2026,
                version: 0,
            },
            "sanya",
            SANYA,
            &["read"],
        ))
        .await
        .expect_err("another region");
    assert_eq!(out_of_scope.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn bad_scorecards_and_missing_ones_are_refused_with_their_fields() {
    let (_, mut client, _) = server().await;
    let bad = r#"{"items": [
      {"id": "a", "group": "quality", "measure": "no_such_indicator", "weight": "60", "rule": "linear", "target": "1", "zero_at": "1"}
    ]}"#;
    let refused = client
        .put_scorecard(as_caller(
            put("card-bad", 2026, bad),
            "bureau",
            HAIKOU,
            &["configure"],
        ))
        .await
        .expect_err("bad scorecard");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&refused),
        [
            "scorecard_json.items[0].measure",
            "scorecard_json.items[0].zero_at",
            "scorecard_json.items",
        ]
    );
    let mut demo = put("card-demo", 0, "{}");
    demo.use_demo = true;
    let refused = client
        .put_scorecard(as_caller(demo, "bureau", HAIKOU, &["configure"]))
        .await
        .expect_err("demo beside a document, no year");
    assert_eq!(violated_fields(&refused), ["year", "scorecard_json"]);

    let missing = client
        .run_assessment(agency(run("assess-1", 2026)))
        .await
        .expect_err("no scorecard");
    assert_eq!(missing.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&missing), "NO_SCORECARD");
    let mut demo = put("card-demo-2", 2026, "");
    demo.use_demo = true;
    let card = client
        .put_scorecard(as_caller(demo, "bureau", HAIKOU, &["configure"]))
        .await
        .expect("demo scorecard")
        .into_inner()
        .scorecard
        .expect("scorecard");
    assert_eq!(card.items.len(), 11);
    let got = client
        .get_scorecard(agency(pb::GetScorecardRequest {
            region_code: HAIKOU.into(),
            year: 2026,
        }))
        .await
        .expect("get scorecard")
        .into_inner()
        .scorecard
        .expect("scorecard");
    assert_eq!(got, card);
}

fn lead(request_id: &str, hospital_code: &str) -> pb::RecordLeadRequest {
    pb::RecordLeadRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        channel: "hotline_12393".into(),
        received_on: Some(common::Date {
            year: 2026,
            month: 3,
            day: 25,
        }),
        hospital_code: hospital_code.into(),
        summary: "重复收取注射费".into(),
    }
}

fn link(request_id: &str, lead_id: &str, finding_id: &str) -> pb::LinkLeadToFindingRequest {
    pb::LinkLeadToFindingRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        lead_id: lead_id.into(),
        finding_id: finding_id.into(),
    }
}

#[tokio::test]
async fn leads_are_recorded_listed_and_linked_to_findings_of_their_region_and_hospital() {
    let (mut public, mut client, _) = server().await;
    let found = confirmed(&mut public).await;
    let first = client
        .record_lead(agency(lead("lead-1", "H001")))
        .await
        .expect("record")
        .into_inner()
        .lead
        .expect("lead");
    assert_eq!(first.lead_id, "460100-L1");
    let second = client
        .record_lead(agency(lead("lead-2", "H002")))
        .await
        .expect("record")
        .into_inner()
        .lead
        .expect("lead");

    let linked = client
        .link_lead_to_finding(agency(link("link-1", &first.lead_id, &found[1])))
        .await
        .expect("link")
        .into_inner()
        .lead
        .expect("lead");
    assert_eq!(linked.finding_ids, [found[1].clone()]);
    let again = client
        .link_lead_to_finding(agency(link("link-2", &first.lead_id, &found[1])))
        .await
        .expect_err("linked twice");
    assert_eq!(error_reason(&again), "LEAD_ALREADY_LINKED");
    let other = client
        .link_lead_to_finding(agency(link("link-3", &second.lead_id, &found[0])))
        .await
        .expect_err("H002's lead, H001's finding");
    assert_eq!(error_reason(&other), "LEAD_OTHER_HOSPITAL");
    let unknown = client
        .link_lead_to_finding(agency(link("link-4", &first.lead_id, "no-such-finding")))
        .await
        .expect_err("no finding");
    assert_eq!(unknown.code(), Code::NotFound);
    // Sanya's agency reaches neither Haikou's lead nor its finding.
    let mut elsewhere = link("link-5", &first.lead_id, &found[0]);
    elsewhere.region_code = SANYA.into();
    let elsewhere = client
        .link_lead_to_finding(as_caller(elsewhere, "sanya", SANYA, &["review"]))
        .await
        .expect_err("another region's lead");
    assert_eq!(elsewhere.code(), Code::NotFound);

    let listed = client
        .list_leads(agency(pb::ListLeadsRequest {
            region_code: HAIKOU.into(),
            hospital_code: String::new(),
        }))
        .await
        .expect("list")
        .into_inner()
        .leads;
    let ids: Vec<_> = listed.iter().map(|l| l.lead_id.as_str()).collect();
    assert_eq!(ids, ["460100-L2", "460100-L1"], "newest first");
    assert_eq!(listed[1].finding_ids, [found[1].clone()]);

    let mut bad = lead("lead-bad", "H001");
    bad.channel = "phone".into();
    bad.received_on = Some(common::Date {
        year: 2999,
        month: 1,
        day: 1,
    });
    bad.summary = " ".into();
    let refused = client.record_lead(agency(bad)).await.expect_err("bad lead");
    assert_eq!(
        violated_fields(&refused),
        ["channel", "received_on", "summary"]
    );
}
