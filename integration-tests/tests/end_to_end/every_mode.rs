//! Every payment mode paid end to end: the real `medpay up` binary, a points table with a
//! rehabilitation per-diem programme and a day-surgery price beside the DRG groups, stays of each
//! mode submitted, a month prepaid and the year cleared. The money modes are paid their standard
//! (or their claim) first and the DRG point value divides the rest (DOMAIN.md §5). Each case's
//! valuation and each statement is read typed too and held member for member against its JSON.

use integration_tests::{
    Medpay, Stay, config_with_county_key, put_and_activate_table, register_institution,
};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use serde_json::Value;

use crate::typed_forms::{check_statement, check_valuation};

const REGION: &str = "460108";
const HOSPITAL: &str = "H46010801";

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

fn money(yuan: &str) -> Option<common::Money> {
    Some(common::Money { yuan: yuan.into() })
}

/// The DRG table of the intake tests with a rehabilitation programme (300 a day at level 3A)
/// and appendectomy (47.01…) as day surgery at 8,000.
fn table_with_money_modes() -> String {
    serde_json::json!({
        "policy": {
            "region": REGION, "year": 2025, "fund_type": "310", "main_method": "drg",
            "modes": {"day_surgery": {"procedure_codes": ["47.01"]}},
        },
        "tables": {
            "region": REGION,
            "year": 2025,
            "fund_type": "310",
            "drg": {
                "all_case_mean_cost": "10000",
                "groups": {
                    "GD15": {"mean_cost": "12000", "base_points": "100"},
                    "GD13": {"mean_cost": "15000", "base_points": "150"},
                },
            },
            "coefficients": {
                "drg_by_hospital": {
                    HOSPITAL: {
                        "all_groups": [{"coefficient": "1.05", "effective_from": "2025-01-01"}],
                    },
                },
            },
            "per_diem": {
                "programmes": {
                    "rehabilitation": [{"name": "all", "daily_rates": {"3A": "300"}}],
                },
            },
            "day_surgery": {"prices": {"47.01": "8000"}},
        },
    })
    .to_string()
}

fn submit(list_json: String, n: usize) -> settlement::SubmitCasesRequest {
    settlement::SubmitCasesRequest {
        request_id: if n == 0 {
            "every-mode-upload".into()
        } else {
            String::new()
        },
        region_code: REGION.into(),
        case_json: String::new(),
        record: Some(settlement::SubmitRecord {
            record: Some(settlement::submit_record::Record::SettlementListJson(
                list_json,
            )),
        }),
    }
}

fn yuan(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn mode_line<'a>(statement: &'a Value, mode: &str) -> anyhow::Result<&'a Value> {
    statement["modes"]
        .as_array()
        .and_then(|lines| lines.iter().find(|line| line["mode"] == mode))
        .ok_or_else(|| anyhow::anyhow!("no {mode} line in {statement}"))
}

#[tokio::test]
async fn every_mode_is_paid_at_its_standard_before_the_points() -> anyhow::Result<()> {
    let server = Medpay::up(&config_with_county_key())?;
    let mut client = SettlementServiceClient::new(server.channel().await?);
    register_institution(&mut client, HOSPITAL, REGION, "3A").await?;
    client
        .put_agreement(settlement::PutAgreementRequest {
            request_id: "agr-2025".into(),
            region_code: REGION.into(),
            institution_code: HOSPITAL.into(),
            agreement: Some(settlement::Agreement {
                agreement_id: "2025".into(),
                valid_from: date(2025, 1, 1),
                valid_to: date(2025, 12, 31),
                status: "active".into(),
            }),
            reason: "annual agreement".into(),
        })
        .await?;
    put_and_activate_table(server.channel().await?, REGION, table_with_money_modes()).await?;

    let appendicitis = ["K35.800"];
    let stays = [
        // Four days: past the 48 h of day surgery, a DRG case (GD15, 100 × 1.05 points).
        Stay {
            admitted_at: "2025-03-01 08:30",
            discharged_at: "2025-03-05 10:00",
            diagnoses: &appendicitis,
            procedure: "47.0100",
        },
        // 32.5 hours: day surgery at 8,000.
        Stay {
            admitted_at: "2025-03-10 08:30",
            discharged_at: "2025-03-11 17:00",
            diagnoses: &appendicitis,
            procedure: "47.0100",
        },
        // 73 days: an excluded stay, paid its claim (fund 9,000).
        Stay {
            admitted_at: "2025-01-01 08:30",
            discharged_at: "2025-03-15 10:00",
            diagnoses: &appendicitis,
            procedure: "47.0200",
        },
        // Twenty days of rehabilitation: 20 × 300 per diem.
        Stay {
            admitted_at: "2025-04-01 08:30",
            discharged_at: "2025-04-21 10:00",
            diagnoses: &["Z50.100"],
            procedure: "93.3900",
        },
    ];
    let upload: Vec<_> = stays
        .iter()
        .enumerate()
        .map(|(n, stay)| {
            submit(
                stay.list_json(HOSPITAL, &format!("S{n}"), &format!("BA{n}")),
                n,
            )
        })
        .collect();
    let outcome = client
        .submit_cases(tokio_stream::iter(upload))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!((outcome.accepted, outcome.rejected), (4, 0), "{outcome:?}");
    let cases = client
        .list_cases(settlement::ListCasesRequest {
            region_code: REGION.into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .cases;
    let modes: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| (c.list_id.as_str(), c.payment_mode.as_str()))
        .collect();
    assert_eq!(
        modes,
        [
            ("S0", "drg"),
            ("S1", "day_surgery"),
            ("S2", "fee_for_service"),
            ("S3", "per_diem_rehabilitation"),
        ],
        "{cases:?}"
    );

    // Each stored valuation typed, member for member its JSON, with the figures worked above.
    let mut typed = std::collections::BTreeMap::new();
    for list_id in ["S0", "S1", "S2", "S3"] {
        let versions = client
            .get_case(settlement::GetCaseRequest {
                region_code: REGION.into(),
                hospital_code: HOSPITAL.into(),
                list_id: list_id.into(),
            })
            .await?
            .into_inner()
            .versions;
        let current = versions
            .last()
            .ok_or_else(|| anyhow::anyhow!("no version"))?;
        typed.insert(list_id, check_valuation(current)?.clone());
    }
    let breakdown = |list_id: &str| typed[list_id].breakdown.clone().unwrap_or_default();
    let text = |d: Option<common::Decimal>| d.map(|d| d.value).unwrap_or_default();
    let yuan_of = |m: Option<common::Money>| m.map(|m| m.yuan);
    assert_eq!(
        (
            typed["S0"].payment_mode.as_str(),
            typed["S0"].mode_rule.as_str()
        ),
        ("DRG", "main_method")
    );
    assert_eq!(breakdown("S0").mode, "drg");
    assert_eq!(text(breakdown("S0").points), "105.0000");
    assert_eq!(yuan_of(typed["S0"].amount.clone()), None);
    assert_eq!(breakdown("S1").mode, "day_surgery");
    assert_eq!(
        yuan_of(typed["S1"].amount.clone()).as_deref(),
        Some("8000.00")
    );
    assert_eq!(
        (breakdown("S2").mode.as_str(), breakdown("S2").rule.as_str()),
        ("fee_for_service", "excluded_stay")
    );
    let rehabilitation = breakdown("S3");
    assert_eq!(
        (
            rehabilitation.mode.as_str(),
            rehabilitation.per_diem_programme.as_str()
        ),
        ("per_diem", "rehabilitation")
    );
    let days: Vec<(u32, Option<String>)> = rehabilitation
        .per_diem_days
        .iter()
        .map(|p| (p.days, yuan_of(p.daily_rate.clone())))
        .collect();
    assert_eq!(days, [(20, Some("300.00".to_owned()))]);
    assert_eq!(
        yuan_of(typed["S3"].amount.clone()).as_deref(),
        Some("6000.00")
    );

    let mut runs = SettlementRunServiceClient::new(server.channel().await?);
    // March: 105 points × 800 − the DRG case's burden 3,000 + day surgery (8,000 − 3,000) + the
    // excluded stay's claim 9,000 = 95,000; × 0.90 = 85,500; deposit 5 % = 4,275.
    let march = runs
        .run_prepayment(settlement::RunPrepaymentRequest {
            request_id: "prepay-2025-03".into(),
            region_code: REGION.into(),
            period: Some(common::YearMonth {
                year: 2025,
                month: 3,
            }),
            fund_type: 310,
            provisional_point_value: Some(common::Decimal {
                value: "800".into(),
            }),
            month_budget: None,
            skip_unvalued: false,
            use_published_point_value: false,
        })
        .await?
        .into_inner();
    let lines = runs
        .list_statements(settlement::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: march.run_id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .statements;
    let line = check_statement(&lines[0])?;
    let Some(settlement::statement::Detail::Prepayment(typed_line)) = &lines[0].detail else {
        anyhow::bail!("no typed prepayment line: {:?}", lines[0]);
    };
    assert_eq!(
        yuan_of(typed_line.payable.clone()).as_deref(),
        Some("81225.00")
    );
    assert_eq!(yuan(&line["money_fund_part"]), "14000.00", "{line}");
    assert_eq!(yuan(&line["fund_value"]), "95000.00", "{line}");
    assert_eq!(yuan(&line["payable"]), "81225.00", "{line}");

    // The year: 17,000 paid first (5,000 + 9,000 + 6,000 − 3,000), 83,000 left for the points:
    // (83,000 + 3,000) / 105 = 819.0476; 105 × 819.0476 = 86,000.00 − 3,000 = 83,000.00.
    let year = runs
        .run_clearing(settlement::RunClearingRequest {
            request_id: "clear-2025".into(),
            region_code: REGION.into(),
            year: 2025,
            fund_type: 310,
            distributable_budget: money("100000.00"),
            reason: String::new(),
            skip_unvalued: false,
        })
        .await?
        .into_inner();
    let identity = year
        .identity
        .ok_or_else(|| anyhow::anyhow!("no identity"))?;
    assert!(identity.holds);
    assert_eq!(identity.residue.map(|m| m.yuan).as_deref(), Some("0.00"));
    let statements = runs
        .list_statements(settlement::ListStatementsRequest {
            region_code: REGION.into(),
            run_id: year.run_id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .statements;
    let statement = check_statement(&statements[0])?;
    let Some(settlement::statement::Detail::Clearing(typed_statement)) = &statements[0].detail
    else {
        anyhow::bail!("no typed clearing statement: {:?}", statements[0]);
    };
    assert_eq!(text(typed_statement.point_value.clone()), "819.0476");
    assert_eq!(
        yuan_of(typed_statement.money_fund_part.clone()).as_deref(),
        Some("17000.00")
    );
    assert_eq!(statement["point_value"], "819.0476", "{statement}");
    assert_eq!(yuan(&statement["points_fund_part"]), "83000.00");
    assert_eq!(yuan(&statement["money_fund_part"]), "17000.00");
    assert_eq!(yuan(&statement["fund_entitlement"]), "100000.00");
    // Act: the fund paid of all four stays.
    assert_eq!(yuan(&statement["sharing_actual"]), "36000.00");
    let day_surgery = mode_line(&statement, "day_surgery")?;
    assert_eq!(
        (
            yuan(&day_surgery["amount"]),
            yuan(&day_surgery["fund_part"])
        ),
        ("8000.00".to_owned(), "5000.00".to_owned())
    );
    let rehabilitation = mode_line(&statement, "per_diem_rehabilitation")?;
    assert_eq!(
        (
            yuan(&rehabilitation["amount"]),
            yuan(&rehabilitation["fund_part"])
        ),
        ("6000.00".to_owned(), "3000.00".to_owned())
    );
    let excluded = mode_line(&statement, "fee_for_service")?;
    assert_eq!(yuan(&excluded["fund_part"]), "9000.00");
    assert_eq!(mode_line(&statement, "drg")?["points"], "105.0000");
    Ok(())
}
