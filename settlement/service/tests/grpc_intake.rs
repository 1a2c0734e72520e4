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

#[path = "support/mod.rs"]
mod support;
use support::{sample_list_json, sample_outpatient_json};

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
async fn the_registry_keeps_history_and_agreements() {
    let Server { mut client, .. } = start(true).await;
    register(&mut client, "H1").await;
    // Who may change the registry is the edge's check (platform::access), not this server's.

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
        ("L4", "institution_not_registered")
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
    closed_months::close(
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

/// Registers `code` in county `region` with an agreement for 2025, by the bureau.
async fn register_in(client: &mut SettlementServiceClient<Channel>, code: &str, region: &str) {
    client
        .put_institution(bureau(pb::PutInstitutionRequest {
            request_id: format!("inst-{code}"),
            institution: Some(pb::Institution {
                code: code.to_owned(),
                name: format!("Hospital {code}"),
                region_code: region.to_owned(),
                level: "2A".to_owned(),
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
            region_code: region.to_owned(),
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

/// A batch of a county agency (scope and upload region `county`), lists pooled in `county`.
fn county_batch(
    county: &str,
    request_id: &str,
    lists: &[(&str, &str, &str)],
) -> Request<pb::SubmitCaseBatchRequest> {
    as_caller(
        pb::SubmitCaseBatchRequest {
            request_id: request_id.into(),
            region_code: county.into(),
            records: lists
                .iter()
                .map(|(hospital, list_id, case_number)| pb::SubmitRecord {
                    record: Some(pb::submit_record::Record::SettlementListJson(
                        sample_list_json(county, hospital, list_id, "2025-06-15", case_number),
                    )),
                })
                .collect(),
        },
        county,
        "agency",
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

#[tokio::test]
async fn a_county_can_neither_overwrite_nor_create_another_countys_case() {
    let Server { mut client, .. } = start(true).await;
    // County B (460105) has hospital HB; county A (460108) has HA.
    register_in(&mut client, "HB", "460105").await;
    register_in(&mut client, "HA", "460108").await;
    let stored = outcome_of(
        client
            .submit_case_batch(county_batch("460105", "b-1", &[("HB", "L1", "BA1")]))
            .await,
    )
    .await;
    assert_eq!(stored.accepted, 1);

    // A sends, for its own region, a changed L1 of B's hospital, a new list of it, and a list of
    // a hospital nobody registered; then its own hospital's list.
    let attack = outcome_of(
        client
            .submit_case_batch(county_batch(
                "460108",
                "a-1",
                &[
                    ("HB", "L1", "FORGED"),
                    ("HB", "L2", "FORGED"),
                    ("HX", "L1", "FORGED"),
                    ("HA", "L1", "BA1"),
                ],
            ))
            .await,
    )
    .await;
    assert_eq!(
        (
            attack.accepted,
            attack.corrected,
            attack.unchanged,
            attack.rejected
        ),
        (1, 0, 0, 3),
        "{attack:?}"
    );
    // The answer for B's hospital is the answer for a hospital never registered.
    let rejection = |position: u64| {
        let found: Vec<_> = attack
            .rejections
            .iter()
            .filter(|r| r.position == position)
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        let r = found[0];
        (
            r.field.clone(),
            r.code.clone(),
            r.reason.replace(&r.hospital_code, "<hospital>"),
            r.list_id.clone(),
        )
    };
    assert_eq!(rejection(0), rejection(2));
    assert_eq!(rejection(0).1, "institution_not_registered");
    assert_eq!(rejection(0).0, "header.fixmedins_code");
    assert_eq!(rejection(1).2, rejection(2).2);

    // B's case is as B stored it, and nothing new of HB exists.
    let b_case = client
        .get_case(as_caller(
            pb::GetCaseRequest {
                region_code: "460105".into(),
                hospital_code: "HB".into(),
                list_id: "L1".into(),
            },
            "460105",
            "agency",
        ))
        .await
        .expect("B's case")
        .into_inner()
        .versions;
    assert_eq!(b_case.len(), 1);
    assert!(b_case[0].case_json.contains("BA1"));
    assert_eq!(b_case[0].request_id, "b-1");
    let all = client
        .list_cases(bureau(pb::ListCasesRequest {
            region_code: "460000".into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .cases;
    let keys: Vec<(&str, &str)> = all
        .iter()
        .map(|c| (c.hospital_code.as_str(), c.list_id.as_str()))
        .collect();
    assert_eq!(keys, [("HA", "L1"), ("HB", "L1")]);

    // The same through the stream: SubmitCases of A naming B's hospital.
    let streamed = client
        .submit_cases(as_caller(
            tokio_stream::iter(vec![pb::SubmitCasesRequest {
                request_id: "a-2".into(),
                region_code: "460108".into(),
                case_json: String::new(),
                record: Some(pb::SubmitRecord {
                    record: Some(pb::submit_record::Record::SettlementListJson(
                        sample_list_json("460108", "HB", "L1", "2025-06-15", "FORGED2"),
                    )),
                }),
            }]),
            "460108",
            "agency",
        ))
        .await
        .expect("stream")
        .into_inner()
        .outcome
        .expect("outcome");
    assert_eq!(
        (streamed.accepted, streamed.corrected, streamed.rejected),
        (0, 0, 1)
    );
    assert_eq!(streamed.rejections[0].code, "institution_not_registered");

    // A's key may not read B's case either: like a case that does not exist.
    let read = |list_id: &str| pb::GetCaseRequest {
        region_code: "460108".into(),
        hospital_code: "HB".into(),
        list_id: list_id.into(),
    };
    let existing = client
        .get_case(as_caller(read("L1"), "460108", "agency"))
        .await
        .expect_err("B's case from A");
    let missing = client
        .get_case(as_caller(read("L9"), "460108", "agency"))
        .await
        .expect_err("no such case");
    assert_eq!(existing.code(), Code::NotFound);
    assert_eq!(
        existing.message().replace("L1", "<l>"),
        missing.message().replace("L9", "<l>")
    );
}

#[tokio::test]
async fn the_registry_cannot_be_used_across_regions() {
    let Server { mut client, .. } = start(true).await;
    register_in(&mut client, "HB", "460105").await;
    let county_a = |message| as_caller(message, "460108", "bureau");
    // An agreement for B's hospital from A: answered like one for a hospital never registered.
    let agreement = |code: &str, request_id: &str| pb::PutAgreementRequest {
        request_id: request_id.into(),
        region_code: "460108".into(),
        institution_code: code.into(),
        agreement: Some(pb::Agreement {
            agreement_id: "A-FORGED".into(),
            valid_from: date(2025, 1, 1),
            valid_to: date(2025, 12, 31),
            status: "terminated".into(),
        }),
        reason: "forged".into(),
    };
    let existing = client
        .put_agreement(county_a(agreement("HB", "x1")))
        .await
        .expect_err("B's hospital");
    let missing = client
        .put_agreement(county_a(agreement("HZ", "x2")))
        .await
        .expect_err("nobody's hospital");
    assert_eq!(existing.code(), Code::NotFound);
    assert_eq!(existing.code(), missing.code());
    assert_eq!(
        existing.message().replace("HB", "<h>"),
        missing.message().replace("HZ", "<h>")
    );
    // Re-registering B's hospital into A is refused.
    let moved = client
        .put_institution(as_caller(
            pb::PutInstitutionRequest {
                request_id: "x3".into(),
                institution: Some(pb::Institution {
                    code: "HB".into(),
                    name: "Hospital HB".into(),
                    region_code: "460108".into(),
                    level: "2A".into(),
                    institution_type: "general".into(),
                    alliance_code: String::new(),
                }),
                effective_from: date(2025, 7, 1),
                reason: "moved".into(),
            },
            "460108",
            "bureau",
        ))
        .await
        .expect_err("another county's institution");
    assert_eq!(moved.code(), Code::AlreadyExists);
    let history = client
        .get_institution(bureau(pb::GetInstitutionRequest {
            region_code: "460105".into(),
            code: "HB".into(),
        }))
        .await
        .expect("B's institution")
        .into_inner();
    assert_eq!(history.history.len(), 1);
    assert_eq!(history.agreements.len(), 1);
    assert_eq!(history.agreements[0].status, "active");
}

#[tokio::test]
async fn a_reused_request_id_with_another_body_is_refused_and_stores_nothing() {
    let Server { mut client, .. } = start(true).await;
    register(&mut client, "H1").await;
    let batch = |request_id: &str, list_id: &str| {
        as_caller(
            pb::SubmitCaseBatchRequest {
                request_id: request_id.into(),
                region_code: "460100".into(),
                records: vec![list_record("H1", list_id, "2025-06-15", "BA1")],
            },
            "460100",
            "hospital",
        )
    };
    let first = outcome_of(client.submit_case_batch(batch("u1", "L1")).await).await;
    assert_eq!(first.accepted, 1);
    let reused = client
        .submit_case_batch(batch("u1", "L2"))
        .await
        .expect_err("another body under u1");
    assert_eq!(reused.code(), Code::AlreadyExists);
    assert!(reused.message().contains("u1"), "{}", reused.message());
    assert_eq!(
        reused.get_details_error_info().map(|i| i.reason),
        Some("REQUEST_ID_REUSED".to_owned())
    );
    // The same body replays, and L2 was never stored.
    let replay = outcome_of(client.submit_case_batch(batch("u1", "L1")).await).await;
    assert!(replay.replayed);
    let stream_reuse = client
        .submit_cases(stream_of(
            "u1",
            vec![list_record("H1", "L3", "2025-06-15", "BA1")],
        ))
        .await
        .expect_err("the stream under a used id");
    assert_eq!(stream_reuse.code(), Code::AlreadyExists);
    let cases = client
        .list_cases(bureau(pb::ListCasesRequest {
            region_code: "460100".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .cases;
    let ids: Vec<&str> = cases.iter().map(|c| c.list_id.as_str()).collect();
    assert_eq!(ids, ["L1"]);
}

/// Sends the first `sent` messages of an upload of `records` under `request_id`, waits until
/// `stored` cases are listed, then cuts the stream off without ending it.
async fn cut_off_upload(
    client: &SettlementServiceClient<Channel>,
    request_id: &str,
    records: Vec<pb::SubmitRecord>,
    sent: usize,
    stored: usize,
) {
    let messages: Vec<pb::SubmitCasesRequest> =
        stream_of(request_id, records).into_inner().collect().await;
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
    for message in messages.into_iter().take(sent) {
        sender.send(message).await.expect("send");
    }
    let mut listed = 0;
    for _ in 0..1_200 {
        listed = client
            .clone()
            .list_cases(bureau(pb::ListCasesRequest {
                region_code: "460100".into(),
                page_size: 100,
                ..Default::default()
            }))
            .await
            .expect("list")
            .into_inner()
            .cases
            .len();
        if listed == stored {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(listed, stored, "the chunks that arrived are stored");
    upload.abort();
    assert!(upload.await.is_err_and(|e| e.is_cancelled()));
}

#[tokio::test]
async fn a_cut_off_upload_resumes_only_with_its_own_records() {
    let Server { mut client, .. } = start_with_chunk(true, Some(2)).await;
    register(&mut client, "H1").await;
    let records: Vec<pb::SubmitRecord> = (1..=10)
        .map(|i| list_record("H1", &format!("L{i:02}"), "2025-06-15", "BA1"))
        .collect();
    cut_off_upload(&client, "upload-cut", records.clone(), 6, 6).await;

    // Another body under the same request id: its second chunk differs from the stored one.
    let mut forged = records.clone();
    forged[2] = list_record("H1", "L03", "2025-06-15", "FORGED");
    forged.push(list_record("H1", "L99", "2025-06-15", "FORGED"));
    let refused = client
        .submit_cases(stream_of("upload-cut", forged))
        .await
        .expect_err("another body");
    assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    assert_eq!(
        refused.get_details_error_info().map(|i| i.reason),
        Some("REQUEST_ID_REUSED".to_owned())
    );
    let stored = client
        .list_cases(bureau(pb::ListCasesRequest {
            region_code: "460100".into(),
            page_size: 100,
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .cases;
    assert_eq!(stored.len(), 6, "nothing of the other body is stored");
    assert!(stored.iter().all(|c| c.version == 1));

    // The upload itself still resumes.
    let retried = client
        .submit_cases(stream_of("upload-cut", records))
        .await
        .expect("retry")
        .into_inner()
        .outcome
        .expect("outcome");
    assert_eq!(
        (retried.accepted, retried.unchanged, retried.rejected),
        (4, 6, 0)
    );
}

/// Today for the bounds tests: 2025-07-01.
fn pinned_today() -> settlement_service::intake::Clock {
    Arc::new(|| "2025-07-01".parse().expect("date"))
}

fn list_with(list_id: &str, edit: impl FnOnce(&mut serde_json::Value)) -> pb::SubmitRecord {
    let mut value: serde_json::Value = serde_json::from_str(&sample_list_json(
        "460108",
        "H1",
        list_id,
        "2025-06-15",
        "BA1",
    ))
    .expect("json");
    value["header"]["psn_no"] = "P0001".into();
    edit(&mut value);
    pb::SubmitRecord {
        record: Some(pb::submit_record::Record::SettlementListJson(
            value.to_string(),
        )),
    }
}

#[tokio::test]
async fn bounds_and_dates_are_enforced_per_record_naming_the_field() {
    let Server { mut client, .. } =
        start_configured(true, |intake| intake.with_clock(pinned_today())).await;
    register(&mut client, "H1").await;
    let records = vec![
        // 0: setl_id at the national length (30): accepted.
        list_with(&"1".repeat(30), |_| {}),
        // 1: one over: refused.
        list_with(&"2".repeat(31), |_| {}),
        // 2: a 1,000,001-character setl_id.
        list_with(&"3".repeat(1_000_001), |_| {}),
        // 3: a 2 MB diagnosis name.
        list_with("L4", |v| {
            v["diagnoses"][0]["name"] = "x".repeat(2_000_000).into()
        }),
        // 4: a name of 200 characters (Chinese): accepted.
        list_with("L5", |v| {
            v["diagnoses"][0]["name"] = "阑".repeat(200).into()
        }),
        // 5: discharged 200 days after today.
        list_with("L6", |v| {
            v["stay"]["admitted_at"] = "2026-01-16 08:00".into();
            v["stay"]["discharged_at"] = "2026-01-17 10:00".into();
        }),
        // 6: admitted after the discharge.
        list_with("L7", |v| {
            v["stay"]["admitted_at"] = "2025-06-16 08:00".into()
        }),
        // 7: 101 diagnoses.
        list_with("L8", |v| {
            let other = v["diagnoses"][1].clone();
            v["diagnoses"] = serde_json::Value::Array(vec![other; 101]);
        }),
        // 8: discharged today: accepted.
        list_with("L9", |v| {
            v["stay"]["admitted_at"] = "2025-07-01 08:00".into();
            v["stay"]["discharged_at"] = "2025-07-01 17:00".into();
            v["procedures"][0]["date"] = "2025-07-01".into();
            v["header"]["declared_at"] = "2025-07-01 18:00:00".into();
        }),
        // 9: an outpatient settlement dated tomorrow.
        pb::SubmitRecord {
            record: Some(pb::submit_record::Record::AmbulatoryJson(
                sample_outpatient_json("460108", "H1", "M1", "2025-07-02"),
            )),
        },
    ];
    let outcome = client
        .submit_cases(stream_of("bounds", records))
        .await
        .expect("upload")
        .into_inner()
        .outcome
        .expect("outcome");
    let found = |position: u64| -> Vec<(String, String)> {
        outcome
            .rejections
            .iter()
            .filter(|r| r.position == position)
            .map(|r| (r.code.clone(), r.field.clone()))
            .collect()
    };
    let pair = |code: &str, field: &str| (code.to_owned(), field.to_owned());
    assert!(found(0).is_empty(), "{:?}", found(0));
    assert_eq!(found(1), [pair("field_too_long", "header.setl_id")]);
    assert!(found(2).contains(&pair("field_too_long", "header.setl_id")));
    assert_eq!(found(3), [pair("field_too_long", "diagnoses[0].name")]);
    assert!(found(4).is_empty(), "{:?}", found(4));
    assert!(found(5).contains(&pair("date_in_future", "stay.discharged_at")));
    assert!(found(6).contains(&pair("discharge_before_admission", "stay.discharged_at")));
    assert_eq!(found(7), [pair("too_many_entries", "diagnoses")]);
    assert!(found(8).is_empty(), "{:?}", found(8));
    assert_eq!(
        found(9),
        [
            pair("date_in_future", "header.declared_at"),
            pair("date_in_future", "settled_at")
        ]
    );
    assert_eq!((outcome.accepted, outcome.rejected), (3, 7), "{outcome:?}");
    // Refused records are named by list id; an over-long one is cut to its bound, not echoed
    // a million characters at a time.
    let named = |position: u64| {
        outcome
            .rejections
            .iter()
            .filter(|r| r.position == position)
            .map(|r| r.list_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(named(1), [format!("{}…", "2".repeat(30))]);
    assert!(
        named(2)
            .iter()
            .all(|id| *id == format!("{}…", "3".repeat(30)))
    );
    assert_eq!(named(3), ["L4"]);
}

#[tokio::test]
async fn a_stream_message_over_the_limit_is_resource_exhausted() {
    let Server { mut client, .. } = start(true).await;
    register(&mut client, "H1").await;
    let huge = list_with("L1", |v| {
        v["diagnoses"][0]["name"] = "x"
            .repeat(settlement_service::grpc::MAX_STREAM_MESSAGE_BYTES)
            .into();
    });
    let refused = client
        .submit_cases(stream_of(
            "huge",
            vec![list_record("H1", "L0", "2025-06-15", "BA1"), huge],
        ))
        .await
        .expect_err("a message over the limit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("message 1"),
        "{}",
        refused.message()
    );

    // A unary batch over the service's limit is refused by tonic before any handler runs, with
    // OUT_OF_RANGE (the edge maps it).
    let batch = client
        .submit_case_batch(as_caller(
            pb::SubmitCaseBatchRequest {
                request_id: "huge-batch".into(),
                region_code: "460100".into(),
                records: vec![list_with("L2", |v| {
                    v["diagnoses"][0]["name"] = "x"
                        .repeat(settlement_service::grpc::MAX_MESSAGE_BYTES)
                        .into();
                })],
            },
            "460100",
            "hospital",
        ))
        .await
        .expect_err("a batch over the limit");
    assert_eq!(batch.code(), Code::OutOfRange, "{batch:?}");
}
