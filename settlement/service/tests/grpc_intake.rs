//! SettlementService over a real socket: the institution registry, streamed and batch intake
//! valued through fake grouping and points peers served over gRPC, rejections, replays, versions,
//! closed months, an unreachable peer, and an upload cut off half way.

use std::sync::Arc;

use kernel::{FundType, Principal, YearMonth};
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
use sea_orm_migration::MigratorTrait;
use settlement_service::intake::{Intake, sample_list_json, sample_outpatient_json};
use settlement_service::ledger::CaseStore;
use settlement_service::valuation::GrpcValuer;
use settlement_service::{Migrator, SettlementApi, calendar};
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};

/// Groups every case into GB13 of scheme demo@1, except a principal diagnosis `Z99.999`.
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
    let db = platform::db::connect("sqlite::memory:")
        .await
        .expect("sqlite");
    Migrator::up(&db, None).await.expect("migrate");
    let peer_address = if peers_up {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind peers");
        let address = listener.local_addr().expect("address");
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(GroupingInternalServiceServer::new(FakeGrouping))
                .add_service(PointsInternalServiceServer::new(FakePoints))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        address
    } else {
        // Bound then dropped: connecting is refused.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let peer = Endpoint::from_shared(format!("http://{peer_address}"))
        .expect("uri")
        .connect_lazy();
    let valuer = GrpcValuer::new(peer.clone(), peer, None).expect("valuer");
    let valuer: Arc<dyn settlement_service::valuation::Valuer> = Arc::new(valuer);
    let mut api = SettlementApi::new(CaseStore::new(db.clone())).with_valuer(valuer.clone());
    if let Some(chunk) = chunk {
        api = api.with_intake(Intake::new(db.clone(), valuer).with_chunk(chunk));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(api.into_server())
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    Server {
        client: SettlementServiceClient::new(channel),
        db,
    }
}

fn as_caller<T>(message: T, scope: &str, role: &str) -> Request<T> {
    let mut request = Request::new(message);
    let principal = Principal {
        caller_id: format!("caller-{scope}-{role}"),
        scopes: vec![scope.parse().expect("code")],
        roles: vec![role.to_owned()],
        institution: None,
    };
    platform::set_principal(request.metadata_mut(), &principal).expect("ascii");
    request
}

fn bureau<T>(message: T) -> Request<T> {
    as_caller(message, "460000", "bureau")
}

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

async fn register(client: &mut SettlementServiceClient<Channel>, code: &str) {
    client
        .put_institution(bureau(pb::PutInstitutionRequest {
            request_id: format!("inst-{code}"),
            institution: Some(pb::Institution {
                code: code.to_owned(),
                name: format!("Hospital {code}"),
                region_code: "460108".to_owned(),
                level: "3A".to_owned(),
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
            region_code: "460100".to_owned(),
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

#[tokio::test]
async fn the_registry_keeps_history_and_agreements_and_needs_a_role() {
    let Server { mut client, .. } = start(true).await;
    register(&mut client, "H1").await;
    let refused = client
        .put_institution(as_caller(
            pb::PutInstitutionRequest {
                request_id: "x".into(),
                institution: Some(pb::Institution {
                    code: "H2".into(),
                    name: "Hospital H2".into(),
                    region_code: "460108".into(),
                    level: "2A".into(),
                    institution_type: "general".into(),
                    alliance_code: String::new(),
                }),
                effective_from: date(2020, 1, 1),
                reason: String::new(),
            },
            "460100",
            "hospital",
        ))
        .await
        .expect_err("a hospital may not register institutions");
    assert_eq!(refused.code(), Code::PermissionDenied);

    let change = pb::PutInstitutionRequest {
        request_id: "change-1".into(),
        institution: Some(pb::Institution {
            code: "H1".into(),
            name: "Hospital H1".into(),
            region_code: "460108".into(),
            level: "3B".into(),
            institution_type: "general".into(),
            alliance_code: "ALLIANCE-1".into(),
        }),
        effective_from: date(2024, 7, 1),
        reason: "joined the alliance".into(),
    };
    let versions = client
        .put_institution(bureau(change.clone()))
        .await
        .expect("change")
        .into_inner()
        .versions;
    assert_eq!(versions, 2);
    // The same request id replays instead of recording the change twice.
    let replay = client
        .put_institution(bureau(change))
        .await
        .expect("replay")
        .into_inner()
        .versions;
    assert_eq!(replay, 2);
    let bad_level = client
        .put_institution(bureau(pb::PutInstitutionRequest {
            request_id: "bad".into(),
            institution: Some(pb::Institution {
                code: "H3".into(),
                name: "H3".into(),
                region_code: "460108".into(),
                level: "4Z".into(),
                institution_type: "general".into(),
                alliance_code: String::new(),
            }),
            effective_from: date(2020, 1, 1),
            reason: String::new(),
        }))
        .await
        .expect_err("bad level");
    assert_eq!(bad_level.code(), Code::InvalidArgument);
    assert!(bad_level.message().contains("institution.level"));

    let got = client
        .get_institution(bureau(pb::GetInstitutionRequest {
            region_code: "460100".into(),
            code: "H1".into(),
        }))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.history.len(), 2);
    assert_eq!(got.history[1].reason, "joined the alliance");
    assert_eq!(
        got.history[1]
            .institution
            .as_ref()
            .map(|i| i.alliance_code.as_str()),
        Some("ALLIANCE-1")
    );
    assert_eq!(got.agreements.len(), 1);
    let elsewhere = client
        .get_institution(bureau(pb::GetInstitutionRequest {
            region_code: "460200".into(),
            code: "H1".into(),
        }))
        .await
        .expect_err("other prefecture");
    assert_eq!(elsewhere.code(), Code::NotFound);
    let listed = client
        .list_institutions(bureau(pb::ListInstitutionsRequest {
            region_code: "460000".into(),
            page_size: 0,
            page_token: String::new(),
        }))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.institutions.len(), 1);
    assert_eq!(listed.institutions[0].level, "3B");
}

#[tokio::test]
async fn streamed_intake_values_through_the_peers_and_answers_every_record() {
    let Server { mut client, db } = start(true).await;
    register(&mut client, "H1").await;
    let ungroupable = sample_list_json("460108", "H1", "L3", "2025-06-15", "BA1")
        .replace("\"code\":\"K35.800\"", "\"code\":\"Z99.999\"");
    let records = vec![
        list_record("H1", "L1", "2025-06-15", "BA1"),
        pb::SubmitRecord {
            record: Some(pb::submit_record::Record::SettlementListJson(
                sample_list_json("460108", "H1", "L2", "2025-06-15", "BA1").replace(
                    "\"medfee_sumamt\":\"12000.00\"",
                    "\"medfee_sumamt\":\"12001.00\"",
                ),
            )),
        },
        pb::SubmitRecord {
            record: Some(pb::submit_record::Record::SettlementListJson(ungroupable)),
        },
        list_record("H7", "L4", "2025-06-15", "BA1"),
        pb::SubmitRecord {
            record: Some(pb::submit_record::Record::AmbulatoryJson(
                sample_outpatient_json("460108", "H1", "M1", "2025-06-16"),
            )),
        },
    ];
    let outcome = client
        .submit_cases(stream_of("upload-1", records.clone()))
        .await
        .expect("upload")
        .into_inner()
        .outcome
        .expect("outcome");
    assert_eq!((outcome.accepted, outcome.rejected), (3, 2), "{outcome:?}");
    // Every error of a record is its own rejection.
    let second: Vec<_> = outcome
        .rejections
        .iter()
        .filter(|r| r.position == 1)
        .collect();
    let codes: Vec<_> = second.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["charges_total_mismatch", "payment_identity"]);
    let identity = second[1];
    assert_eq!(identity.list_id, "L2");
    assert_eq!(identity.hospital_code, "H1");
    assert_eq!(identity.code, "payment_identity");
    assert!(identity.field.starts_with("payment"), "{identity:?}");
    let agreement = outcome
        .rejections
        .iter()
        .find(|r| r.position == 3)
        .expect("agreement rejection");
    assert_eq!(
        (agreement.list_id.as_str(), agreement.code.as_str()),
        ("L4", "no_valid_agreement")
    );

    let cases = client
        .list_cases(bureau(pb::ListCasesRequest {
            region_code: "460100".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .cases;
    let summary: Vec<_> = cases
        .iter()
        .map(|c| {
            (
                c.list_id.as_str(),
                c.status.as_str(),
                c.group_code.as_str(),
                c.points.as_ref().map(|p| p.value.as_str()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("L1", "valued", "GB13", Some("1.5000")),
            ("L3", "unvalued", "", Some("0.0000")),
            ("M1", "recorded", "", Some("0.0000")),
        ]
    );
    assert_eq!(cases[0].scheme_version, "demo@1");
    assert_eq!(cases[0].table_version, "3");
    assert_eq!(cases[0].payment_mode, "drg");
    assert!(cases[1].valuation_error.contains("0000"), "{:?}", cases[1]);

    // The same upload again replays its answer.
    let replay = client
        .submit_cases(stream_of("upload-1", records))
        .await
        .expect("replay")
        .into_inner()
        .outcome
        .expect("outcome");
    assert!(replay.replayed);
    assert_eq!(replay.accepted, 3);

    // A correction is a new version; GetCase shows both.
    let corrected = client
        .submit_case_batch(as_caller(
            pb::SubmitCaseBatchRequest {
                request_id: "upload-2".into(),
                region_code: "460100".into(),
                records: vec![list_record("H1", "L1", "2025-06-15", "BA2")],
            },
            "460100",
            "hospital",
        ))
        .await
        .expect("correction")
        .into_inner()
        .outcome
        .expect("outcome");
    assert_eq!(corrected.corrected, 1);
    let versions = client
        .get_case(bureau(pb::GetCaseRequest {
            region_code: "460100".into(),
            hospital_code: "H1".into(),
            list_id: "L1".into(),
        }))
        .await
        .expect("get")
        .into_inner()
        .versions;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].request_id, "upload-2");
    assert!(versions[1].case_json.contains("BA2"));
    assert!(versions[0].case_json.contains("BA1"));

    // After June closes, a changed June list is refused.
    calendar::close(
        &db,
        "460100".parse().expect("code"),
        FundType::Employee,
        YearMonth::new(2025, 6).expect("month"),
        "run-1",
        1,
    )
    .await
    .expect("close");
    let late = client
        .submit_case_batch(as_caller(
            pb::SubmitCaseBatchRequest {
                request_id: "upload-3".into(),
                region_code: "460100".into(),
                records: vec![list_record("H1", "L1", "2025-06-15", "BA3")],
            },
            "460100",
            "hospital",
        ))
        .await
        .expect("late")
        .into_inner()
        .outcome
        .expect("outcome");
    assert_eq!(late.rejected, 1);
    assert_eq!(late.rejections[0].code, "month_closed");
    assert_eq!(late.rejections[0].list_id, "L1");
}

#[tokio::test]
async fn an_unreachable_peer_fails_the_upload_and_stores_nothing() {
    let Server { mut client, .. } = start(false).await;
    register(&mut client, "H1").await;
    let failed = client
        .submit_case_batch(as_caller(
            pb::SubmitCaseBatchRequest {
                request_id: "upload-1".into(),
                region_code: "460100".into(),
                records: vec![list_record("H1", "L1", "2025-06-15", "BA1")],
            },
            "460100",
            "hospital",
        ))
        .await
        .expect_err("peers are down");
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    let cases = client
        .list_cases(bureau(pb::ListCasesRequest {
            region_code: "460100".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .cases;
    assert!(cases.is_empty());
    // An upload outside the caller's scope is refused before anything is read.
    let outside = client
        .submit_case_batch(as_caller(
            pb::SubmitCaseBatchRequest {
                request_id: "upload-2".into(),
                region_code: "460200".into(),
                records: vec![],
            },
            "460100",
            "hospital",
        ))
        .await
        .expect_err("out of scope");
    assert_eq!(outside.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn an_upload_cut_off_half_way_keeps_what_was_stored_and_its_retry_stores_each_case_once() {
    let Server { mut client, .. } = start_with_chunk(true, Some(2)).await;
    register(&mut client, "H1").await;
    let records: Vec<pb::SubmitRecord> = (1..=10)
        .map(|i| list_record("H1", &format!("L{i:02}"), "2025-06-15", "BA1"))
        .collect();
    let stream = stream_of("upload-cut", records.clone());
    let messages: Vec<pb::SubmitCasesRequest> = stream.into_inner().collect().await;
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    let mut uploading = client.clone();
    let upload = tokio::spawn(async move {
        uploading
            .submit_cases(as_caller(
                tokio_stream::wrappers::ReceiverStream::new(receiver),
                "460100",
                "hospital",
            ))
            .await
    });
    for message in messages.iter().take(6).cloned() {
        sender.send(message).await.expect("send");
    }
    // Three chunks of two are stored while the stream is still open.
    let reader = client.clone();
    let listed = || {
        let mut client = reader.clone();
        async move {
            client
                .list_cases(bureau(pb::ListCasesRequest {
                    region_code: "460100".into(),
                    page_size: 100,
                    ..Default::default()
                }))
                .await
                .expect("list")
                .into_inner()
                .cases
        }
    };
    let mut stored = Vec::new();
    // Up to 30 s: on a loaded two-core machine the three chunks may take a while.
    for _ in 0..1_200 {
        stored = listed().await;
        if stored.len() == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(stored.len(), 6, "the chunks that arrived are stored");
    // The client goes away without ending its stream: the upload has no answer.
    upload.abort();
    assert!(upload.await.is_err_and(|e| e.is_cancelled()));
    drop(sender);

    let retried = client
        .submit_cases(stream_of("upload-cut", records))
        .await
        .expect("retry")
        .into_inner()
        .outcome
        .expect("outcome");
    assert!(
        !retried.replayed,
        "a cut-off upload stored no answer to replay"
    );
    assert_eq!(
        (retried.accepted, retried.unchanged, retried.rejected),
        (4, 6, 0)
    );
    let stored = listed().await;
    let mut ids: Vec<String> = stored.iter().map(|c| c.list_id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 10, "every case once: {ids:?}");
    assert!(stored.iter().all(|c| c.version == 1));
}
