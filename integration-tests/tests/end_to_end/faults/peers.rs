//! Faults between settlement and its peers that the seeds may not reach every time, each made
//! on purpose.

use super::{DATA_SEED, Harness, list_cases, record, set_up, timed};
use integration_tests::faults::{Fault, FaultPlan};
use integration_tests::quarter::{self, COUNTY};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::Code;

/// A connection to the points peer lost after the answer's headers and before its body: the
/// upload fails as a whole (nothing of it stored, the county retries) instead of storing its
/// cases unvalued as though points had refused each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_answer_cut_before_its_body_fails_the_upload_and_stores_nothing()
-> anyhow::Result<()> {
    let h = Harness::start().await?;
    set_up(&h).await?;
    let intake = SettlementServiceClient::new(h.channel.clone());
    let lists = quarter::lists(DATA_SEED, 6);
    let messages: Vec<settlement::SubmitCasesRequest> = lists
        .iter()
        .enumerate()
        .map(|(i, list)| settlement::SubmitCasesRequest {
            request_id: if i == 0 {
                "cut-body".into()
            } else {
                String::new()
            },
            region_code: COUNTY.into(),
            case_json: String::new(),
            record: Some(record(list)),
        })
        .collect();
    let next = h.points.calls();
    h.points.set_plan(FaultPlan(
        [(next, Fault::CutAnswerBody)].into_iter().collect(),
    ));
    let failed = intake
        .clone()
        .submit_cases(timed(tokio_stream::iter(messages.clone())))
        .await
        .expect_err("the points peer's answer was lost");
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    assert_eq!(h.points.applied(), vec![(next, Fault::CutAnswerBody)]);
    assert!(list_cases(&h, &intake, "").await?.is_empty());

    let answer = h
        .call("SubmitCases", || {
            let (mut c, body) = (intake.clone(), messages.clone());
            async move { c.submit_cases(timed(tokio_stream::iter(body))).await }
        })
        .await?;
    assert_eq!(answer.outcome.map(|o| o.accepted), Some(6));
    let cases = list_cases(&h, &intake, "").await?;
    assert_eq!(cases.len(), 6);
    assert!(cases.iter().all(|c| c.status == "valued"), "{cases:?}");
    Ok(())
}
