//! Intake's data-quality warnings: validation's warnings and the codes the grouping scheme does
//! not know are stored with each accepted list, answered by ListCases, GetCase and the internal
//! StreamCases, and a list sent again adds none.

use medpay_proto::settlement::internal::v1 as internal;
use medpay_proto::settlement::internal::v1::settlement_internal_service_client::SettlementInternalServiceClient;
use sea_orm::{ConnectionTrait, Statement};
use settlement_service::SettlementInternalApi;

use super::*;

/// A list of hospital H1 with its JSON changed by `edit`.
fn edited(list_id: &str, edit: impl Fn(String) -> String) -> pb::SubmitRecord {
    pb::SubmitRecord {
        record: Some(pb::submit_record::Record::SettlementListJson(edit(
            sample_list_json("460108", "H1", list_id, "2025-03-10", "BA1"),
        ))),
    }
}

/// The three lists: an unknown principal diagnosis absent on admission, an unknown procedure, and
/// a clean list.
fn lists() -> Vec<pb::SubmitRecord> {
    vec![
        edited("L1", |json| {
            json.replace(
                r#""code":"K35.800","name":"acute appendicitis","admission_condition":1"#,
                r#""code":"U99.900","name":"unlisted","admission_condition":4"#,
            )
        }),
        edited("L2", |json| json.replace("47.0100x001", "U47.0100")),
        edited("L3", |json| json),
    ]
}

/// (level, code, field) of a warning.
type Described<'a> = (&'a str, &'a str, &'a str);

/// (level, code, field) of each warning.
fn described(warnings: &[pb::IntakeWarning]) -> Vec<Described<'_>> {
    warnings
        .iter()
        .map(|w| (w.level.as_str(), w.code.as_str(), w.field.as_str()))
        .collect()
}

async fn stored_warnings(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM settlement_case_warning",
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

#[tokio::test]
async fn a_list_with_an_unknown_code_is_stored_with_its_warnings_once() {
    let Server { mut client, db } = start(true).await;
    register(&mut client, "H1").await;
    let first = outcome_of(
        client
            .submit_case_batch(hospital_batch("w-1", "460100", lists()))
            .await,
    )
    .await;
    assert_eq!(
        (first.accepted, first.rejected),
        (3, 0),
        "warnings never reject"
    );

    let listed = client
        .list_cases(bureau(pb::ListCasesRequest {
            region_code: "460100".into(),
            ..Default::default()
        }))
        .await
        .expect("listed")
        .into_inner()
        .cases;
    let by_list: Vec<(&str, Vec<Described<'_>>)> = listed
        .iter()
        .map(|c| (c.list_id.as_str(), described(&c.warnings)))
        .collect();
    assert_eq!(
        by_list,
        [
            (
                "L1",
                vec![
                    (
                        "warning",
                        "principal_absent_on_admission",
                        "diagnoses[0].admission_condition"
                    ),
                    ("error", "unknown_diagnosis_code", "diagnoses[0].code"),
                ]
            ),
            (
                "L2",
                vec![("warning", "unknown_procedure_code", "procedures[0].code")]
            ),
            ("L3", vec![]),
        ]
    );
    assert!(listed[0].warnings[1].detail.contains("U99.900"));
    assert_eq!(stored_warnings(&db).await, 3);

    // The same lists again, under another request id: unchanged, and no warning added.
    let again = outcome_of(
        client
            .submit_case_batch(hospital_batch("w-2", "460100", lists()))
            .await,
    )
    .await;
    assert_eq!((again.accepted, again.unchanged), (0, 3));
    assert_eq!(stored_warnings(&db).await, 3);

    let case = client
        .get_case(bureau(pb::GetCaseRequest {
            region_code: "460100".into(),
            hospital_code: "H1".into(),
            list_id: "L1".into(),
        }))
        .await
        .expect("case")
        .into_inner();
    assert_eq!(case.versions.len(), 1);
    let summary = case.versions[0].summary.as_ref().expect("summary");
    assert_eq!(described(&summary.warnings).len(), 2);

    // A correction that fixes the code is a new content: its version carries no warning, the
    // first keeps its own.
    let corrected = outcome_of(
        client
            .submit_case_batch(hospital_batch(
                "w-3",
                "460100",
                vec![edited("L2", |json| json.replace("BA1", "BA2"))],
            ))
            .await,
    )
    .await;
    assert_eq!(corrected.corrected, 1);
    let versions = client
        .get_case(bureau(pb::GetCaseRequest {
            region_code: "460100".into(),
            hospital_code: "H1".into(),
            list_id: "L2".into(),
        }))
        .await
        .expect("case")
        .into_inner()
        .versions;
    let counts: Vec<usize> = versions
        .iter()
        .map(|v| v.summary.as_ref().map_or(0, |s| s.warnings.len()))
        .collect();
    assert_eq!(counts, [1, 0]);

    // Supervision reads the same warnings through StreamCases.
    let channel = platform::testing::serve(tonic::service::Routes::new(
        SettlementInternalApi::new(CaseStore::new(db)).into_server(),
    ))
    .await;
    let mut stream = SettlementInternalServiceClient::new(channel)
        .stream_cases(as_caller(
            internal::StreamCasesRequest {
                filter: Some(pb::ListCasesRequest {
                    region_code: "460100".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            "460100",
            "service",
        ))
        .await
        .expect("stream")
        .into_inner();
    let mut streamed = Vec::new();
    while let Some(message) = stream.next().await {
        let summary = message.expect("message").summary.expect("summary");
        streamed.push((summary.list_id, summary.warnings.len()));
    }
    assert_eq!(
        streamed,
        [
            ("L1".to_owned(), 2),
            ("L2".to_owned(), 0),
            ("L3".to_owned(), 0)
        ]
    );
}
