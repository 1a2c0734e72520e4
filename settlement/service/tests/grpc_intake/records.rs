//! Records checked one by one: bounds and dates named by field, messages over the limits.

use super::*;

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
