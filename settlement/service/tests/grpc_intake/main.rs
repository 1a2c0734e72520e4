//! SettlementService over a real socket: the institution registry, streamed and batch intake
//! valued through fake grouping and points peers served over gRPC, rejections, replays, versions,
//! closed months, an unreachable peer, and an upload cut off half way.

use std::sync::Arc;

use kernel::{FundType, YearMonth};
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::internal::v1 as gi;
use medpay_proto::grouping::internal::v1::grouping_internal_service_server::{
    GroupingInternalService, GroupingInternalServiceServer,
};
use medpay_proto::grouping::v1 as grouping;
use medpay_proto::points::internal::v1 as pi;
use medpay_proto::points::internal::v1::points_internal_service_server::{
    PointsInternalService, PointsInternalServiceServer,
};
use medpay_proto::points::v1 as points;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use sea_orm::DatabaseConnection;
use settlement_service::intake::Intake;
use settlement_service::store::closed_months;
use settlement_service::store::ledger::CaseStore;
use settlement_service::valuation::GrpcValuer;
use settlement_service::{Migrator, SettlementApi};
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};
use tonic_types::StatusExt;

#[path = "../support/mod.rs"]
mod support;

mod internal;
mod pages;
mod records;
mod regions;
mod registry;
mod revaluation;
mod typed;
mod uploads;
mod warnings;
use support::{sample_list_json, sample_outpatient_json};

/// The codes the fake scheme does not know: diagnoses and procedures starting with `U`.
fn unknown_codes(diagnoses: &[String], procedures: &[String]) -> Vec<gi::UnknownCode> {
    let unknown = |kind: gi::CodeKind, codes: &[String]| -> Vec<gi::UnknownCode> {
        codes
            .iter()
            .enumerate()
            .filter(|(_, code)| code.starts_with('U'))
            .map(|(i, code)| gi::UnknownCode {
                kind: kind as i32,
                position: i as u32,
                code: code.clone(),
            })
            .collect()
    };
    let mut found = unknown(gi::CodeKind::Diagnosis, diagnoses);
    found.extend(unknown(gi::CodeKind::Procedure, procedures));
    found
}

/// Groups every case into GB13 of scheme demo@1, except a principal diagnosis `Z99.999`; names
/// the codes starting with `U` as unknown.
struct FakeGrouping;

#[tonic::async_trait]
impl GroupingInternalService for FakeGrouping {
    async fn group_batch(
        &self,
        request: Request<gi::GroupBatchRequest>,
    ) -> Result<Response<gi::GroupBatchResponse>, Status> {
        let results = request
            .into_inner()
            .cases
            .into_iter()
            .map(|dated| {
                let case = dated.case.unwrap_or_default();
                let ungroupable = case.diagnoses.first().is_some_and(|d| d == "Z99.999");
                let result = grouping::GroupResult {
                    case_id: case.case_id,
                    status: if ungroupable {
                        grouping::GroupStatus::Fail as i32
                    } else {
                        grouping::GroupStatus::Success as i32
                    },
                    drg: if ungroupable { "0000" } else { "GB13" }.to_owned(),
                    adrg: "GB1".to_owned(),
                    scheme: Some(grouping::SchemeRef {
                        scheme_id: "demo".to_owned(),
                        version: "1".to_owned(),
                        kind: 1,
                    }),
                    ..Default::default()
                };
                gi::GroupBatchResult {
                    result: Some(result),
                    unknown_codes: unknown_codes(&case.diagnoses, &case.procedures),
                    ..Default::default()
                }
            })
            .collect();
        Ok(Response::new(gi::GroupBatchResponse { results }))
    }
}

/// Values a grouped case at 1.5 points with table version 3; refuses an ungrouped one.
struct FakePoints;

#[tonic::async_trait]
impl PointsInternalService for FakePoints {
    async fn value_outpatient(
        &self,
        _: Request<pi::ValueOutpatientRequest>,
    ) -> Result<Response<pi::ValueOutpatientResponse>, Status> {
        Err(Status::unimplemented(
            "intake never values an outpatient year",
        ))
    }

    async fn value_batch(
        &self,
        request: Request<pi::ValueBatchRequest>,
    ) -> Result<Response<pi::ValueBatchResponse>, Status> {
        let results = request
            .into_inner()
            .cases
            .into_iter()
            .enumerate()
            .map(|(i, case)| {
                if case.group_status == "SUCCESS" {
                    points::ValueCasesResponse {
                        sequence: i as u64,
                        valuation: Some(points::CaseValuation {
                            case_id: case.case_id,
                            payment_mode: "DRG".to_owned(),
                            mode_rule: "default".to_owned(),
                            case_type: "normal".to_owned(),
                            points: Some(common::Decimal {
                                value: "1.5".to_owned(),
                            }),
                            table_version: 3,
                            ..Default::default()
                        }),
                        error: String::new(),
                        error_reason: String::new(),
                    }
                } else {
                    points::ValueCasesResponse {
                        sequence: i as u64,
                        valuation: None,
                        error: format!("group {} has no weight", case.group_code),
                        error_reason: "UNGROUPED".to_owned(),
                    }
                }
            })
            .collect();
        Ok(Response::new(pi::ValueBatchResponse { results }))
    }
}

struct Server {
    client: SettlementServiceClient<Channel>,
    db: DatabaseConnection,
}

/// A settlement server whose peers are the fakes above, or an address nobody listens on.
async fn start(peers_up: bool) -> Server {
    start_with_chunk(peers_up, None).await
}

/// [`start`], with intake cutting uploads into chunks of `chunk` records when given.
async fn start_with_chunk(peers_up: bool, chunk: Option<usize>) -> Server {
    start_configured(peers_up, move |intake| match chunk {
        Some(chunk) => intake.with_chunk(chunk),
        None => intake,
    })
    .await
}

/// [`start`], with intake as `configure` makes it.
async fn start_configured(peers_up: bool, configure: impl FnOnce(Intake) -> Intake) -> Server {
    let db = platform::testing::sqlite::<Migrator>().await;
    let peer = if peers_up {
        let routes = tonic::service::Routes::new(GroupingInternalServiceServer::new(FakeGrouping))
            .add_service(PointsInternalServiceServer::new(FakePoints));
        platform::testing::serve(routes).await
    } else {
        // Bound then dropped: connecting is refused.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        Endpoint::from_shared(format!("http://{address}"))
            .expect("uri")
            .connect_lazy()
    };
    let valuer = GrpcValuer::new(peer.clone(), peer, None).expect("valuer");
    let valuer: Arc<dyn settlement_domain::ports::CaseValuer> = Arc::new(valuer);
    let api = SettlementApi::new(CaseStore::new(db.clone()))
        .with_intake(configure(Intake::new(db.clone(), valuer)));
    let channel = platform::testing::serve(tonic::service::Routes::new(api.into_server())).await;
    Server {
        client: SettlementServiceClient::new(channel),
        db,
    }
}

fn as_caller<T>(message: T, scope: &str, role: &str) -> Request<T> {
    platform::testing::as_caller(message, &format!("caller-{scope}-{role}"), scope, &[role])
}

fn bureau<T>(message: T) -> Request<T> {
    as_caller(message, "460000", "bureau")
}

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

/// Registers hospital `code` (level 3A) of county 460108 with an agreement for 2025 with the
/// prefecture 460100.
async fn register(client: &mut SettlementServiceClient<Channel>, code: &str) {
    register_with(client, code, "460108", "460100", "3A").await;
}

/// Registers hospital `code` (level 2A) of `region` with an agreement for 2025 in `region`.
async fn register_in(client: &mut SettlementServiceClient<Channel>, code: &str, region: &str) {
    register_with(client, code, region, region, "2A").await;
}

/// Registers hospital `code` of `region` at `level`, with an agreement for 2025 made in
/// `agreement_region`.
async fn register_with(
    client: &mut SettlementServiceClient<Channel>,
    code: &str,
    region: &str,
    agreement_region: &str,
    level: &str,
) {
    client
        .put_institution(bureau(pb::PutInstitutionRequest {
            request_id: format!("inst-{code}"),
            institution: Some(pb::Institution {
                code: code.to_owned(),
                name: format!("Hospital {code}"),
                region_code: region.to_owned(),
                level: level.to_owned(),
                institution_type: "general".to_owned(),
                alliance_code: String::new(),
            }),
            effective_from: date(2020, 1, 1),
            reason: String::new(),
        }))
        .await
        .expect("institution");
    client
        .put_agreement(bureau(pb::PutAgreementRequest {
            request_id: format!("agr-{code}"),
            region_code: agreement_region.to_owned(),
            institution_code: code.to_owned(),
            agreement: Some(pb::Agreement {
                agreement_id: "A2025".to_owned(),
                valid_from: date(2025, 1, 1),
                valid_to: date(2025, 12, 31),
                status: "active".to_owned(),
            }),
            reason: "annual agreement".to_owned(),
        }))
        .await
        .expect("agreement");
}

fn list_record(hospital: &str, list_id: &str, day: &str, case_number: &str) -> pb::SubmitRecord {
    pb::SubmitRecord {
        record: Some(pb::submit_record::Record::SettlementListJson(
            sample_list_json("460108", hospital, list_id, day, case_number),
        )),
    }
}

fn stream_of(
    request_id: &str,
    records: Vec<pb::SubmitRecord>,
) -> Request<tokio_stream::Iter<std::vec::IntoIter<pb::SubmitCasesRequest>>> {
    let messages: Vec<pb::SubmitCasesRequest> = records
        .into_iter()
        .enumerate()
        .map(|(i, record)| pb::SubmitCasesRequest {
            request_id: if i == 0 {
                request_id.to_owned()
            } else {
                String::new()
            },
            region_code: if i == 0 {
                "460100".to_owned()
            } else {
                String::new()
            },
            case_json: String::new(),
            record: Some(record),
        })
        .collect();
    as_caller(tokio_stream::iter(messages), "460100", "hospital")
}

/// A batch of the hospital caller of prefecture 460100 under `request_id`, for `region_code`.
fn hospital_batch(
    request_id: &str,
    region_code: &str,
    records: Vec<pb::SubmitRecord>,
) -> Request<pb::SubmitCaseBatchRequest> {
    as_caller(
        pb::SubmitCaseBatchRequest {
            request_id: request_id.into(),
            region_code: region_code.into(),
            records,
        },
        "460100",
        "hospital",
    )
}

async fn outcome_of(
    answer: Result<Response<pb::SubmitCaseBatchResponse>, Status>,
) -> pb::IntakeOutcome {
    answer
        .expect("upload")
        .into_inner()
        .outcome
        .expect("outcome")
}
