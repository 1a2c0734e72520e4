//! The internal contract's StreamCases: a region's current inpatient lists of a month, in
//! (region, hospital, list id) order, for the caller's region and the regions inside it only.

use kernel::Decimal;
use medpay_proto::settlement::internal::v1 as internal;
use medpay_proto::settlement::internal::v1::settlement_internal_service_client::SettlementInternalServiceClient;
use sea_orm::ConnectionTrait;
use settlement_domain::case::SettlementList;
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

/// Every streamed message of `region`'s June with the kinds asked, whole or without fee lines.
async fn june(
    client: &mut SettlementInternalServiceClient<Channel>,
    region: &str,
    without_fee_lines: bool,
) -> Vec<internal::StreamCasesResponse> {
    let mut request = stream_request(region, 6);
    request.record_kinds = vec!["inpatient".into(), "outpatient".into()];
    request.without_fee_lines = without_fee_lines;
    let mut stream = client
        .stream_cases(as_caller(request, region, "service"))
        .await
        .expect("the stream")
        .into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.next().await {
        messages.push(message.expect("a message"));
    }
    messages
}

/// Per category, (Σ amount, Σ in-policy amount) of a stored list's fee lines.
fn line_sums(list: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut sums: std::collections::BTreeMap<String, (Decimal, Decimal)> = Default::default();
    for line in list["fee_lines"].as_array().expect("fee lines") {
        let amount =
            |field: &str| -> Decimal { line[field].as_str().expect(field).parse().expect(field) };
        let sum = sums
            .entry(line["med_chrgitm_type"].as_str().expect("category").into())
            .or_default();
        sum.0 += amount("det_item_fee_sumamt");
        sum.1 += amount("inscp_amt");
    }
    sums.into_iter()
        .map(|(category, (amount, in_policy))| {
            (
                category,
                amount.round_dp(2).to_string(),
                in_policy.round_dp(2).to_string(),
            )
        })
        .collect()
}

fn streamed_sums(message: &internal::StreamCasesResponse) -> Vec<(String, String, String)> {
    message
        .fee_line_totals
        .iter()
        .map(|total| {
            let yuan = |money: &Option<common::Money>| -> String {
                let text = &money.as_ref().expect("an amount").yuan;
                text.parse::<Decimal>()
                    .expect("decimal")
                    .round_dp(2)
                    .to_string()
            };
            (
                total.med_chrgitm_type.clone(),
                yuan(&total.amount),
                yuan(&total.in_policy_amount),
            )
        })
        .collect()
}

/// A sample list of `day` with fee lines of two categories, one of them refunded in part.
fn list_with_lines(list_id: &str, day: &str) -> pb::SubmitRecord {
    let mut list: serde_json::Value =
        serde_json::from_str(&sample_list_json("460105", "HB", list_id, day, "BA1"))
            .expect("the sample list");
    let line = |code: &str, (list_type, category): (&str, &str), amount: &str, refund: bool| {
        serde_json::json!({
            "hilist_code": code, "list_type": list_type, "med_chrgitm_type": category,
            "pric": amount.trim_start_matches('-'), "cnt": if refund { "-1" } else { "1" },
            "det_item_fee_sumamt": amount, "inscp_amt": amount,
            "fee_ocur_time": format!("{day} 09:00"), "refd_setl_flag": refund,
        })
    };
    list["fee_lines"] = serde_json::json!([
        line("XJ01", ("101", "09"), "3000.00", false),
        line("XJ02", ("101", "09"), "125.50", false),
        line("XJ02", ("101", "09"), "-125.50", true),
        line("F001", ("201", "06"), "7000.00", false),
        line("C001", ("301", "08"), "0.01", false),
    ]);
    pb::SubmitRecord {
        record: Some(pb::submit_record::Record::SettlementListJson(
            list.to_string(),
        )),
    }
}

#[tokio::test]
async fn lists_stream_without_their_fee_lines_with_what_the_lines_add_up_to() {
    let Server { mut client, db } = start(true).await;
    register_in(&mut client, "HB", "460105").await;
    let records = vec![
        list_with_lines("L1", "2025-06-20"),
        list_with_lines("L2", "2025-06-15"),
        pb::SubmitRecord {
            record: Some(pb::submit_record::Record::AmbulatoryJson(
                sample_outpatient_json("460105", "HB", "M1", "2025-06-15"),
            )),
        },
    ];
    let outcome = outcome_of(
        client
            .submit_case_batch(upload("460105", "heads-1", records))
            .await,
    )
    .await;
    assert!(outcome.rejections.is_empty(), "{:?}", outcome.rejections);
    let channel = platform::testing::serve(tonic::service::Routes::new(
        SettlementInternalApi::new(CaseStore::new(db.clone())).into_server(),
    ))
    .await;
    let mut internal = SettlementInternalServiceClient::new(channel);

    let whole = june(&mut internal, "460105", false).await;
    let heads = june(&mut internal, "460105", true).await;
    assert_eq!(whole.len(), 3);
    let check = |heads: &[internal::StreamCasesResponse]| {
        assert_eq!(heads.len(), whole.len());
        for (whole, head) in whole.iter().zip(heads) {
            assert_eq!(head.summary, whole.summary);
            assert_eq!(head.record_kind, whole.record_kind);
            assert_eq!(head.grouping, whole.grouping);
            let list: serde_json::Value =
                serde_json::from_str(&whole.case_json).expect("the stored record");
            if whole.record_kind != "inpatient" {
                // Ambulatory settlements are streamed whole either way.
                assert_eq!(head.case_json, whole.case_json);
                assert!(head.fee_line_totals.is_empty());
                continue;
            }
            assert!(whole.fee_line_totals.is_empty());
            let sums = line_sums(&list);
            assert_eq!(sums.len(), 3, "three categories of lines");
            assert_eq!(streamed_sums(head), sums);
            let head_fields: serde_json::Value =
                serde_json::from_str(&head.case_json).expect("the head");
            assert!(head_fields.get("fee_lines").is_none());
            // Compared as lists: a stored zero written "0" reads back as 0.00.
            let mut expected: SettlementList =
                serde_json::from_str(&whole.case_json).expect("the stored list");
            expected.fee_lines.clear();
            let read: SettlementList = serde_json::from_str(&head.case_json).expect("the head");
            assert_eq!(read, expected, "the head is the list without its fee lines");
        }
    };
    check(&heads);

    // Lists stored before heads were have none in the ledger: their heads are made from the
    // stored lists, alike.
    db.execute_unprepared(
        "UPDATE settlement_case SET list_head_json = NULL, line_totals_json = NULL",
    )
    .await
    .expect("forget the heads");
    check(&june(&mut internal, "460105", true).await);
}
