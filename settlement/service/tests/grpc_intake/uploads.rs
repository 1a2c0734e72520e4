//! Uploads streamed and in batches: valuation through the peers, replays, corrections and
//! closed months, an unreachable peer, uploads cut off and resumed, reused request ids.

use super::*;

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
    let corrected = outcome_of(
        client
            .submit_case_batch(hospital_batch(
                "upload-2",
                "460100",
                vec![list_record("H1", "L1", "2025-06-15", "BA2")],
            ))
            .await,
    )
    .await;
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
    let late = outcome_of(
        client
            .submit_case_batch(hospital_batch(
                "upload-3",
                "460100",
                vec![list_record("H1", "L1", "2025-06-15", "BA3")],
            ))
            .await,
    )
    .await;
    assert_eq!(late.rejected, 1);
    assert_eq!(late.rejections[0].code, "month_closed");
    assert_eq!(late.rejections[0].list_id, "L1");
}

#[tokio::test]
async fn an_unreachable_peer_fails_the_upload_and_stores_nothing() {
    let Server { mut client, .. } = start(false).await;
    register(&mut client, "H1").await;
    let failed = client
        .submit_case_batch(hospital_batch(
            "upload-1",
            "460100",
            vec![list_record("H1", "L1", "2025-06-15", "BA1")],
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
        .submit_case_batch(hospital_batch("upload-2", "460200", vec![]))
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
