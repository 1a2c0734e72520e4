//! Credit thresholds per region and year over gRPC: put and read back in versions, the default
//! in force until one is put, bad thresholds refused with their fields and nothing stored, and a
//! hospital's grade following its region's policy.

use medpay_proto::supervision::internal::v1 as internal;
use medpay_proto::supervision::v1 as pb;
use platform::testing::{as_caller, violated_fields};
use tonic::Code;

use crate::assessment::{Assessments, CARD, confirmed, put, run, server};
use crate::responses::hospital;
use crate::{HAIKOU, SANYA, agency};

fn policy(request_id: &str, scores: [&str; 3], findings: [u32; 2]) -> pb::PutCreditPolicyRequest {
    pb::PutCreditPolicyRequest {
        request_id: request_id.into(),
        region_code: HAIKOU.into(),
        year: 2026,
        a_min_score: scores[0].into(),
        a_max_findings: findings[0],
        b_min_score: scores[1].into(),
        b_max_findings: findings[1],
        c_min_score: scores[2].into(),
    }
}

fn bureau<T>(body: T) -> tonic::Request<T> {
    as_caller(body, "bureau", HAIKOU, &["configure"])
}

async fn in_force(client: &mut Assessments, region: &str, year: i32) -> pb::CreditPolicy {
    client
        .get_credit_policy(agency(pb::GetCreditPolicyRequest {
            region_code: region.into(),
            year,
        }))
        .await
        .expect("get credit policy")
        .into_inner()
        .policy
        .expect("policy")
}

fn thresholds(p: &pb::CreditPolicy) -> (i32, &str, u32, &str, u32, &str) {
    (
        p.version,
        p.a_min_score.as_str(),
        p.a_max_findings,
        p.b_min_score.as_str(),
        p.b_max_findings,
        p.c_min_score.as_str(),
    )
}

#[tokio::test]
async fn policies_are_put_in_versions_and_the_default_holds_until_then() {
    let (_, mut client, _) = server().await;
    let default = in_force(&mut client, HAIKOU, 2026).await;
    assert_eq!(thresholds(&default), (0, "90", 0, "75", 2, "60"));
    assert_eq!(default.put_by, "");

    let first = client
        .put_credit_policy(bureau(policy("cp-1", ["95", "80.5", "65"], [0, 1])))
        .await
        .expect("put")
        .into_inner()
        .policy
        .expect("policy");
    assert_eq!(thresholds(&first), (1, "95", 0, "80.5", 1, "65"));
    assert_eq!(first.put_by, "bureau");
    // A retry answers the version stored; a new request is the next version.
    let replayed = client
        .put_credit_policy(bureau(policy("cp-1", ["95", "80.5", "65"], [0, 1])))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed.policy.expect("policy").version, 1);
    client
        .put_credit_policy(bureau(policy("cp-2", ["92", "80", "60"], [1, 3])))
        .await
        .expect("second");
    let now = in_force(&mut client, HAIKOU, 2026).await;
    assert_eq!(thresholds(&now), (2, "92", 1, "80", 3, "60"));
    // Per region and year: another year keeps the default.
    assert_eq!(in_force(&mut client, HAIKOU, 2027).await.version, 0);

    // A hospital reads it; only the configure role puts it, only for its own region.
    let read = client
        .get_credit_policy(hospital(
            pb::GetCreditPolicyRequest {
                region_code: HAIKOU.into(),
                year: 2026,
            },
            "H001",
        ))
        .await
        .expect("a hospital reads the policy")
        .into_inner();
    assert_eq!(read.policy.expect("policy").version, 2);
    let mut elsewhere = policy("cp-3", ["92", "80", "60"], [1, 3]);
    elsewhere.region_code = SANYA.into();
    let refused = client
        .put_credit_policy(bureau(elsewhere))
        .await
        .expect_err("another region");
    assert_eq!(refused.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn bad_thresholds_are_refused_with_their_fields_and_nothing_is_stored() {
    let (_, mut client, _) = server().await;
    // A score padded with leading zeros is refused by its length (rust_decimal would recurse
    // once per zero).
    let padded = format!("{}90", "0".repeat(200_000));
    let cases: [(pb::PutCreditPolicyRequest, &[&str]); 6] = [
        (
            policy("bad-6", [padded.as_str(), "75", "60"], [0, 2]),
            &["a_min_score"],
        ),
        (
            policy("bad-1", ["100.5", "75", "-1"], [0, 2]),
            &["a_min_score", "c_min_score"],
        ),
        (
            policy("bad-2", ["80", "80", "60"], [0, 2]),
            &["b_min_score"],
        ),
        (
            policy("bad-3", ["90", "75", "75.5"], [3, 2]),
            &["c_min_score", "a_max_findings"],
        ),
        (
            policy("bad-4", ["90.125", "", "ninety"], [0, 2]),
            &["b_min_score", "c_min_score", "a_min_score"],
        ),
        (
            pb::PutCreditPolicyRequest {
                year: 0,
                ..policy("bad-5", ["90", "75", "60"], [0, 2])
            },
            &["year"],
        ),
    ];
    for (request, fields) in cases {
        let id = request.request_id.clone();
        let status = client
            .put_credit_policy(bureau(request))
            .await
            .expect_err(&id);
        assert_eq!(status.code(), Code::InvalidArgument, "{id}");
        assert_eq!(violated_fields(&status), fields.to_vec(), "{id}");
    }
    assert_eq!(in_force(&mut client, HAIKOU, 2026).await.version, 0);
}

#[tokio::test]
async fn a_hospital_s_grade_follows_its_region_s_policy() {
    let (mut public, mut client, mut internal) = server().await;
    assert_eq!(confirmed(&mut public).await.len(), 2);
    client
        .put_scorecard(bureau(put("card-1", 2026, CARD)))
        .await
        .expect("put scorecard");
    // H001 scores 41.67 with 2 confirmed findings: D by the default policy (C needs 60).
    let by_default = client
        .run_assessment(agency(run("assess-1", 2026)))
        .await
        .expect("run")
        .into_inner();
    assert_eq!(by_default.run.expect("run").credit_policy_version, 0);
    assert_eq!(by_default.credit_changes[0].to_grade, "D");

    // A region whose C starts at 40 grades the same year C; B still needs 50.
    client
        .put_credit_policy(bureau(policy("cp-1", ["85", "50", "40"], [0, 2])))
        .await
        .expect("put policy");
    let by_policy = client
        .run_assessment(agency(run("assess-2", 2026)))
        .await
        .expect("rerun")
        .into_inner();
    assert_eq!(by_policy.run.expect("run").credit_policy_version, 1);
    let change = &by_policy.credit_changes[0];
    assert_eq!(
        (change.from_grade.as_str(), change.to_grade.as_str()),
        ("D", "C")
    );
    assert_eq!(
        change.reason,
        "score 41.67, 2 confirmed finding(s): C needs a score ≥ 40; A or B not met"
    );
    let credit = client
        .get_credit(agency(pb::GetCreditRequest {
            region_code: HAIKOU.into(),
            hospital_code: "H001".into(),
        }))
        .await
        .expect("credit")
        .into_inner();
    assert_eq!(credit.grade, "C");
    assert_eq!(credit.history.len(), 2);
    // Settlement reads the grade with the score.
    let scores = internal
        .get_assessment_scores(agency(internal::GetAssessmentScoresRequest {
            region_code: HAIKOU.into(),
            year: 2026,
        }))
        .await
        .expect("scores")
        .into_inner();
    assert_eq!(
        (
            scores.scores[0].score.as_str(),
            scores.scores[0].credit_grade.as_str()
        ),
        ("41.67", "C")
    );
}
