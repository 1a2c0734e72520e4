//! Settlement intake end to end: the real `medpay up` binary, an institution and its agreement
//! registered over gRPC, settlement lists streamed in, every record answered, the accepted ones
//! listed with their valuation (or the reason valuation failed), and a retried upload replayed.

use integration_tests::{Medpay, config_with_county_key};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::Code;

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

/// A valid one-day appendicitis stay discharged on `day` (`yyyy-mm-dd`).
fn list_json(hospital: &str, list_id: &str, day: &str, case_number: &str) -> String {
    format!(
        r#"{{"header":{{"setl_id":"{list_id}","fixmedins_code":"{hospital}","hospital_level":"3","insutype":310,"psn_no":"P1","case_number":"{case_number}","declared_at":"{day} 18:00:00","pooling_region":"460108"}},"patient":{{"sex":2,"birth_date":"1990-03-01","age_years":35}},"stay":{{"med_type":"21","admission_route":"2","admitted_at":"{day} 08:30","admission_department":"general_surgery","discharged_at":"{day} 17:00","discharge_department":"general_surgery","discharge_type":1}},"diagnoses":[{{"code":"K35.800","name":"acute appendicitis","admission_condition":1}}],"procedures":[{{"code":"47.0100x001","name":"laparoscopic appendectomy","date":"{day}"}}],"charges":[{{"category":"surgery","amount":"12000.00"}}],"payment":{{"medfee_sumamt":"12000.00","hifp_pay":"9000.00","acct_pay":"1000.00","psn_cash_pay":"2000.00"}}}}"#
    )
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
    client
        .put_institution(settlement::PutInstitutionRequest {
            request_id: "inst-1".into(),
            institution: Some(settlement::Institution {
                code: "H46010801".into(),
                name: "Meilan People's Hospital".into(),
                region_code: "460108".into(),
                level: "3A".into(),
                institution_type: "general".into(),
                alliance_code: String::new(),
            }),
            effective_from: date(2020, 1, 1),
            reason: String::new(),
        })
        .await?;
    client
        .put_agreement(settlement::PutAgreementRequest {
            request_id: "agr-1".into(),
            region_code: "460108".into(),
            institution_code: "H46010801".into(),
            agreement: Some(settlement::Agreement {
                agreement_id: "2025".into(),
                valid_from: date(2025, 1, 1),
                valid_to: date(2025, 12, 31),
                status: "active".into(),
            }),
            reason: "annual agreement".into(),
        })
        .await?;

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
        codes.contains(&(3, "S4", "no_valid_agreement")),
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
        // Each case is either valued (group, points, the versions used) or says why not.
        match case.status.as_str() {
            "valued" => {
                assert!(!case.group_code.is_empty(), "{case:?}");
                assert!(!case.scheme_version.is_empty(), "{case:?}");
                assert!(!case.table_version.is_empty(), "{case:?}");
            }
            "unvalued" => assert!(!case.valuation_error.is_empty(), "{case:?}"),
            other => panic!("unexpected status {other}: {case:?}"),
        }
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
