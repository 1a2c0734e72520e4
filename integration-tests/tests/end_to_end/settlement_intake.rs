//! Settlement intake end to end: the real `medpay up` binary, an institution and its agreement
//! registered over gRPC, settlement lists streamed in, every record answered, the accepted ones
//! listed with their valuation (or the reason valuation failed) and their data-quality warnings,
//! counted by supervision's QC indicators, and a retried upload replayed.

use integration_tests::{
    Medpay, config_with_county_key, list_json, put_and_activate_table, register_institution,
    stay_json, table_document,
};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_proto::supervision::v1 as reports;
use medpay_proto::supervision::v1::supervision_reports_service_client::SupervisionReportsServiceClient;
use rust_decimal::Decimal;
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

/// The points a listed case was valued at.
fn points_of(case: &settlement::CaseSummary) -> Option<Decimal> {
    case.points.as_ref().and_then(|p| p.value.parse().ok())
}

fn message(request_id: &str, json: String) -> settlement::SubmitCasesRequest {
    settlement::SubmitCasesRequest {
        request_id: request_id.to_owned(),
        region_code: "460100".to_owned(),
        case_json: String::new(),
        record: Some(settlement::SubmitRecord {
            record: Some(settlement::submit_record::Record::SettlementListJson(json)),
        }),
    }
}

#[tokio::test]
async fn lists_are_taken_record_by_record_and_a_retry_replays() -> anyhow::Result<()> {
    let server = Medpay::up(&config_with_county_key())?;
    let mut client = SettlementServiceClient::new(server.channel().await?);
    register_institution(&mut client, "H46010801", "460108", "3A").await?;
    client
        .put_agreement(settlement::PutAgreementRequest {
            request_id: "agr-2019".into(),
            region_code: "460108".into(),
            institution_code: "H46010801".into(),
            agreement: Some(settlement::Agreement {
                agreement_id: "2019".into(),
                valid_from: date(2019, 1, 1),
                valid_to: date(2019, 12, 31),
                status: "active".into(),
            }),
            reason: "annual agreement".into(),
        })
        .await?;
    let table_version =
        put_and_activate_table(server.channel().await?, "460108", table_document()).await?;

    let upload = || {
        vec![
            message(
                "upload-1",
                list_json("H46010801", "S1", "2025-03-10", "BA1"),
            ),
            message("", list_json("H46010801", "S2", "2025-03-11", "BA1")),
            // No agreement covers 2024.
            message("", list_json("H46010801", "S3", "2024-12-30", "BA1")),
            // An unregistered hospital.
            message("", list_json("H46010899", "S4", "2025-03-12", "BA1")),
            message("", "{\"header\": []}".into()),
        ]
    };
    let outcome = client
        .submit_cases(tokio_stream::iter(upload()))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (2, 3), "{outcome:?}");
    let codes: Vec<(u64, &str, &str)> = outcome
        .rejections
        .iter()
        .map(|r| (r.position, r.list_id.as_str(), r.code.as_str()))
        .collect();
    assert!(
        codes.contains(&(2, "S3", "no_valid_agreement")),
        "{codes:?}"
    );
    assert!(
        codes.contains(&(3, "S4", "institution_not_registered")),
        "{codes:?}"
    );
    assert!(codes.contains(&(4, "", "unreadable_record")), "{codes:?}");
    let unreadable = outcome
        .rejections
        .iter()
        .find(|r| r.position == 4)
        .ok_or_else(|| anyhow::anyhow!("no rejection of the unreadable record"))?;
    assert_eq!(unreadable.field, "header");

    let cases = client
        .list_cases(settlement::ListCasesRequest {
            region_code: "460108".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .cases;
    assert_eq!(
        cases.iter().map(|c| c.list_id.as_str()).collect::<Vec<_>>(),
        ["S1", "S2"]
    );
    for case in &cases {
        assert_eq!(case.status, "valued", "{case:?}");
        assert_eq!(case.group_code, "GD15", "{case:?}");
        assert_eq!(case.scheme_version, "demo@1", "{case:?}");
        assert_eq!(case.table_version, table_version.to_string(), "{case:?}");
        // A normal GD15 case: base points × the hospital's coefficient.
        assert_eq!(
            points_of(case),
            Some(Decimal::new(100, 0) * Decimal::new(105, 2))
        );
        assert_eq!(
            case.total_cost.as_ref().map(|m| m.yuan.as_str()),
            Some("12000.00")
        );
    }

    // The retried upload replays; nothing is stored twice.
    let replay = client
        .submit_cases(tokio_stream::iter(upload()))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert!(replay.replayed);
    assert_eq!(replay.accepted, 2);
    let versions = client
        .get_case(settlement::GetCaseRequest {
            region_code: "460108".into(),
            hospital_code: "H46010801".into(),
            list_id: "S1".into(),
        })
        .await?
        .into_inner()
        .versions;
    assert_eq!(versions.len(), 1);

    // A complication moves the case to GD13; a diagnosis the scheme does not know leaves it
    // ungroupable (valued on its cost); before any scheme was active it cannot be grouped at all
    // and is kept unvalued with the reason.
    let outcome = client
        .submit_cases(tokio_stream::iter(vec![
            message(
                "upload-2",
                stay_json(
                    "H46010801",
                    "S5",
                    "2025-04-01",
                    "BA5",
                    &["K35.800", "J18.900"],
                    "47.0100",
                ),
            ),
            message(
                "",
                stay_json(
                    "H46010801",
                    "S6",
                    "2025-04-02",
                    "BA6",
                    &["Z99.999"],
                    "47.0100",
                ),
            ),
            message(
                "",
                stay_json(
                    "H46010801",
                    "S7",
                    "2019-06-01",
                    "BA7",
                    &["K35.800"],
                    "47.0100",
                ),
            ),
        ]))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (3, 0), "{outcome:?}");
    let cases = client
        .list_cases(settlement::ListCasesRequest {
            region_code: "460108".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .cases;
    let case = |list_id: &str| {
        cases
            .iter()
            .find(|c| c.list_id == list_id)
            .ok_or_else(|| anyhow::anyhow!("{list_id} not listed"))
    };
    let complicated = case("S5")?;
    assert_eq!(
        (complicated.status.as_str(), complicated.group_code.as_str()),
        ("valued", "GD13"),
        "{complicated:?}"
    );
    assert_eq!(complicated.table_version, table_version.to_string());
    assert_eq!(
        points_of(complicated),
        Some(Decimal::new(150, 0) * Decimal::new(105, 2))
    );
    let ungroupable = case("S6")?;
    assert_eq!(ungroupable.status, "valued", "{ungroupable:?}");
    // DOMAIN.md §3: an ungroupable case earns cost / all-DRG mean × 100 × 0.9.
    assert_eq!(
        points_of(ungroupable),
        Some(
            Decimal::new(12_000, 0) / Decimal::new(10_000, 0)
                * Decimal::new(100, 0)
                * Decimal::new(9, 1)
        )
    );
    let before_any_scheme = case("S7")?;
    assert_eq!(
        before_any_scheme.status, "unvalued",
        "{before_any_scheme:?}"
    );
    assert!(
        before_any_scheme
            .valuation_error
            .contains("NO_ACTIVE_SCHEME"),
        "{before_any_scheme:?}"
    );
    assert!(before_any_scheme.group_code.is_empty());
    // The unknown principal diagnosis is kept as a warning that fails the list's quality
    // control; a list of known codes, or one no scheme checked, carries none.
    let warnings = |case: &settlement::CaseSummary| -> Vec<(String, String, String)> {
        case.warnings
            .iter()
            .map(|w| (w.level.clone(), w.code.clone(), w.field.clone()))
            .collect()
    };
    assert_eq!(
        warnings(ungroupable),
        [(
            "error".to_owned(),
            "unknown_diagnosis_code".to_owned(),
            "diagnoses[0].code".to_owned()
        )]
    );
    assert!(warnings(complicated).is_empty(), "{complicated:?}");
    assert!(warnings(before_any_scheme).is_empty());
    // Supervision's indicators count April's two lists: S6 fails QC and carries a coding error.
    let indicators = SupervisionReportsServiceClient::new(server.channel().await?)
        .get_indicators(reports::GetIndicatorsRequest {
            region_code: "460108".into(),
            period_from: Some(common::YearMonth {
                year: 2025,
                month: 4,
            }),
            period_to: Some(common::YearMonth {
                year: 2025,
                month: 4,
            }),
            breakdown: reports::Breakdown::Hospital.into(),
            fund_type: 0,
        })
        .await?
        .into_inner();
    let total = indicators
        .total
        .ok_or_else(|| anyhow::anyhow!("no total"))?;
    let figure = |code: &str| {
        total
            .indicators
            .iter()
            .find(|i| i.code == code)
            .map(|i| (i.value.clone(), i.numerator.clone(), i.denominator.clone()))
    };
    let half = Some(("0.5000".to_owned(), "1".to_owned(), "2".to_owned()));
    assert_eq!(figure("qc_pass_rate"), half);
    assert_eq!(figure("coding_error_rate"), half);

    // A county agency may not register institutions.
    let mut county = tonic::Request::new(settlement::PutInstitutionRequest {
        request_id: "inst-2".into(),
        institution: Some(settlement::Institution {
            code: "H46010802".into(),
            name: "Clinic".into(),
            region_code: "460108".into(),
            level: "1".into(),
            institution_type: "primary".into(),
            alliance_code: String::new(),
        }),
        effective_from: date(2020, 1, 1),
        reason: String::new(),
    });
    county.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", integration_tests::COUNTY_KEY).parse()?,
    );
    let refused = client
        .put_institution(county)
        .await
        .expect_err("the county key has no registry role");
    assert_eq!(refused.code(), Code::PermissionDenied);

    server.stop()?;
    Ok(())
}
