//! Rule 8 end to end over real gRPC against `medpay up`: a stay and two pharmacy settlements of
//! its patient submitted through intake, one settled during the stay and one the day after the
//! discharge, March screened. Supervision reads the settlements through settlement's internal
//! `StreamCases` and finds the one during the stay only.

use integration_tests::{
    Medpay, Stay, config_with_county_key, put_and_activate_table, register_institution,
    table_document,
};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_proto::supervision::v1 as supervision;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;

const REGION: &str = "460108";
const HOSPITAL: &str = "H46010801";
const PHARMACY: &str = "Y46010801";

/// A pharmacy settlement of the stay's patient (P1) at `settled_at`.
fn pharmacy(list_id: &str, settled_at: &str) -> String {
    serde_json::json!({
        "header": {
            "setl_id": list_id,
            "fixmedins_code": PHARMACY,
            "hospital_level": "1",
            "insutype": 310,
            "psn_no": "P1",
            "case_number": list_id,
            "declared_at": format!("{} 20:00:00", &settled_at[..10]),
            "pooling_region": REGION
        },
        "kind": "pharmacy",
        "med_type": "41",
        "settled_at": settled_at,
        "diagnoses": [],
        "payment": {"medfee_sumamt": "80.00", "hifp_pay": "80.00"},
        "fee_lines": [{
            "hilist_code": "XJ01DDA001",
            "list_type": "101",
            "med_chrgitm_type": "09",
            "pric": "80.00",
            "cnt": "1",
            "det_item_fee_sumamt": "80.00",
            "inscp_amt": "80.00",
            "fee_ocur_time": settled_at
        }]
    })
    .to_string()
}

fn submit(
    request_id: &str,
    record: settlement::submit_record::Record,
) -> settlement::SubmitCasesRequest {
    settlement::SubmitCasesRequest {
        request_id: request_id.into(),
        region_code: REGION.into(),
        case_json: String::new(),
        record: Some(settlement::SubmitRecord {
            record: Some(record),
        }),
    }
}

#[tokio::test]
async fn a_pharmacy_settlement_during_the_stay_is_found_and_the_day_after_is_not()
-> anyhow::Result<()> {
    let server = Medpay::up(&config_with_county_key())?;
    let mut cases = SettlementServiceClient::new(server.channel().await?);
    register_institution(&mut cases, HOSPITAL, REGION, "3A").await?;
    register_institution(&mut cases, PHARMACY, REGION, "1").await?;
    put_and_activate_table(server.channel().await?, REGION, table_document()).await?;

    let stay = Stay {
        admitted_at: "2025-03-10 08:30",
        discharged_at: "2025-03-14 17:00",
        diagnoses: &["K35.800"],
        procedure: "47.0100",
    };
    use settlement::submit_record::Record;
    let upload = vec![
        submit(
            "ambulatory-upload",
            Record::SettlementListJson(stay.list_json(HOSPITAL, "S1", "BA1")),
        ),
        submit(
            "",
            Record::AmbulatoryJson(pharmacy("Y1", "2025-03-12 10:00")),
        ),
        submit(
            "",
            Record::AmbulatoryJson(pharmacy("Y2", "2025-03-15 10:00")),
        ),
    ];
    let outcome = cases
        .submit_cases(tokio_stream::iter(upload))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (3, 0), "{outcome:?}");

    let mut supervising = SupervisionServiceClient::new(server.channel().await?);
    let run = supervising
        .screen_cases(supervision::ScreenCasesRequest {
            request_id: "screen-2025-03".into(),
            region_code: REGION.into(),
            year: 2025,
            month: 3,
        })
        .await?
        .into_inner();
    assert_eq!(run.cases, 1, "the settlements are read beside the stay");
    let findings = supervising
        .list_findings(supervision::ListFindingsRequest {
            region_code: REGION.into(),
            period: Some(common::YearMonth {
                year: 2025,
                month: 3,
            }),
            rule_id: "ambulatory_during_stay".into(),
            page_size: 100,
            ..Default::default()
        })
        .await?
        .into_inner()
        .findings;
    let named: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f.list_id.as_str(),
                f.other_hospital_code.as_str(),
                f.other_list_id.as_str(),
            )
        })
        .collect();
    assert_eq!(named, [("S1", PHARMACY, "Y1")], "{findings:?}");
    assert_eq!(findings[0].amount, "80.00");
    Ok(())
}
