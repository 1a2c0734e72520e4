//! The internal contract's StreamCases: a region's current inpatient lists of a month, in
//! (region, hospital, list id) order, for the caller's region and the regions inside it only.

use medpay_proto::settlement::internal::v1 as internal;
use medpay_proto::settlement::internal::v1::settlement_internal_service_client::SettlementInternalServiceClient;
use settlement_service::SettlementInternalApi;

use super::*;

fn upload(
    county: &str,
    request_id: &str,
    records: Vec<pb::SubmitRecord>,
) -> Request<pb::SubmitCaseBatchRequest> {
    as_caller(
        pb::SubmitCaseBatchRequest {
            request_id: request_id.into(),
            region_code: county.into(),
            records,
        },
        county,
        "agency",
    )
}

fn list(county: &str, hospital: &str, list_id: &str, day: &str) -> pb::SubmitRecord {
    pb::SubmitRecord {
        record: Some(pb::submit_record::Record::SettlementListJson(
            sample_list_json(county, hospital, list_id, day, "BA1"),
        )),
    }
}

fn stream_request(region: &str, month: i32) -> internal::StreamCasesRequest {
    internal::StreamCasesRequest {
        filter: Some(pb::ListCasesRequest {
            region_code: region.into(),
            period: Some(common::YearMonth { year: 2025, month }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// (list id, record kind) of every streamed record of the kinds asked.
async fn streamed_kinds(
    client: &mut SettlementInternalServiceClient<Channel>,
    region: &str,
    kinds: &[&str],
) -> Result<Vec<(String, String)>, Status> {
    let mut request = stream_request(region, 6);
    request.record_kinds = kinds.iter().map(|kind| (*kind).to_owned()).collect();
    let mut stream = client
        .stream_cases(as_caller(request, region, "service"))
        .await?
        .into_inner();
    let mut records = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message?;
        let summary = message.summary.expect("summary");
        let record: serde_json::Value =
            serde_json::from_str(&message.case_json).expect("the stored record");
        assert_eq!(record["header"]["setl_id"], summary.list_id.as_str());
        records.push((summary.list_id, message.record_kind));
    }
    Ok(records)
}

/// (hospital, list id) of every streamed case, and that each carries its stored list.
async fn streamed(
    client: &mut SettlementInternalServiceClient<Channel>,
    request: Request<internal::StreamCasesRequest>,
) -> Result<Vec<(String, String)>, Status> {
    let mut stream = client.stream_cases(request).await?.into_inner();
    let mut cases = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message?;
        let summary = message.summary.expect("summary");
        let list: serde_json::Value =
            serde_json::from_str(&message.case_json).expect("the stored list");
        assert_eq!(list["header"]["setl_id"], summary.list_id.as_str());
        cases.push((summary.hospital_code, summary.list_id));
    }
    Ok(cases)
}

#[tokio::test]
async fn a_regions_inpatient_lists_of_a_month_stream_to_its_callers_only() {
    let Server { mut client, db } = start(true).await;
    register_in(&mut client, "HB", "460105").await;
    register_in(&mut client, "HA", "460108").await;
    for (county, request_id, records) in [
        (
            "460105",
            "b-1",
            vec![
                list("460105", "HB", "L2", "2025-06-15"),
                list("460105", "HB", "L1", "2025-06-20"),
                list("460105", "HB", "L3", "2025-07-02"),
                pb::SubmitRecord {
                    record: Some(pb::submit_record::Record::AmbulatoryJson(
                        sample_outpatient_json("460105", "HB", "M1", "2025-06-15"),
                    )),
                },
            ],
        ),
        (
            "460108",
            "a-1",
            vec![list("460108", "HA", "L1", "2025-06-15")],
        ),
    ] {
        let outcome = outcome_of(
            client
                .submit_case_batch(upload(county, request_id, records))
                .await,
        )
        .await;
        assert!(outcome.rejections.is_empty(), "{:?}", outcome.rejections);
    }
    let channel = platform::testing::serve(tonic::service::Routes::new(
        SettlementInternalApi::new(CaseStore::new(db)).into_server(),
    ))
    .await;
    let mut internal = SettlementInternalServiceClient::new(channel);

    let prefecture = streamed(
        &mut internal,
        as_caller(stream_request("460100", 6), "460100", "service"),
    )
    .await
    .expect("the prefecture's June");
    assert_eq!(
        prefecture,
        [
            ("HB".to_owned(), "L1".to_owned()),
            ("HB".to_owned(), "L2".to_owned()),
            ("HA".to_owned(), "L1".to_owned()),
        ],
        "county 460105 before 460108, then by hospital and list id"
    );
    let county = streamed(
        &mut internal,
        as_caller(stream_request("460108", 6), "460108", "service"),
    )
    .await
    .expect("the county's June");
    assert_eq!(county, [("HA".to_owned(), "L1".to_owned())]);
    let july = streamed(
        &mut internal,
        as_caller(stream_request("460105", 7), "460105", "service"),
    )
    .await
    .expect("July");
    assert_eq!(july, [("HB".to_owned(), "L3".to_owned())]);

    let refused = streamed(
        &mut internal,
        as_caller(stream_request("460105", 6), "460108", "service"),
    )
    .await
    .expect_err("a neighbouring county");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = streamed(
        &mut internal,
        as_caller(
            internal::StreamCasesRequest {
                filter: None,
                ..Default::default()
            },
            "460100",
            "service",
        ),
    )
    .await
    .expect_err("no filter");
    assert_eq!(refused.code(), Code::InvalidArgument);

    // Asked for, the ambulatory settlements of the month stream with the lists, each saying
    // which kind of record its JSON is.
    let with_outpatient = streamed_kinds(&mut internal, "460105", &["inpatient", "outpatient"])
        .await
        .expect("lists and outpatient settlements");
    assert_eq!(
        with_outpatient,
        [
            ("L1".to_owned(), "inpatient".to_owned()),
            ("L2".to_owned(), "inpatient".to_owned()),
            ("M1".to_owned(), "outpatient".to_owned()),
        ]
    );
    let outpatient_only = streamed_kinds(&mut internal, "460105", &["outpatient", "pharmacy"])
        .await
        .expect("ambulatory settlements only");
    assert_eq!(
        outpatient_only,
        [("M1".to_owned(), "outpatient".to_owned())]
    );
    let unknown = streamed_kinds(&mut internal, "460105", &["outpatient", "ward"])
        .await
        .expect_err("an unknown kind");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(unknown.message().contains("record_kinds[1]"), "{unknown:?}");
}
