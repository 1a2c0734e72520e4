//! Special-case review over a real socket: the registry, an application within the quota, the
//! reviewer draw (never from the applicant), decision, appeal by a fresh pair, binding into
//! clearing, refusals of illegal steps and replays of retried requests.

use settlement_domain::ledger::{LedgerStatus, RecordKind};
use std::collections::BTreeSet;

use kernel::{FundType, Money, Points};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::special_case_service_client::SpecialCaseServiceClient;
use platform::testing;
use sea_orm::DatabaseConnection;
use settlement_service::Migrator;
use settlement_service::special_cases::{SpecialCaseApi, bound_decisions};
use settlement_service::store::journal::audit_entries;
use settlement_service::store::ledger::{CaseStore, LedgerCase};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

struct Server {
    client: SpecialCaseServiceClient<Channel>,
    db: DatabaseConnection,
}

async fn start() -> Server {
    let db = testing::sqlite::<Migrator>().await;
    let api = SpecialCaseApi::new(db.clone());
    let channel = testing::serve(tonic::service::Routes::new(api.into_server())).await;
    Server {
        client: SpecialCaseServiceClient::new(channel),
        db,
    }
}

fn as_caller<T>(message: T, scope: &str) -> Request<T> {
    testing::as_caller(message, &format!("caller-{scope}"), scope, &["agency"])
}

fn haikou<T>(message: T) -> Request<T> {
    as_caller(message, "460100")
}

fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

/// `count` current inpatient cases of `hospital` in 2025, paid by `mode`.
async fn seed_cases(db: &DatabaseConnection, hospital: &str, mode: &str, count: usize) {
    let cases: Vec<LedgerCase> = (0..count)
        .map(|i| LedgerCase {
            region: "460108".parse().expect("code"),
            hospital_code: hospital.into(),
            list_id: format!("L{i:04}"),
            version: 1,
            record_kind: RecordKind::Inpatient,
            fund: FundType::Employee,
            discharge_date: 20250301 + (i % 20) as i32,
            payment_mode: mode.into(),
            group_code: "GB13".into(),
            points: Points::from_scaled(1_500_000),
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
            content_hash: format!("{hospital}-{i}"),
            case_json: "{}".into(),
            request_id: "seed".into(),
            stored_at: 1,
            head: None,
        })
        .collect();
    CaseStore::insert_new_many(db, &cases)
        .await
        .expect("seed cases");
}

/// Experts of Haikou: two work at H001 (one of them also at H003), the rest elsewhere.
async fn seed_experts(client: &mut SpecialCaseServiceClient<Channel>) {
    let experts: [(&str, &[&str]); 7] = [
        ("E1", &["H001"]),
        ("E2", &["H002"]),
        ("E3", &["H003"]),
        ("E4", &["H004"]),
        ("E5", &["H005"]),
        ("E6", &["H003", "H001"]),
        ("E7", &["H007"]),
    ];
    for (id, institutions) in experts {
        client
            .put_expert(haikou(pb::PutExpertRequest {
                request_id: format!("expert-{id}"),
                region_code: "460100".into(),
                expert: Some(pb::Expert {
                    expert_id: id.into(),
                    name: format!("Expert {id}"),
                    institution_codes: institutions.iter().map(|s| (*s).to_owned()).collect(),
                    specialty: "internal medicine".into(),
                }),
                active: true,
            }))
            .await
            .expect("put expert");
    }
}

fn apply(request_id: &str, hospital: &str, list_id: &str) -> pb::ApplySpecialCaseRequest {
    pb::ApplySpecialCaseRequest {
        request_id: request_id.into(),
        region_code: "460108".into(),
        hospital_code: hospital.into(),
        list_id: list_id.into(),
        grounds: vec!["very_high_cost".into()],
        material: vec!["DOC-1".into()],
    }
}

fn assign(request_id: &str, application_id: &str, seed: u64) -> pb::AssignReviewersRequest {
    pb::AssignReviewersRequest {
        request_id: request_id.into(),
        region_code: "460108".into(),
        application_id: application_id.into(),
        seed,
    }
}

fn decide(
    request_id: &str,
    application_id: &str,
    decision: &str,
    signed_by: &[String],
) -> pb::DecideSpecialCaseRequest {
    pb::DecideSpecialCaseRequest {
        request_id: request_id.into(),
        region_code: "460108".into(),
        application_id: application_id.into(),
        decision: decision.into(),
        extra_points: (decision == "extra_points").then(|| common::Decimal {
            value: "120.5".into(),
        }),
        signed_by: signed_by.to_vec(),
        note: String::new(),
    }
}

#[tokio::test]
async fn the_whole_flow_binds_a_decision_into_clearing() {
    let Server { mut client, db } = start().await;
    seed_cases(&db, "H001", "drg", 100).await;
    seed_experts(&mut client).await;
    let experts = client
        .list_experts(haikou(pb::ListExpertsRequest {
            region_code: "460100".into(),
        }))
        .await
        .expect("list")
        .into_inner()
        .experts;
    assert_eq!(experts.len(), 7);

    let applied = client
        .apply_special_case(haikou(apply("a1", "H001", "L0007")))
        .await
        .expect("apply")
        .into_inner()
        .special_case
        .expect("case");
    assert_eq!(applied.state, "applied");
    let id = applied.application_id.clone();

    let drawn = client
        .assign_reviewers(haikou(assign("r1", &id, 11)))
        .await
        .expect("assign")
        .into_inner()
        .special_case
        .expect("case");
    assert_eq!(drawn.state, "under_review");
    assert_eq!(drawn.reviewers.len(), 2);
    let first: Vec<String> = drawn.reviewers.clone();

    let decided = client
        .decide_special_case(haikou(decide("d1", &id, "rejected", &first)))
        .await
        .expect("decide")
        .into_inner()
        .special_case
        .expect("case");
    assert_eq!(decided.decision, "rejected");

    let appealed = client
        .appeal_special_case(haikou(pb::AppealSpecialCaseRequest {
            request_id: "p1".into(),
            region_code: "460108".into(),
            application_id: id.clone(),
            reasons: vec!["ICU days were not counted".into()],
            seed: 5,
        }))
        .await
        .expect("appeal")
        .into_inner()
        .special_case
        .expect("case");
    assert_eq!(appealed.state, "under_appeal");
    let second = appealed.reviewers.clone();
    assert_eq!(second.len(), 2);
    assert!(second.iter().all(|r| !first.contains(r)), "a fresh pair");
    assert!(second.iter().all(|r| r != "E1" && r != "E6"));

    client
        .decide_special_case(haikou(decide("d2", &id, "extra_points", &second)))
        .await
        .expect("decide on appeal");
    // Not bound yet: clearing sees nothing.
    let region = "460100".parse().expect("code");
    assert!(
        bound_decisions(&db, region, 2025)
            .await
            .expect("read")
            .is_empty()
    );
    let bound = client
        .bind_special_case(haikou(pb::BindSpecialCaseRequest {
            request_id: "b1".into(),
            region_code: "460108".into(),
            application_id: id.clone(),
        }))
        .await
        .expect("bind")
        .into_inner()
        .special_case
        .expect("case");
    assert_eq!(bound.state, "bound");
    assert_eq!(bound.extra_points.expect("points").value, "120.5000");

    let decisions = bound_decisions(&db, region, 2025).await.expect("read");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].list_id, "L0007");

    let fetched = client
        .get_special_case(haikou(pb::GetSpecialCaseRequest {
            region_code: "460108".into(),
            application_id: id.clone(),
        }))
        .await
        .expect("get")
        .into_inner()
        .special_case
        .expect("case");
    let history: Vec<serde_json::Value> =
        serde_json::from_str(&fetched.history_json).expect("history");
    let actions: Vec<&str> = history
        .iter()
        .map(|step| step["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        [
            "applied",
            "reviewers_drawn",
            "decided",
            "appealed",
            "appeal_reviewers_drawn",
            "decided",
            "bound"
        ]
    );
    let listed = client
        .list_special_cases(haikou(pb::ListSpecialCasesRequest {
            region_code: "460100".into(),
            state: "bound".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .special_cases;
    assert_eq!(listed.len(), 1);
    // A caller of another prefecture sees nothing of it.
    let elsewhere = client
        .get_special_case(as_caller(
            pb::GetSpecialCaseRequest {
                region_code: "460200".into(),
                application_id: id.clone(),
            },
            "460200",
        ))
        .await
        .expect_err("out of region");
    assert_eq!(elsewhere.code(), Code::NotFound);
}

#[tokio::test]
async fn reviewers_never_come_from_the_applying_institution() {
    let Server { mut client, db } = start().await;
    seed_cases(&db, "H001", "drg", 200).await;
    seed_experts(&mut client).await;
    let mut drawn = BTreeSet::new();
    // 5 % of 200 discharges: ten applications, each drawn with another seed.
    for i in 0..10u64 {
        let applied = client
            .apply_special_case(haikou(apply(&format!("a{i}"), "H001", &format!("L{i:04}"))))
            .await
            .expect("apply")
            .into_inner()
            .special_case
            .expect("case");
        let assigned = client
            .assign_reviewers(haikou(assign(
                &format!("r{i}"),
                &applied.application_id,
                i * 7919 + 3,
            )))
            .await
            .expect("assign")
            .into_inner()
            .special_case
            .expect("case");
        for reviewer in &assigned.reviewers {
            assert!(
                reviewer != "E1" && reviewer != "E6",
                "{reviewer} works at the applicant"
            );
        }
        drawn.extend(assigned.reviewers);
    }
    assert!(drawn.len() > 2, "different seeds draw different pairs");
}

#[tokio::test]
async fn an_application_beyond_the_quota_is_refused_naming_it() {
    let Server { mut client, db } = start().await;
    // DIP: 5 ‰ of 200 discharges = one application.
    seed_cases(&db, "H002", "dip", 200).await;
    client
        .apply_special_case(haikou(apply("q1", "H002", "L0001")))
        .await
        .expect("first fits");
    let refused = client
        .apply_special_case(haikou(apply("q2", "H002", "L0002")))
        .await
        .expect_err("over quota");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "SPECIAL_CASE_QUOTA_EXCEEDED");
    assert!(refused.message().contains("quota"), "{}", refused.message());
    assert!(refused.message().contains("H002"), "{}", refused.message());
    // A case not in the ledger cannot be applied for.
    let missing = client
        .apply_special_case(haikou(apply("q3", "H002", "NOPE")))
        .await
        .expect_err("no case");
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn illegal_steps_are_refused_and_retries_replay() {
    let Server { mut client, db } = start().await;
    seed_cases(&db, "H001", "drg", 100).await;
    seed_experts(&mut client).await;
    let applied = client
        .apply_special_case(haikou(apply("a1", "H001", "L0001")))
        .await
        .expect("apply")
        .into_inner()
        .special_case
        .expect("case");
    let id = applied.application_id;
    // The same request again replays; another request for the same case is refused.
    let again = client
        .apply_special_case(haikou(apply("a1", "H001", "L0001")))
        .await
        .expect("replay")
        .into_inner()
        .special_case
        .expect("case");
    assert_eq!(again.application_id, id);
    let twice = client
        .apply_special_case(haikou(apply("a2", "H001", "L0001")))
        .await
        .expect_err("one application per case");
    assert_eq!(twice.code(), Code::AlreadyExists);

    let bind_early = client
        .bind_special_case(haikou(pb::BindSpecialCaseRequest {
            request_id: "b0".into(),
            region_code: "460108".into(),
            application_id: id.clone(),
        }))
        .await
        .expect_err("nothing to bind");
    assert_eq!(bind_early.code(), Code::FailedPrecondition);
    assert_eq!(reason(&bind_early), "ILLEGAL_TRANSITION");
    let decide_early = client
        .decide_special_case(haikou(decide("d0", &id, "rejected", &["E2".to_owned()])))
        .await
        .expect_err("no reviewers yet");
    assert_eq!(reason(&decide_early), "ILLEGAL_TRANSITION");

    let first = client
        .assign_reviewers(haikou(assign("r1", &id, 42)))
        .await
        .expect("assign")
        .into_inner()
        .special_case
        .expect("case");
    // Retried with the same request id: the same pair, not a second draw.
    let replayed = client
        .assign_reviewers(haikou(assign("r1", &id, 42)))
        .await
        .expect("replay")
        .into_inner()
        .special_case
        .expect("case");
    assert_eq!(replayed.reviewers, first.reviewers);
    // Another seed under the same request id is another request: refused, nothing drawn.
    let reused = client
        .assign_reviewers(haikou(assign("r1", &id, 999)))
        .await
        .expect_err("another seed under the same request id");
    assert_eq!(reused.code(), Code::AlreadyExists);
    assert_eq!(reason(&reused), "REQUEST_ID_REUSED");
    let redraw = client
        .assign_reviewers(haikou(assign("r2", &id, 999)))
        .await
        .expect_err("already drawn");
    assert_eq!(reason(&redraw), "ILLEGAL_TRANSITION");
    let stranger = client
        .decide_special_case(haikou(decide("d1", &id, "rejected", &["E1".to_owned()])))
        .await
        .expect_err("not a reviewer");
    assert_eq!(reason(&stranger), "REVIEWER_NOT_ASSIGNED");
    let unknown = client
        .decide_special_case(haikou(decide("d2", &id, "maybe", &first.reviewers)))
        .await
        .expect_err("no such decision");
    assert_eq!(unknown.code(), Code::InvalidArgument);

    client
        .decide_special_case(haikou(decide(
            "d3",
            &id,
            "fee_for_service",
            &first.reviewers,
        )))
        .await
        .expect("decide");
    let bind = |request_id: &str| {
        haikou(pb::BindSpecialCaseRequest {
            request_id: request_id.into(),
            region_code: "460108".into(),
            application_id: id.clone(),
        })
    };
    client.bind_special_case(bind("b1")).await.expect("bind");
    client
        .bind_special_case(bind("b1"))
        .await
        .expect("a retried bind replays");
    let rebind = client
        .bind_special_case(bind("b2"))
        .await
        .expect_err("bound is final");
    assert_eq!(reason(&rebind), "ILLEGAL_TRANSITION");
    let appeal_bound = client
        .appeal_special_case(haikou(pb::AppealSpecialCaseRequest {
            request_id: "p1".into(),
            region_code: "460108".into(),
            application_id: id.clone(),
            reasons: vec!["late".into()],
            seed: 1,
        }))
        .await
        .expect_err("bound is final");
    assert_eq!(reason(&appeal_bound), "ILLEGAL_TRANSITION");

    // Each carried-out step is audited once: 7 experts, apply, assign, decide, bind.
    let audit = audit_entries(&db).await.expect("audit");
    let binds = audit
        .iter()
        .filter(|e| e.method == "BindSpecialCase")
        .count();
    assert_eq!(binds, 1);
    assert_eq!(audit.len(), 7 + 4);
}

/// What a caller of prefecture 460200 is answered for `application_id` by every method that
/// looks an application up, in its own region.
async fn lookups_from_another_prefecture(
    client: &mut SpecialCaseServiceClient<Channel>,
    application_id: &str,
) -> Vec<Status> {
    fn other<T>(message: T) -> Request<T> {
        as_caller(message, "460200")
    }
    let id = || application_id.to_owned();
    let request = |step: &str| format!("other-{step}-{application_id}");
    vec![
        client
            .get_special_case(other(pb::GetSpecialCaseRequest {
                region_code: "460200".into(),
                application_id: id(),
            }))
            .await
            .expect_err("get"),
        client
            .assign_reviewers(other(pb::AssignReviewersRequest {
                region_code: "460200".into(),
                ..assign(&request("assign"), &id(), 1)
            }))
            .await
            .expect_err("assign"),
        client
            .decide_special_case(other(pb::DecideSpecialCaseRequest {
                region_code: "460200".into(),
                ..decide(&request("decide"), &id(), "rejected", &["E2".into()])
            }))
            .await
            .expect_err("decide"),
        client
            .appeal_special_case(other(pb::AppealSpecialCaseRequest {
                request_id: request("appeal"),
                region_code: "460200".into(),
                application_id: id(),
                reasons: vec!["new evidence".into()],
                seed: 1,
            }))
            .await
            .expect_err("appeal"),
        client
            .bind_special_case(other(pb::BindSpecialCaseRequest {
                request_id: request("bind"),
                region_code: "460200".into(),
                application_id: id(),
            }))
            .await
            .expect_err("bind"),
    ]
}

#[tokio::test]
async fn another_regions_case_and_application_answer_exactly_like_missing_ones() {
    let Server { mut client, db } = start().await;
    seed_cases(&db, "H001", "drg", 100).await;
    let mut ids = Vec::new();
    for (request_id, list_id) in [("a1", "L0001"), ("a2", "L0002")] {
        let applied = client
            .apply_special_case(haikou(apply(request_id, "H001", list_id)))
            .await
            .expect("apply")
            .into_inner()
            .special_case
            .expect("special case");
        ids.push(applied.application_id);
    }
    // Application ids are random: two applications of one hospital share nothing to guess by.
    for id in &ids {
        let hex = id.strip_prefix("SC-").expect("prefix");
        assert_eq!(hex.len(), 32, "{id}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
    assert_ne!(ids[0][..10], ids[1][..10]);

    // Applying from another prefecture for H001's case: answered like a case never stored.
    let apply_elsewhere = |list_id: &str, request_id: &str| pb::ApplySpecialCaseRequest {
        region_code: "460200".into(),
        ..apply(request_id, "H001", list_id)
    };
    let stored = client
        .apply_special_case(as_caller(apply_elsewhere("L0003", "x1"), "460200"))
        .await
        .expect_err("another region's case");
    let absent = client
        .apply_special_case(as_caller(apply_elsewhere("L9999", "x2"), "460200"))
        .await
        .expect_err("a missing case");
    assert_eq!(stored.code(), Code::NotFound);
    assert_eq!(stored.code(), absent.code());
    assert_eq!(reason(&stored), reason(&absent));
    assert_eq!(
        stored.message().replace("L0003", "<list>"),
        absent.message().replace("L9999", "<list>")
    );

    let missing = "SC-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let for_existing = lookups_from_another_prefecture(&mut client, &ids[0]).await;
    let for_missing = lookups_from_another_prefecture(&mut client, missing).await;
    for (existing, absent) in for_existing.iter().zip(&for_missing) {
        assert_eq!(existing.code(), Code::NotFound, "{existing:?}");
        assert_eq!(existing.code(), absent.code());
        assert_eq!(reason(existing), reason(absent));
        assert_eq!(
            existing.message().replace(&ids[0], "<id>"),
            absent.message().replace(missing, "<id>")
        );
    }
    // Nothing of it changed the application.
    let own = client
        .get_special_case(haikou(pb::GetSpecialCaseRequest {
            region_code: "460100".into(),
            application_id: ids[0].clone(),
        }))
        .await
        .expect("own region")
        .into_inner()
        .special_case
        .expect("special case");
    assert_eq!(own.state, "applied");
}
