//! Which table version values a case, over a real socket: the version in force on the discharge
//! date, of the case's region, else its prefecture, else its province; named in every valuation.

use crate::common::*;
use medpay_proto::common::v1::Date;
use medpay_proto::points::internal::v1 as internal;
use medpay_proto::points::v1 as pb;
use tonic::Code;

/// A GB11 case of 15,000 yuan at H1 (coefficient 1.05) admitted and discharged on the dates given.
fn stay(id: &str, admitted: Option<Date>, discharged: Option<Date>) -> pb::CaseForValuation {
    pb::CaseForValuation {
        admission_date: admitted,
        discharge_date: discharged,
        ..case(id, "15000")
    }
}

fn points_of(valuation: &pb::CaseValuation) -> String {
    valuation.points.clone().expect("points").value
}

fn table_of(valuation: &pb::CaseValuation) -> (String, i32, Option<Date>) {
    let table = valuation
        .table
        .clone()
        .expect("the valuation names its table");
    assert_eq!((table.year, table.fund_type), (2025, EMPLOYEE));
    assert_eq!(table.version, valuation.table_version);
    (table.region_code, table.version, table.effective_from)
}

#[tokio::test]
async fn cases_are_valued_with_the_version_in_force_on_their_discharge_date() {
    let mut server = start().await;
    let january =
        put_and_activate_from(&mut server, document_of("460000", "150"), date(2025, 1, 1)).await;
    let july =
        put_and_activate_from(&mut server, document_of("460000", "200"), date(2025, 7, 1)).await;
    assert_eq!((january, july), (1, 2));

    let messages = vec![
        pb::ValueCasesRequest {
            region_code: "460000".into(),
            year: 2025,
            case: Some(stay("last-day-of-v1", date(2025, 6, 25), date(2025, 6, 30))),
        },
        pb::ValueCasesRequest {
            case: Some(stay("first-day-of-v2", date(2025, 6, 26), date(2025, 7, 1))),
            ..Default::default()
        },
        pb::ValueCasesRequest {
            case: Some(stay("before-any", date(2024, 12, 20), date(2024, 12, 31))),
            ..Default::default()
        },
        pb::ValueCasesRequest {
            case: Some(stay(
                "first-day-of-v1",
                date(2024, 12, 28),
                date(2025, 1, 1),
            )),
            ..Default::default()
        },
    ];
    let results = server.value_cases(messages).await;
    assert_eq!(results.len(), 4);

    // 150 × 1.05 under version 1, 200 × 1.05 under version 2.
    let v1 = results[0].valuation.as_ref().expect("valued");
    assert_eq!(points_of(v1), "157.5000");
    assert_eq!(table_of(v1), ("460000".into(), january, date(2025, 1, 1)));
    let v2 = results[1].valuation.as_ref().expect("valued");
    assert_eq!(points_of(v2), "210.0000");
    assert_eq!(table_of(v2), ("460000".into(), july, date(2025, 7, 1)));
    let first = results[3].valuation.as_ref().expect("valued");
    assert_eq!(table_of(first).1, january);

    let before = &results[2];
    assert_eq!(before.sequence, 2);
    assert!(before.valuation.is_none());
    assert_eq!(before.error_reason, "NO_TABLE_IN_FORCE");
    assert!(
        before.error.contains("2024-12-31") && before.error.contains("2025-01-01"),
        "{}",
        before.error
    );

    // ValueCase refuses the same case on its own.
    let status = server
        .value_case(stay("before-any", date(2024, 12, 20), date(2024, 12, 31)))
        .await
        .expect_err("no table in force");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&status), "NO_TABLE_IN_FORCE");

    // Activating version 2 superseded version 1 without ending it for earlier discharges.
    let old = server.get_table(january).await.expect("v1");
    assert_eq!(old.status, pb::TableStatus::Superseded as i32);
    assert_eq!(old.effective_from, date(2025, 1, 1));
}

/// The table region and points of a case of `region` discharged in each of February, April and
/// June 2025, valued in one batch.
async fn february_april_june(server: &mut Server, region: &str) -> Vec<(String, String)> {
    let batch = internal::ValueBatchRequest {
        region_code: region.into(),
        year: 2025,
        cases: vec![
            stay("feb", date(2025, 2, 1), date(2025, 2, 10)),
            stay("apr", date(2025, 4, 1), date(2025, 4, 10)),
            stay("jun", date(2025, 6, 1), date(2025, 6, 10)),
        ],
    };
    let answer = server
        .internal
        .value_batch(bureau(batch))
        .await
        .expect("batch")
        .into_inner();
    answer
        .results
        .into_iter()
        .map(|r| {
            let valuation = r.valuation.expect("valued");
            (table_of(&valuation).0, points_of(&valuation))
        })
        .collect()
}

#[tokio::test]
async fn a_county_uses_its_own_table_else_its_prefectures_else_its_provinces() {
    let mut server = start().await;
    put_and_activate_from(&mut server, document_of("460000", "150"), date(2025, 1, 1)).await;
    put_and_activate_from(&mut server, document_of("460100", "180"), date(2025, 3, 1)).await;
    put_and_activate_from(&mut server, document_of("460105", "200"), date(2025, 5, 1)).await;

    assert_eq!(
        february_april_june(&mut server, "460105").await,
        vec![
            ("460000".into(), "157.5000".into()),
            ("460100".into(), "189.0000".into()),
            ("460105".into(), "210.0000".into()),
        ]
    );
    // A sibling county without a table of its own follows its prefecture from March.
    assert_eq!(
        february_april_june(&mut server, "460106").await,
        vec![
            ("460000".into(), "157.5000".into()),
            ("460100".into(), "189.0000".into()),
            ("460100".into(), "189.0000".into()),
        ]
    );
    // Another prefecture's county has only the province.
    assert!(
        february_april_june(&mut server, "460201")
            .await
            .iter()
            .all(|(region, points)| region == "460000" && points == "157.5000")
    );
}
