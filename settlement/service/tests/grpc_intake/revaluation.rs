//! RevalueCases: cases stored unvalued are valued again once the peers answer, as new versions
//! (the earlier ones kept); an unchanged valuation stores nothing; a retry replays.

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
