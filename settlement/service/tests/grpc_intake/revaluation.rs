//! RevalueCases: cases stored unvalued are valued again once the peers answer, as new versions
//! (the earlier ones kept); an unchanged valuation stores nothing; a retry replays; a version
//! grouped under another scheme carries that scheme's unknown codes.

use super::*;

fn revalue(request_id: &str, include_valued: bool) -> Request<pb::RevalueCasesRequest> {
    bureau(pb::RevalueCasesRequest {
        request_id: request_id.into(),
        region_code: "460100".into(),
        fund_type: 310,
        discharged_from: date(2025, 1, 1),
        discharged_to: date(2025, 12, 31),
        include_valued,
    })
}

fn counts(answer: &pb::RevalueCasesResponse) -> (u64, u64, u64, u64) {
    (
        answer.cases_read,
        answer.revalued,
        answer.unchanged,
        answer.still_unvalued,
    )
}

async fn statuses(client: &mut SettlementServiceClient<Channel>) -> Vec<(String, String)> {
    client
        .list_cases(bureau(pb::ListCasesRequest {
            region_code: "460100".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .cases
        .into_iter()
        .map(|c| (c.list_id, c.status))
        .collect()
}

#[tokio::test]
async fn unvalued_cases_are_revalued_as_new_versions_once_the_peers_answer() {
    let Server { mut client, db } = start(true).await;
    register(&mut client, "H1").await;
    // An intake without peers stores the lists unvalued.
    let without_peers = SettlementApi::new(CaseStore::new(db.clone()));
    let channel =
        platform::testing::serve(tonic::service::Routes::new(without_peers.into_server())).await;
    let mut unvalued_intake = SettlementServiceClient::new(channel);
    let stored = outcome_of(
        unvalued_intake
            .submit_case_batch(hospital_batch(
                "upload-1",
                "460108",
                vec![
                    list_record("H1", "L1", "2025-06-15", "BA1"),
                    list_record("H1", "L2", "2025-06-16", "BA2"),
                ],
            ))
            .await,
    )
    .await;
    assert_eq!(stored.accepted, 2);
    assert_eq!(
        statuses(&mut client).await,
        [
            ("L1".to_owned(), "unvalued".to_owned()),
            ("L2".to_owned(), "unvalued".to_owned())
        ]
    );

    let first = client
        .revalue_cases(revalue("rv-1", false))
        .await
        .expect("revalued")
        .into_inner();
    assert_eq!(counts(&first), (2, 2, 0, 0));
    assert_eq!(
        statuses(&mut client).await,
        [
            ("L1".to_owned(), "valued".to_owned()),
            ("L2".to_owned(), "valued".to_owned())
        ]
    );
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
    assert_eq!(versions.len(), 2, "the unvalued version is kept");
    assert_eq!(versions[1].request_id, "rv-1");

    // Nothing is unvalued any more, and every valuation is as stored: nothing new.
    let again = client
        .revalue_cases(revalue("rv-2", true))
        .await
        .expect("again")
        .into_inner();
    assert_eq!(counts(&again), (2, 0, 2, 0));
    // A retry of the first request replays its answer.
    let replayed = client
        .revalue_cases(revalue("rv-1", false))
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(counts(&replayed), (2, 2, 0, 0));

    // A period ending before it starts is refused by field.
    let mut inverted = revalue("rv-3", false);
    inverted.get_mut().discharged_to = date(2024, 12, 31);
    let refused = client
        .revalue_cases(inverted)
        .await
        .expect_err("inverted period");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = refused
        .get_details_bad_request()
        .expect("violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, ["discharged_to"]);
}

#[tokio::test]
async fn revaluation_with_a_peer_down_stores_nothing() {
    let Server { mut client, db } = start(false).await;
    register(&mut client, "H1").await;
    let without_peers = SettlementApi::new(CaseStore::new(db.clone()));
    let channel =
        platform::testing::serve(tonic::service::Routes::new(without_peers.into_server())).await;
    let mut unvalued_intake = SettlementServiceClient::new(channel);
    outcome_of(
        unvalued_intake
            .submit_case_batch(hospital_batch(
                "upload-1",
                "460108",
                vec![list_record("H1", "L1", "2025-06-15", "BA1")],
            ))
            .await,
    )
    .await;
    let refused = client
        .revalue_cases(revalue("rv-down", false))
        .await
        .expect_err("peer down");
    assert_eq!(refused.code(), Code::Unavailable);
    assert_eq!(
        statuses(&mut client).await,
        [("L1".to_owned(), "unvalued".to_owned())]
    );
}

/// Scheme demo@1 as [`FakeGrouping`] groups; once `upgraded`, demo@2, whose dictionaries know
/// every code.
#[derive(Clone)]
struct UpgradedGrouping(Arc<std::sync::atomic::AtomicBool>);

#[tonic::async_trait]
impl GroupingInternalService for UpgradedGrouping {
    async fn group_batch(
        &self,
        request: Request<gi::GroupBatchRequest>,
    ) -> Result<Response<gi::GroupBatchResponse>, Status> {
        let mut answer = FakeGrouping.group_batch(request).await?.into_inner();
        if self.0.load(std::sync::atomic::Ordering::SeqCst) {
            for result in &mut answer.results {
                result.unknown_codes.clear();
                if let Some(scheme) = result.result.as_mut().and_then(|g| g.scheme.as_mut()) {
                    scheme.version = "2".to_owned();
                }
            }
        }
        Ok(Response::new(answer))
    }
}

/// (code, field) of each warning of `list_id`'s versions, oldest first.
async fn warnings_by_version(
    client: &mut SettlementServiceClient<Channel>,
    list_id: &str,
) -> Vec<Vec<(String, String)>> {
    client
        .get_case(bureau(pb::GetCaseRequest {
            region_code: "460100".into(),
            hospital_code: "H1".into(),
            list_id: list_id.into(),
        }))
        .await
        .expect("get")
        .into_inner()
        .versions
        .into_iter()
        .map(|v| {
            let warnings = v.summary.unwrap_or_default().warnings;
            warnings.into_iter().map(|w| (w.code, w.field)).collect()
        })
        .collect()
}

#[tokio::test]
async fn a_code_the_new_scheme_knows_loses_its_warning_on_revaluation() {
    let upgraded = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let db = platform::testing::sqlite::<Migrator>().await;
    let peer = platform::testing::serve(
        tonic::service::Routes::new(GroupingInternalServiceServer::new(UpgradedGrouping(
            upgraded.clone(),
        )))
        .add_service(PointsInternalServiceServer::new(FakePoints)),
    )
    .await;
    let valuer = GrpcValuer::new(peer.clone(), peer, None).expect("valuer");
    let api = SettlementApi::new(CaseStore::new(db.clone()))
        .with_intake(Intake::new(db.clone(), Arc::new(valuer)));
    let mut client = SettlementServiceClient::new(
        platform::testing::serve(tonic::service::Routes::new(api.into_server())).await,
    );
    register(&mut client, "H1").await;
    // L1's principal diagnosis is unknown to demo@1 and was absent on admission (validation's
    // warning, which no scheme changes); L2's codes are known to both.
    let unknown_principal = sample_list_json("460108", "H1", "L1", "2025-03-10", "BA1").replace(
        r#""code":"K35.800","name":"acute appendicitis","admission_condition":1"#,
        r#""code":"U99.900","name":"unlisted","admission_condition":4"#,
    );
    let records = [
        unknown_principal,
        sample_list_json("460108", "H1", "L2", "2025-03-11", "BA2"),
    ]
    .into_iter()
    .map(|json| pb::SubmitRecord {
        record: Some(pb::submit_record::Record::SettlementListJson(json)),
    })
    .collect();
    let stored = outcome_of(
        client
            .submit_case_batch(hospital_batch("w-1", "460100", records))
            .await,
    )
    .await;
    assert_eq!(stored.accepted, 2);
    let at_intake = warnings_by_version(&mut client, "L1").await;
    assert_eq!(at_intake.len(), 1);
    let unknown = (
        "unknown_diagnosis_code".to_owned(),
        "diagnoses[0].code".to_owned(),
    );
    assert!(at_intake[0].contains(&unknown), "{at_intake:?}");
    let validation: Vec<_> = at_intake[0]
        .iter()
        .filter(|w| **w != unknown)
        .cloned()
        .collect();
    assert!(!validation.is_empty(), "absent on admission: {at_intake:?}");

    upgraded.store(true, std::sync::atomic::Ordering::SeqCst);
    let answer = client
        .revalue_cases(revalue("rv-v2", true))
        .await
        .expect("revalued under demo@2")
        .into_inner();
    assert_eq!(counts(&answer), (2, 2, 0, 0));
    // The new version carries validation's warnings only; the old keeps what demo@1 said.
    let after = warnings_by_version(&mut client, "L1").await;
    assert_eq!(after, [at_intake[0].clone(), validation.clone()]);
    assert_eq!(
        warnings_by_version(&mut client, "L2").await,
        [vec![], vec![]]
    );
    let current = client
        .list_cases(bureau(pb::ListCasesRequest {
            region_code: "460100".into(),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .cases;
    let l1: Vec<_> = current[0]
        .warnings
        .iter()
        .map(|w| (w.code.clone(), w.field.clone()))
        .collect();
    assert_eq!(
        (current[0].list_id.as_str(), l1),
        ("L1", validation.clone())
    );

    // Back under demo@1 the code is unknown again, on a third version.
    upgraded.store(false, std::sync::atomic::Ordering::SeqCst);
    client
        .revalue_cases(revalue("rv-v1", true))
        .await
        .expect("revalued under demo@1");
    let third = warnings_by_version(&mut client, "L1").await;
    assert_eq!(third.len(), 3);
    assert_eq!(third[2], at_intake[0]);
}
