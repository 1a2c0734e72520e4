//! Uploads across regions: a county stores only its own cases.

use super::*;

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
    // By region first: B's county 460105 before A's 460108.
    assert_eq!(keys, [("HB", "L1"), ("HA", "L1")]);

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
