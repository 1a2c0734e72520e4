//! Typed settlement records (`SubmitRecord.settlement_list`, `.ambulatory`): accepted, stored as
//! the same bytes as their JSON form, replayed by request id, refused field by field, mixed with
//! JSON records in one batch, and read back typed.

use settlement_domain::case::SettlementList;
use settlement_service::convert::lists::list_to_wire;

use super::*;

/// The sample list of `list_id` in its typed form, built from the same JSON the other tests send.
fn typed_list(list_id: &str, case_number: &str) -> pb::SettlementList {
    let json = sample_list_json("460108", "H1", list_id, "2025-06-15", case_number);
    let list: SettlementList = serde_json::from_str(&json).expect("sample");
    list_to_wire(&list)
}

fn typed_record(list: pb::SettlementList) -> pb::SubmitRecord {
    pb::SubmitRecord {
        record: Some(pb::submit_record::Record::SettlementList(list)),
    }
}

async fn case_of(
    client: &mut SettlementServiceClient<Channel>,
    list_id: &str,
) -> Result<pb::GetCaseResponse, Status> {
    client
        .get_case(bureau(pb::GetCaseRequest {
            region_code: "460100".into(),
            hospital_code: "H1".into(),
            list_id: list_id.into(),
        }))
        .await
        .map(Response::into_inner)
}

#[tokio::test]
async fn a_typed_list_is_stored_as_the_bytes_of_its_json_form_and_read_back_typed() {
    let json_server = start(true).await;
    let typed_server = start(true).await;
    let (mut json_client, mut typed_client) = (json_server.client, typed_server.client);
    register(&mut json_client, "H1").await;
    register(&mut typed_client, "H1").await;
    let sent = outcome_of(
        json_client
            .submit_case_batch(hospital_batch(
                "json",
                "460100",
                vec![list_record("H1", "L1", "2025-06-15", "BA1")],
            ))
            .await,
    )
    .await;
    assert_eq!(sent.accepted, 1, "{sent:?}");
    let typed = typed_list("L1", "BA1");
    let sent = outcome_of(
        typed_client
            .submit_case_batch(hospital_batch(
                "typed",
                "460100",
                vec![typed_record(typed.clone())],
            ))
            .await,
    )
    .await;
    assert_eq!((sent.accepted, sent.rejected), (1, 0), "{sent:?}");
    let from_json = case_of(&mut json_client, "L1").await.expect("json case");
    let from_typed = case_of(&mut typed_client, "L1").await.expect("typed case");
    let (json_version, typed_version) = (&from_json.versions[0], &from_typed.versions[0]);
    assert_eq!(typed_version.case_json, json_version.case_json);
    let hash = |v: &pb::CaseVersion| v.summary.as_ref().map(|s| s.content_hash.clone());
    assert_eq!(hash(typed_version), hash(json_version));
    // Valued alike: the typed list went through the same valuation.
    let group = |v: &pb::CaseVersion| {
        v.summary
            .as_ref()
            .map(|s| (s.group_code.clone(), s.status.clone()))
    };
    assert_eq!(
        group(typed_version),
        Some(("GB13".to_owned(), "valued".to_owned()))
    );
    assert_eq!(group(typed_version), group(json_version));
    // Read back typed, whichever form it came in; the sample sets no optional amount, which
    // reads back as 0.00.
    assert_eq!(typed_version.settlement_list, json_version.settlement_list);
    let read = typed_version.settlement_list.clone().expect("typed read");
    assert_eq!(read.header, typed.header);
    assert_eq!(read.diagnoses, typed.diagnoses);
    let payment = read.payment.expect("payment");
    assert_eq!(payment.hifp_pay.map(|m| m.yuan).as_deref(), Some("8400.00"));
    assert_eq!(payment.maf_pay.map(|m| m.yuan).as_deref(), Some("0.00"));
    assert_eq!(typed_version.ambulatory, None);
    // The same list typed, sent where it was sent as JSON, changes nothing.
    let again = outcome_of(
        json_client
            .submit_case_batch(hospital_batch(
                "json-then-typed",
                "460100",
                vec![typed_record(typed)],
            ))
            .await,
    )
    .await;
    assert_eq!(
        (again.accepted, again.corrected, again.unchanged),
        (0, 0, 1),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_typed_upload_replays_by_request_id_and_another_form_is_another_upload() {
    let Server { mut client, .. } = start(true).await;
    register(&mut client, "H1").await;
    let batch = |records| hospital_batch("typed-1", "460100", records);
    let first = outcome_of(
        client
            .submit_case_batch(batch(vec![typed_record(typed_list("L1", "BA1"))]))
            .await,
    )
    .await;
    assert_eq!((first.accepted, first.replayed), (1, false));
    let replay = outcome_of(
        client
            .submit_case_batch(batch(vec![typed_record(typed_list("L1", "BA1"))]))
            .await,
    )
    .await;
    assert_eq!((replay.accepted, replay.replayed), (1, true));
    let as_json = client
        .submit_case_batch(batch(vec![list_record("H1", "L1", "2025-06-15", "BA1")]))
        .await
        .expect_err("the same list as JSON is another record");
    assert_eq!(as_json.code(), Code::AlreadyExists);
    assert_eq!(
        as_json.get_details_error_info().map(|i| i.reason),
        Some("REQUEST_ID_REUSED".to_owned())
    );
    let changed = client
        .submit_case_batch(batch(vec![typed_record(typed_list("L1", "BA2"))]))
        .await
        .expect_err("another typed list");
    assert_eq!(changed.code(), Code::AlreadyExists);
    let versions = case_of(&mut client, "L1").await.expect("case").versions;
    assert_eq!(versions.len(), 1);
}

#[tokio::test]
async fn a_typed_list_with_bad_fields_is_refused_naming_each_path() {
    let Server { mut client, .. } = start(true).await;
    register(&mut client, "H1").await;
    let mut unreadable = typed_list("L1", "BA1");
    let payment = unreadable.payment.as_mut().expect("payment");
    payment.hifp_pay = Some(common::Money {
        yuan: "8400.001".into(),
    });
    unreadable.diagnoses[1].admission_condition = 256;
    let mut invalid = typed_list("L2", "BA1");
    invalid.patient.as_mut().expect("patient").sex = 3;
    let outcome = outcome_of(
        client
            .submit_case_batch(hospital_batch(
                "bad",
                "460100",
                vec![typed_record(unreadable), typed_record(invalid)],
            ))
            .await,
    )
    .await;
    assert_eq!((outcome.accepted, outcome.rejected), (0, 2), "{outcome:?}");
    let named: Vec<(u64, &str, &str, &str)> = outcome
        .rejections
        .iter()
        .map(|r| {
            (
                r.position,
                r.list_id.as_str(),
                r.field.as_str(),
                r.code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            (
                0,
                "L1",
                "diagnoses[1].admission_condition",
                "unreadable_record"
            ),
            (0, "L1", "payment.hifp_pay", "unreadable_record"),
            (1, "L2", "patient.sex", "sex_invalid"),
        ]
    );
    // The JSON form of the second is refused for the same field and reason.
    let json = sample_list_json("460108", "H1", "L2", "2025-06-15", "BA1")
        .replace("\"sex\":2", "\"sex\":3");
    let outcome = outcome_of(
        client
            .submit_case_batch(hospital_batch(
                "bad-json",
                "460100",
                vec![pb::SubmitRecord {
                    record: Some(pb::submit_record::Record::SettlementListJson(json)),
                }],
            ))
            .await,
    )
    .await;
    let rejection = &outcome.rejections[0];
    assert_eq!(
        (rejection.field.as_str(), rejection.code.as_str()),
        ("patient.sex", "sex_invalid")
    );
    for list_id in ["L1", "L2"] {
        let missing = case_of(&mut client, list_id).await.expect_err("not stored");
        assert_eq!(missing.code(), Code::NotFound);
    }
}

#[tokio::test]
async fn a_mixed_batch_reports_exactly_its_bad_record_and_stores_nothing_of_it() {
    let Server { mut client, .. } = start(true).await;
    register(&mut client, "H1").await;
    let mut bad = typed_list("L3", "BA1");
    bad.fee_lines.push(pb::FeeLine {
        hilist_code: "X1".into(),
        list_type: pb::ListType::Service as i32,
        pric: Some(common::Decimal { value: "1".into() }),
        cnt: None,
        det_item_fee_sumamt: Some(common::Money {
            yuan: "1.00".into(),
        }),
        fee_ocur_time: None,
        ..Default::default()
    });
    let outpatient = sample_outpatient_json("460108", "H1", "M1", "2025-06-16");
    let settlement: settlement_domain::case::AmbulatorySettlement =
        serde_json::from_str(&outpatient).expect("sample");
    let records = vec![
        list_record("H1", "L1", "2025-06-15", "BA1"),
        typed_record(typed_list("L2", "BA1")),
        typed_record(bad),
        pb::SubmitRecord {
            record: Some(pb::submit_record::Record::Ambulatory(
                settlement_service::convert::lists::ambulatory_to_wire(&settlement),
            )),
        },
    ];
    let outcome = outcome_of(
        client
            .submit_case_batch(hospital_batch("mixed", "460100", records.clone()))
            .await,
    )
    .await;
    assert_eq!((outcome.accepted, outcome.rejected), (3, 1), "{outcome:?}");
    let named: Vec<(u64, &str, &str)> = outcome
        .rejections
        .iter()
        .map(|r| (r.position, r.list_id.as_str(), r.field.as_str()))
        .collect();
    assert_eq!(
        named,
        [
            (2, "L3", "fee_lines[0].cnt"),
            (2, "L3", "fee_lines[0].fee_ocur_time"),
        ]
    );
    assert!(case_of(&mut client, "L1").await.is_ok());
    assert!(case_of(&mut client, "L2").await.is_ok());
    assert_eq!(
        case_of(&mut client, "L3").await.expect_err("bad").code(),
        Code::NotFound
    );
    let ambulatory = case_of(&mut client, "M1")
        .await
        .expect("outpatient")
        .versions;
    assert_eq!(ambulatory[0].settlement_list, None);
    let read = ambulatory[0].ambulatory.clone().expect("typed outpatient");
    assert_eq!(read.kind, pb::AmbulatoryKind::Outpatient as i32);
    assert_eq!(read.header.map(|h| h.setl_id).as_deref(), Some("M1"));
    // Streamed, the same records are answered the same way.
    let Server {
        client: mut other, ..
    } = start(true).await;
    register(&mut other, "H1").await;
    let streamed = other
        .submit_cases(stream_of("mixed-stream", records))
        .await
        .expect("stream")
        .into_inner()
        .outcome
        .expect("outcome");
    assert_eq!((streamed.accepted, streamed.rejected), (3, 1));
    assert_eq!(streamed.rejections, outcome.rejections);
}

/// The typed sample list `L{n}` with an amount finer than a fen (unreadable) when `bad`.
fn numbered(n: usize, bad: bool) -> pb::SubmitRecord {
    let mut list = typed_list(&format!("L{n}"), "BA1");
    if bad {
        list.payment.as_mut().expect("payment").hifp_pay = Some(common::Money {
            yuan: "8400.001".into(),
        });
    }
    typed_record(list)
}

#[tokio::test]
async fn typed_records_read_over_several_chunks_and_threads_are_named_by_their_upload_position() {
    // Chunks of 150 records are read in parts of at least 64 on the blocking pool: the bad
    // records sit at the edges of chunks and parts.
    let bad = [0usize, 63, 64, 127, 149, 150, 151, 299, 300, 399];
    let records: Vec<pb::SubmitRecord> = (0..400).map(|n| numbered(n, bad.contains(&n))).collect();
    let expected: Vec<(u64, String, String)> = bad
        .iter()
        .map(|&n| (n as u64, format!("L{n}"), "payment.hifp_pay".to_owned()))
        .collect();
    let named = |outcome: &pb::IntakeOutcome| -> Vec<(u64, String, String)> {
        outcome
            .rejections
            .iter()
            .map(|r| (r.position, r.list_id.clone(), r.field.clone()))
            .collect()
    };
    let Server { mut client, .. } = start_with_chunk(true, Some(150)).await;
    register(&mut client, "H1").await;
    let streamed = client
        .submit_cases(stream_of("typed-stream", records.clone()))
        .await
        .expect("stream")
        .into_inner()
        .outcome
        .expect("outcome");
    assert_eq!(
        (streamed.accepted, streamed.rejected),
        (390, 10),
        "{streamed:?}"
    );
    assert_eq!(named(&streamed), expected);
    for n in [1, 62, 65, 148, 152, 398] {
        assert!(case_of(&mut client, &format!("L{n}")).await.is_ok(), "L{n}");
    }
    for n in bad {
        let missing = case_of(&mut client, &format!("L{n}")).await;
        assert_eq!(missing.expect_err("bad").code(), Code::NotFound, "L{n}");
    }
    // The upload's fingerprint covers the records as read on the workers: the same stream is
    // replayed, one record sent otherwise is another upload.
    let replayed = client
        .submit_cases(stream_of("typed-stream", records.clone()))
        .await
        .expect("replay")
        .into_inner()
        .outcome
        .expect("outcome");
    assert!(replayed.replayed);
    assert_eq!(named(&replayed), expected);
    let mut changed = records.clone();
    changed[200] = numbered(200, true);
    let refused = client
        .submit_cases(stream_of("typed-stream", changed))
        .await
        .expect_err("other records under the same request id");
    assert_eq!(refused.code(), Code::AlreadyExists);
    // Sent whole, the same records are answered the same way.
    let Server {
        client: mut other, ..
    } = start_with_chunk(true, Some(150)).await;
    register(&mut other, "H1").await;
    let batch = outcome_of(
        other
            .submit_case_batch(hospital_batch("typed-batch", "460100", records))
            .await,
    )
    .await;
    assert_eq!(batch.rejections, streamed.rejections);
}
