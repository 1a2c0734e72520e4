//! Violation deductions read from the supervision context at clearing, over real gRPC to a
//! supervision internal server answering canned deductions: the statement deducts them and lists
//! their findings, typed-in deductions are refused beside them, a supervision that is down or
//! refuses the key fails the clearing (nothing stored, never a silent zero), and a replay answers
//! from the journal without asking again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use medpay_proto::supervision::internal::v1 as sup;
use medpay_proto::supervision::internal::v1::supervision_internal_service_server::{
    SupervisionInternalService, SupervisionInternalServiceServer,
};
use platform::principal::authorize_request;
use settlement_service::supervision_peer::GrpcSupervision;
use tonic::{Response, Status};

use super::*;

/// A supervision internal server answering `answer` (or refusing with `refusal`), counting calls.
#[derive(Clone)]
struct FakeSupervision {
    answer: sup::GetDeductionsResponse,
    /// The assessment scores it answers (none unless a test sets them).
    scores: sup::GetAssessmentScoresResponse,
    refusal: Option<Code>,
    calls: Arc<AtomicUsize>,
}

#[tonic::async_trait]
impl SupervisionInternalService for FakeSupervision {
    async fn get_deductions(
        &self,
        request: Request<sup::GetDeductionsRequest>,
    ) -> Result<Response<sup::GetDeductionsResponse>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // The caller's principal travels with the call, as supervision checks it.
        authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        assert_eq!(request.get_ref().fund_type, FUND);
        assert_eq!(request.get_ref().year, 2025);
        match self.refusal {
            Some(code) => Err(Status::new(code, "invalid api key")),
            None => Ok(Response::new(self.answer.clone())),
        }
    }

    async fn get_assessment_scores(
        &self,
        request: Request<sup::GetAssessmentScoresRequest>,
    ) -> Result<Response<sup::GetAssessmentScoresResponse>, Status> {
        authorize_request(&request, "region_code", &request.get_ref().region_code)?;
        assert_eq!(request.get_ref().year, 2025);
        match self.refusal {
            Some(code) => Err(Status::new(code, "invalid api key")),
            None => Ok(Response::new(self.scores.clone())),
        }
    }
}

fn h002_deduction() -> sup::GetDeductionsResponse {
    let finding = |id: &str, case: &str, amount: &str| sup::DeductionFinding {
        finding_id: id.into(),
        rule_id: "readmission_15_days".into(),
        case_ids: vec![case.into()],
        amount: amount.into(),
    };
    sup::GetDeductionsResponse {
        deductions: vec![sup::Deduction {
            hospital_code: "H002".into(),
            amount: "1500.37".into(),
            findings: vec![
                finding("460108-202503-1-1", "L0002", "1000.00"),
                finding("460108-202507-1-4", "L0006", "500.37"),
            ],
        }],
    }
}

/// A runs server over `db` reading deductions from `supervision`.
async fn with_supervision(db: &DatabaseConnection, supervision: FakeSupervision) -> Server {
    let peer_channel = testing::serve(tonic::service::Routes::new(
        SupervisionInternalServiceServer::new(supervision),
    ))
    .await;
    supervised_by(db, peer_channel).await
}

async fn supervised_by(db: &DatabaseConnection, peer_channel: Channel) -> Server {
    let peer = GrpcSupervision::new(peer_channel, Some("service-key")).expect("peer");
    let api = SettlementRunApi::new(db.clone()).with_supervision(Arc::new(peer));
    let channel = testing::serve(tonic::service::Routes::new(api.into_server())).await;
    Server {
        client: SettlementRunServiceClient::new(channel),
        db: db.clone(),
    }
}

fn fake(refusal: Option<Code>) -> FakeSupervision {
    FakeSupervision {
        answer: h002_deduction(),
        scores: sup::GetAssessmentScoresResponse::default(),
        refusal,
        calls: Arc::new(AtomicUsize::new(0)),
    }
}

async fn statements(server: &mut Server, run_id: &str) -> Vec<serde_json::Value> {
    server
        .client
        .list_statements(as_agency(pb::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: run_id.into(),
            page_size: 10,
            ..Default::default()
        }))
        .await
        .expect("statements")
        .into_inner()
        .statements
        .iter()
        .map(|s| serde_json::from_str(&s.statement_json).expect("json"))
        .collect()
}

fn yuan(value: &serde_json::Value) -> Money {
    value.as_str().expect("money text").parse().expect("money")
}

#[tokio::test]
async fn supervision_deductions_lower_the_standard_and_are_listed_and_replayed() {
    let mut plain = start_seeded().await;
    let reference = plain
        .client
        .run_clearing(as_agency(clearing("clear-plain", "")))
        .await
        .expect("plain clearing")
        .into_inner();
    let reference = statements(&mut plain, &reference.run_id).await;

    let db = testing::sqlite::<Migrator>().await;
    CaseStore::insert_new_many(&db, &seed_cases())
        .await
        .expect("seed");
    let supervision = fake(None);
    let calls = supervision.calls.clone();
    let mut server = with_supervision(&db, supervision).await;
    let first = server
        .client
        .run_clearing(as_agency(clearing("clear-1", "")))
        .await
        .expect("clearing")
        .into_inner();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let deducted = statements(&mut server, &first.run_id).await;
    let h002 = &deducted[1];
    assert_eq!(h002["hospital_code"], "H002");
    assert_eq!(yuan(&h002["violation_deductions"]).to_string(), "1500.37");
    let listed: Vec<&str> = h002["violation_findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["finding_id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed, ["460108-202503-1-1", "460108-202507-1-4"]);
    assert_eq!(h002["violation_findings"][1]["case_ids"][0], "L0006");
    // The hospital's share of the budget is as before; what it is paid drops by the deduction.
    assert_eq!(h002["fund_entitlement"], reference[1]["fund_entitlement"]);
    assert_eq!(
        yuan(&h002["sharing_standard"]),
        yuan(&reference[1]["sharing_standard"]) - "1500.37".parse().expect("money")
    );
    assert_eq!(deducted[0], reference[0]);
    assert!(deducted[2].get("violation_findings").is_none());

    let run = run_of(&mut server, &first.run_id).await.expect("run");
    let inputs: serde_json::Value = serde_json::from_str(&run.inputs_json).expect("inputs");
    assert_eq!(inputs["violation_deductions"]["source"], "supervision");
    assert_eq!(
        inputs["violation_deductions"]["hospitals"][0]["amount"],
        "1500.37"
    );

    // A replay answers from the journal: the same run, supervision not asked again.
    let replay = server
        .client
        .run_clearing(as_agency(clearing("clear-1", "")))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replay, first);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let csv = export(&mut server, &first.run_id, pb::ExportFormat::Csv).await;
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(
        csv.lines()
            .next()
            .expect("header")
            .ends_with(",violation_findings")
    );
    assert!(
        csv.contains("460108-202503-1-1 readmission_15_days L0002 1000.00"),
        "{csv}"
    );
}

#[tokio::test]
async fn typed_in_deductions_are_refused_beside_supervision() {
    let db = testing::sqlite::<Migrator>().await;
    CaseStore::insert_new_many(&db, &seed_cases())
        .await
        .expect("seed");
    register(&db, "H002", "460108").await;
    let inputs = |request_id: &str, deductions: Option<common::Money>| {
        as_agency(pb::PutHospitalYearInputsRequest {
            request_id: request_id.into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: FUND,
            hospitals: vec![pb::HospitalYearInput {
                hospital_code: "H002".into(),
                assessment_coefficient: decimal("0.97"),
                violation_deductions: deductions,
                deposit_returned: None,
                assessment_score: None,
            }],
        })
    };
    // Stored while the server took typed-in deductions.
    let mut typed = Server {
        client: SettlementRunServiceClient::new(
            testing::serve(tonic::service::Routes::new(
                SettlementRunApi::new(db.clone()).into_server(),
            ))
            .await,
        ),
        db: db.clone(),
    };
    typed
        .client
        .put_hospital_year_inputs(inputs("y-typed", money("99.00")))
        .await
        .expect("typed in without supervision");

    let mut server = with_supervision(&db, fake(None)).await;
    let refused = server
        .client
        .put_hospital_year_inputs(inputs("y1", money("99.00")))
        .await
        .expect_err("typed in beside supervision");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        testing::violated_fields(&refused),
        ["hospitals[0].violation_deductions"]
    );
    // The stored typed-in deduction is not silently dropped nor added: the clearing refuses.
    let stale = server
        .client
        .run_clearing(as_agency(clearing("clear-stale", "")))
        .await
        .expect_err("stored typed-in deductions");
    assert_eq!(stale.code(), Code::FailedPrecondition);
    assert_eq!(testing::error_reason(&stale), "TYPED_VIOLATION_DEDUCTIONS");
    assert!(stale.message().contains("H002"), "{}", stale.message());

    // The coefficient alone is taken, and the clearing then runs.
    server
        .client
        .put_hospital_year_inputs(inputs("y2", None))
        .await
        .expect("coefficient only");
    let run = server
        .client
        .run_clearing(as_agency(clearing("clear-2", "")))
        .await
        .expect("clearing")
        .into_inner();
    let h002 = &statements(&mut server, &run.run_id).await[1];
    assert_eq!(h002["assessment_coefficient"], "0.97");
    assert_eq!(yuan(&h002["violation_deductions"]).to_string(), "1500.37");
}

#[tokio::test]
async fn a_supervision_down_or_refusing_fails_the_clearing_and_stores_nothing() {
    let db = testing::sqlite::<Migrator>().await;
    CaseStore::insert_new_many(&db, &seed_cases())
        .await
        .expect("seed");
    let mut denied = with_supervision(&db, fake(Some(Code::Unauthenticated))).await;
    let status = denied
        .client
        .run_clearing(as_agency(clearing("clear-1", "")))
        .await
        .expect_err("bad key");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(testing::error_reason(&status), "SUPERVISION_PEER");
    assert!(
        status.message().contains("invalid api key"),
        "{}",
        status.message()
    );

    // Nothing listens where the peer should be.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{closed}"))
        .expect("endpoint")
        .connect_lazy();
    let mut down = supervised_by(&db, channel).await;
    let status = down
        .client
        .run_clearing(as_agency(clearing("clear-1", "")))
        .await
        .expect_err("supervision down");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(testing::error_reason(&status), "SUPERVISION_PEER");

    let runs = down
        .client
        .list_runs(as_agency(pb::ListRunsRequest {
            region_code: REGION.into(),
            ..Default::default()
        }))
        .await
        .expect("runs")
        .into_inner()
        .runs;
    assert!(runs.is_empty(), "{runs:?}");
}

#[tokio::test]
async fn supervisions_assessment_scores_are_put_on_the_statements_with_their_source() {
    let db = testing::sqlite::<Migrator>().await;
    CaseStore::insert_new_many(&db, &seed_cases())
        .await
        .expect("seed");
    let mut supervision = fake(None);
    supervision.scores = sup::GetAssessmentScoresResponse {
        version: 4,
        scores: vec![sup::AssessmentScore {
            hospital_code: "H001".into(),
            score: "82.50".into(),
            credit_grade: "B".into(),
        }],
    };
    let mut server = with_supervision(&db, supervision).await;
    let run = server
        .client
        .run_clearing(as_agency(clearing("clear-scored", "")))
        .await
        .expect("clearing")
        .into_inner();
    let statements = statements(&mut server, &run.run_id).await;
    assert_eq!(statements[0]["hospital_code"], "H001");
    assert_eq!(statements[0]["assessment_score"], "82.50");
    assert_eq!(statements[0]["assessment_score_source"], "supervision");
    assert_eq!(statements[0]["credit_grade"], "B");
    // A hospital supervision did not assess has no score, no source and no grade.
    assert!(statements[1]["assessment_score"].is_null());
    assert!(statements[1].get("assessment_score_source").is_none());
    assert!(statements[1].get("credit_grade").is_none());
    // The exports carry them in their last columns, blank for the hospital without.
    let csv = export(&mut server, &run.run_id, pb::ExportFormat::Csv).await;
    assert_eq!(sha256_hex(&csv), run.statements_digest);
    let text = String::from_utf8(csv).expect("utf-8");
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let header = &rows[0];
    assert_eq!(
        header[header.len() - 3..],
        [
            "assessment_score",
            "assessment_score_source",
            "credit_grade"
        ]
    );
    assert_eq!(rows[1][0], "H001");
    assert_eq!(rows[1][rows[1].len() - 3..], ["82.50", "supervision", "B"]);
    assert_eq!(rows[2][rows[2].len() - 3..], ["", "", ""]);
    let xlsx = export(&mut server, &run.run_id, pb::ExportFormat::Xlsx).await;
    assert!(xlsx.starts_with(b"PK"), "an XLSX is a zip");
    let stored = run_of(&mut server, &run.run_id).await.expect("run");
    let inputs: serde_json::Value = serde_json::from_str(&stored.inputs_json).expect("inputs");
    assert_eq!(inputs["assessment_scores"]["source"], "supervision");
    assert_eq!(inputs["assessment_scores"]["assessment_version"], 4);
    assert_eq!(inputs["assessment_scores"]["hospitals"]["H001"], "82.50");
}
