//! A Hainan prefecture-year on DIP with every payment mode, through the real `medpay up` over
//! gRPC: Haikou (460100) with institutions in two of its districts, a DIP directory built from
//! history by `BuildDipDirectory` and activated, a points table with per-diem programmes
//! (psychiatric in phases, rehabilitation, hospice), the day-surgery list and price, basic-level
//! diseases and a score-0 group, the stays of both funds each placed on a boundary of DOMAIN.md §5
//! "Hainan clearing with every mode", the DIP budget point value published from the 2024 stays,
//! twelve months prepaid with it and both funds cleared. Every figure
//! the statements show is computed by `expect` from the rules, independently of the domain crates;
//! the boundary stays are also checked against values worked out by hand.

mod data;
mod expect;

use std::collections::BTreeMap;

use integration_tests::{Medpay, config_with_county_key, register_institution};
use medpay_proto::budget::v1 as budget;
use medpay_proto::budget::v1::budget_service_client::BudgetServiceClient;
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::v1 as grouping;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use medpay_proto::points::v1 as points;
use medpay_proto::points::v1::points_service_client::PointsServiceClient;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use rust_decimal::Decimal;
use serde_json::Value as Json;
use tonic::transport::Channel;

use data::{
    DAY_SURGERY_PREFIX, DAY_SURGERY_PRICE, GROUPS, HOSPICE, HOSPITALS, LEVEL_COEFFICIENTS, LEVELS,
    POOL, PSYCHIATRIC, Phase, REHABILITATION, Stay, d,
};
use expect::{Value, Valued};

const YEAR: i32 = 2025;
const FUNDS: [u16; 2] = [310, 390];

fn date(year: i32, month: i32, day: i32) -> Option<common::Date> {
    Some(common::Date { year, month, day })
}

/// The distributable inpatient budget B of each fund (the adjustment reserve is held beside it),
/// set so that between them the two funds put institutions in each of the three sharing tiers.
fn distributable_budget(fund: u16) -> Decimal {
    if fund == 310 {
        d("185000.00")
    } else {
        d("133000.00")
    }
}

/// Builds the directory from the history, loads it and activates it for Haikou; returns each
/// priced combination's group code.
async fn build_directory(channel: Channel) -> anyhow::Result<BTreeMap<&'static str, String>> {
    let mut client = GroupingServiceClient::new(channel);
    let built = client
        .build_dip_directory(grouping::BuildDipDirectoryRequest {
            request_id: "haikou-dip-build".into(),
            region_code: POOL.into(),
            history_csv: data::history_csv(),
            years: vec![2022, 2023, 2024],
            min_cases: 15,
            score_scale: None,
            options: Some(grouping::DipBuildOptions {
                directory_id: "haikou-2025".into(),
                directory_name: "Haikou DIP directory 2025".into(),
                directory_year: YEAR,
                ..Default::default()
            }),
            load: true,
        })
        .await?
        .into_inner();
    let scheme = built
        .scheme
        .ok_or_else(|| anyhow::anyhow!("the build loaded no scheme"))?;
    let report = built
        .report
        .ok_or_else(|| anyhow::anyhow!("the build answered no report"))?;
    let mut codes = BTreeMap::new();
    for group in &GROUPS {
        let found = report
            .groups
            .iter()
            .find(|g| g.diagnosis == group.category && g.procedures == group.procedure)
            .ok_or_else(|| anyhow::anyhow!("no group {} {}", group.category, group.procedure))?;
        assert_eq!(found.kind(), grouping::DipGroupKind::Core, "{found:?}");
        codes.insert(group.category, found.code.clone());
    }
    client
        .activate_scheme(grouping::ActivateSchemeRequest {
            request_id: "haikou-dip-activate".into(),
            region_code: POOL.into(),
            scheme_id: scheme.scheme_id,
            version: scheme.version,
            // From 2024, so that the stays the budget point value is published from are grouped.
            effective_from: date(YEAR - 1, 1, 1),
        })
        .await?;
    Ok(codes)
}

fn phases_json(phases: &[Phase]) -> Json {
    phases
        .iter()
        .map(|(name, last_day, rates)| {
            let rates: serde_json::Map<String, Json> = LEVELS
                .iter()
                .zip(rates)
                .map(|(level, rate)| ((*level).to_owned(), (*rate).into()))
                .collect();
            serde_json::json!({"name": name, "last_day": last_day, "daily_rates": rates})
        })
        .collect()
}

/// The points table of `fund` and `year`: DIP main method, the Hainan mode order by default.
fn table_document(fund: u16, year: i32, codes: &BTreeMap<&'static str, String>) -> String {
    let groups: serde_json::Map<String, Json> = GROUPS
        .iter()
        .map(|g| {
            let references: serde_json::Map<String, Json> = LEVELS
                .iter()
                .zip(g.references)
                .map(|(level, r)| ((*level).to_owned(), r.into()))
                .collect();
            let mut row = serde_json::json!({"score": g.score, "reference_costs": references});
            if let Some(reference) = g.basic_level_reference {
                row["basic_level_reference"] = reference.into();
            }
            (codes[g.category].clone(), row)
        })
        .collect();
    let basic: Vec<&String> = GROUPS
        .iter()
        .filter(|g| g.basic_level)
        .map(|g| &codes[g.category])
        .collect();
    let levels: serde_json::Map<String, Json> = LEVEL_COEFFICIENTS
        .iter()
        .map(|(level, c)| ((*level).to_owned(), (*c).into()))
        .collect();
    let add_ons: serde_json::Map<String, Json> = HOSPITALS
        .iter()
        .filter(|h| !d(h.add_on).is_zero())
        .map(|h| (h.code.to_owned(), h.add_on.into()))
        .collect();
    serde_json::json!({
        "policy": {
            "region": POOL, "year": year, "fund_type": fund.to_string(), "main_method": "dip",
            "modes": {
                "day_surgery": {"procedure_codes": [DAY_SURGERY_PREFIX]},
                "basic_level": {"group_codes": basic},
            },
        },
        "tables": {
            "region": POOL,
            "year": year,
            "fund_type": fund.to_string(),
            "dip": {"groups": groups},
            "coefficients": {"dip_levels": levels, "dip_hospital_add_ons": add_ons},
            "per_diem": {"programmes": {
                "psychiatric": phases_json(&PSYCHIATRIC),
                "rehabilitation": phases_json(&REHABILITATION),
                "hospice": phases_json(&HOSPICE),
            }},
            "day_surgery": {"prices": {DAY_SURGERY_PREFIX: DAY_SURGERY_PRICE}},
        },
    })
    .to_string()
}

/// The bureau's year: tables (2024's too, for the stays the budget point value is published
/// from), institutions, the settlement policy of Hainan's DIP scheme (reimbursement-ratio point
/// value, sharing through the budget's tiers, no quality deposit, all by the scheme's defaults)
/// and the budget of each fund.
async fn set_up(channel: Channel) -> anyhow::Result<()> {
    let codes = build_directory(channel.clone()).await?;
    let mut tables = PointsServiceClient::new(channel.clone());
    for (fund, year) in FUNDS.into_iter().flat_map(|f| [(f, YEAR - 1), (f, YEAR)]) {
        let put = tables
            .put_table(points::PutTableRequest {
                request_id: format!("haikou-table-{fund}-{year}"),
                region_code: POOL.into(),
                year,
                fund_type: i32::from(fund),
                document_json: table_document(fund, year, &codes),
                document: None,
            })
            .await?
            .into_inner()
            .table
            .ok_or_else(|| anyhow::anyhow!("no table"))?;
        tables
            .activate_table(points::ActivateTableRequest {
                request_id: format!("haikou-table-{fund}-{year}-active"),
                region_code: POOL.into(),
                year,
                fund_type: i32::from(fund),
                version: put.version,
                effective_from: date(year, 1, 1),
            })
            .await?;
    }
    let mut intake = SettlementServiceClient::new(channel.clone());
    for h in &HOSPITALS {
        register_institution(&mut intake, h.code, h.county, h.level).await?;
        // Last year's agreement too: the 2024 stays are taken in like any list.
        intake
            .put_agreement(settlement::PutAgreementRequest {
                request_id: format!("agreement-{}-2024", h.code),
                region_code: h.county.into(),
                institution_code: h.code.into(),
                agreement: Some(settlement::Agreement {
                    agreement_id: "2024".into(),
                    valid_from: date(YEAR - 1, 1, 1),
                    valid_to: date(YEAR - 1, 12, 31),
                    status: "active".into(),
                }),
                reason: "annual agreement".into(),
            })
            .await?;
    }
    let mut runs = SettlementRunServiceClient::new(channel.clone());
    let mut budgets = BudgetServiceClient::new(channel);
    for fund in FUNDS {
        runs.put_settlement_policy(settlement::PutSettlementPolicyRequest {
            request_id: format!("haikou-policy-{fund}"),
            region_code: POOL.into(),
            year: YEAR,
            fund_type: i32::from(fund),
            policy_json: r#"{"scheme": "hainan_dip"}"#.into(),
            reason: "Hainan DIP year".into(),
            policy: None,
        })
        .await?;
        // The reserve (5 % of last year's spending) covers any shared overspend in full.
        let document = serde_json::json!({
            "region": POOL, "year": YEAR, "fund": fund.to_string(), "mode": "regional_points",
            "basis": {
                "kind": "last_year_growth",
                "last_year_spending": (distributable_budget(fund) * Decimal::TWO).to_string(),
                "growth_cap": "0",
            },
            "split": {"shares": [{"block": "inpatient", "share": "1"}]},
            "policy": {"adjustment_reserve_rate": "0.05"},
        });
        budgets
            .create_budget(budget::CreateBudgetRequest {
                request_id: format!("haikou-budget-{fund}"),
                region_code: POOL.into(),
                year: YEAR,
                fund_type: i32::from(fund),
                mode: budget::BudgetMode::RegionalPoints as i32,
                document_json: document.to_string(),
                document: None,
            })
            .await?;
    }
    Ok(())
}

async fn submit(channel: Channel, request_id: &str, stays: &[Stay]) -> anyhow::Result<()> {
    let upload: Vec<_> = stays
        .iter()
        .enumerate()
        .map(|(n, stay)| settlement::SubmitCasesRequest {
            request_id: if n == 0 {
                request_id.into()
            } else {
                String::new()
            },
            region_code: POOL.into(),
            case_json: String::new(),
            record: Some(settlement::SubmitRecord {
                record: Some(settlement::submit_record::Record::SettlementListJson(
                    stay.list_json(),
                )),
            }),
        })
        .collect();
    let outcome = SettlementServiceClient::new(channel)
        .submit_cases(tokio_stream::iter(upload))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!(
        (outcome.accepted as usize, outcome.rejected),
        (stays.len(), 0),
        "{outcome:?}"
    );
    Ok(())
}

fn wire(value: &Json) -> Decimal {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("{value} is not a decimal"))
}

fn money(value: Option<common::Money>) -> Decimal {
    value
        .and_then(|m| m.yuan.parse().ok())
        .unwrap_or_else(|| panic!("no amount"))
}

/// Each stay's mode and points as the ledger stored them.
async fn check_cases(channel: Channel, fund: u16, valued: &[Valued]) -> anyhow::Result<()> {
    let mut client = SettlementServiceClient::new(channel);
    let cases = client
        .list_cases(settlement::ListCasesRequest {
            region_code: POOL.into(),
            page_size: 500,
            fund_type: i32::from(fund),
            ..Default::default()
        })
        .await?
        .into_inner()
        .cases;
    // The 2024 stays the budget point value is published from are stored beside the year's.
    let history = data::history_stays(fund).len();
    assert_eq!(cases.len(), valued.len() + history);
    for v in valued {
        let case = cases
            .iter()
            .find(|c| c.list_id == v.stay.list_id)
            .ok_or_else(|| anyhow::anyhow!("{} not stored", v.stay.list_id))?;
        let what = format!("{} ({}): {case:?}", v.stay.list_id, v.stay.note);
        assert_eq!(case.status, "valued", "{what}");
        assert_eq!(case.payment_mode, v.mode, "{what}");
        // Every mode's stored valuation, typed, holds member for member what its JSON says.
        let versions = client
            .get_case(settlement::GetCaseRequest {
                region_code: POOL.into(),
                hospital_code: case.hospital_code.clone(),
                list_id: case.list_id.clone(),
            })
            .await?
            .into_inner()
            .versions;
        let current = versions
            .last()
            .ok_or_else(|| anyhow::anyhow!("{what}: no version"))?;
        crate::typed_forms::check_valuation(current)?;
        if let Value::Points(points) = v.value {
            let stored: Decimal = case
                .points
                .as_ref()
                .and_then(|p| p.value.parse().ok())
                .unwrap_or_default();
            assert_eq!(stored, points, "{what}");
        }
    }
    Ok(())
}

/// The boundary stays, worked by hand from DOMAIN.md (both funds have the same stays and costs;
/// only who pays differs): list position → value.
fn hand_values() -> [(usize, Value); 22] {
    [
        // 40 acute psychiatric days at 3A: 1500 × 1 × (1.20 + 0.05).
        (0, Value::Points(d("1875.0000"))),
        // Readmitted 15 days later: days 41–60, 16 acute × 300 + 4 chronic × 200.
        (1, Value::Standard(d("5600.00"))),
        // Another person's 40 acute days, 16000 / 15000: normal.
        (2, Value::Points(d("1875.0000"))),
        // Readmitted 16 days later: a new episode of 20 days, acute; 7000 / 15000 < 0.5 → low.
        (3, Value::Points(d("875.0000"))),
        // 48:00:00: day surgery at its price.
        (4, Value::Standard(d("6000.00"))),
        // 48:00:01: the DIP appendectomy, 1000 × 1.25.
        (5, Value::Points(d("1250.0000"))),
        // Score 0: paid at cost.
        (6, Value::Claimed),
        // Hospice in the rehabilitation ward: 10 days × 500 (the standard, above the cost).
        (7, Value::Standard(d("5000.00"))),
        // Basic level at 3A: 500 × 0.4 × 1.05, no add-on.
        (8, Value::Points(d("210.0000"))),
        // Cerebral infarction at its 3A reference: 1200 × 1.25.
        (9, Value::Points(d("1500.0000"))),
        // A DIP readmission after 10 days at exactly 2 × the reference: normal, not halved.
        (10, Value::Points(d("1500.0000"))),
        // Psychiatric LOS 56 at 2B: acute, 1500 × 1.00.
        (11, Value::Points(d("1500.0000"))),
        // LOS 57: per diem for the whole stay, 56 × 250 + 1 × 180.
        (12, Value::Standard(d("14180.00"))),
        // LOS 59: DIP high, 1200 × (25000 / 11000 − 2 + 1) = 1527.27272…
        (13, Value::Points(d("1527.2727"))),
        // LOS 60: excluded, fee-for-service.
        (14, Value::Claimed),
        // Exactly 0.5 × the 2B reference (4500 / 9000): normal, 1000 × 1.00.
        (15, Value::Points(d("1000.0000"))),
        // Rehabilitation at 2B: 20 days × 350.
        (16, Value::Standard(d("7000.00"))),
        // Basic level at a primary institution: 500 × 1.05, not × 0.85.
        (17, Value::Points(d("525.0000"))),
        // Rehabilitation, 30 days × 300 at level 1.
        (18, Value::Standard(d("9000.00"))),
        // Exactly 2 × the level-1 reference (14000 / 7000): normal, 1000 × 0.85.
        (19, Value::Points(d("850.0000"))),
        // Level 1, cost 3000 against 9000: 1200 × 1/3 × 0.85.
        (20, Value::Points(d("340.0000"))),
        // 20 hours of day surgery at a primary institution: the same price.
        (21, Value::Standard(d("6000.00"))),
    ]
}

fn mode_line<'a>(statement: &'a Json, line: &str) -> Option<&'a Json> {
    statement["modes"]
        .as_array()
        .and_then(|lines| lines.iter().find(|l| l["mode"] == line))
}

async fn statements(
    runs: &mut SettlementRunServiceClient<Channel>,
    run_id: &str,
) -> anyhow::Result<BTreeMap<String, Json>> {
    let listed = runs
        .list_statements(settlement::ListStatementsRequest {
            region_code: POOL.into(),
            run_id: run_id.into(),
            page_size: 100,
            ..Default::default()
        })
        .await?
        .into_inner()
        .statements;
    let mut by_hospital = BTreeMap::new();
    for s in listed {
        // The typed statement holds member for member what the JSON says.
        let json = crate::typed_forms::check_statement(&s)?;
        let code = json["hospital_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        by_hospital.insert(code, json);
    }
    Ok(by_hospital)
}

#[tokio::test]
async fn a_haikou_dip_year_pays_every_mode_and_clears_both_funds_to_the_fen() -> anyhow::Result<()>
{
    let server = Medpay::up(&config_with_county_key())?;
    set_up(server.channel().await?).await?;
    let history: Vec<Vec<Stay>> = FUNDS.iter().map(|f| data::history_stays(*f)).collect();
    submit(server.channel().await?, "haikou-2024", &history.concat()).await?;
    let stays: Vec<Vec<Stay>> = FUNDS.iter().map(|f| data::stays(*f)).collect();
    submit(server.channel().await?, "haikou-2025", &stays.concat()).await?;

    let mut runs = SettlementRunServiceClient::new(server.channel().await?);
    let mut tiers = std::collections::BTreeSet::new();
    for ((fund, stays), history) in FUNDS.into_iter().zip(&stays).zip(&history) {
        let valued = expect::value_year(stays);
        for (position, value) in hand_values() {
            assert_eq!(
                valued[position].value, value,
                "hand value of {}",
                stays[position].note
            );
        }
        check_cases(server.channel().await?, fund, &valued).await?;

        // The budget point value of 2025, published from the 2024 stays (the policy's default
        // history, 1:2:7 over 2022–2024, of which only 2024 has stays): by hand, (12,000 +
        // 11,000 + 4,500) / (1000 × 1.25 + 1200 × 1.00 + 500 × 1.05) = 27,500 / 2,975 =
        // 9.24369… → 9.2437, the score-0 stay left out; the same for both funds.
        let expected_value = expect::budget_point_value(history);
        assert_eq!(expected_value, d("9.2437"));
        let published = runs
            .publish_dip_budget_point_value(settlement::PublishDipBudgetPointValueRequest {
                request_id: format!("haikou-budget-point-value-{fund}"),
                region_code: POOL.into(),
                year: YEAR,
                fund_type: i32::from(fund),
                history: Vec::new(),
            })
            .await?
            .into_inner()
            .value
            .ok_or_else(|| anyhow::anyhow!("no value published"))?;
        let published_value: Decimal = published
            .point_value
            .as_ref()
            .and_then(|v| v.value.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no point value"))?;
        assert_eq!(published_value, expected_value, "{fund}");

        let budget = distributable_budget(fund);
        let year = expect::clear(&valued, budget, expected_value);
        tiers.extend(year.hospitals.values().map(|h| h.tier));

        for month in 1..=12 {
            let period = Some(common::YearMonth { year: YEAR, month });
            let run = runs
                .run_prepayment(settlement::RunPrepaymentRequest {
                    request_id: format!("haikou-prepay-{fund}-{month}"),
                    region_code: POOL.into(),
                    period,
                    fund_type: i32::from(fund),
                    provisional_point_value: None,
                    month_budget: None,
                    skip_unvalued: false,
                    use_published_point_value: true,
                })
                .await?
                .into_inner();
            let lines = statements(&mut runs, &run.run_id).await?;
            for h in &HOSPITALS {
                let expected = year
                    .prepaid
                    .get(&(u32::try_from(month)?, h.code))
                    .copied()
                    .unwrap_or_default();
                let paid = lines
                    .get(h.code)
                    .map_or(Decimal::ZERO, |l| wire(&l["payable"]));
                assert_eq!(paid, expected, "{fund} month {month} {}: {lines:?}", h.code);
            }
            runs.close_month(settlement::CloseMonthRequest {
                request_id: format!("haikou-close-{fund}-{month}"),
                region_code: POOL.into(),
                period,
                fund_type: i32::from(fund),
            })
            .await?;
        }

        let cleared = runs
            .run_clearing(settlement::RunClearingRequest {
                request_id: format!("haikou-clear-{fund}"),
                region_code: POOL.into(),
                year: YEAR,
                fund_type: i32::from(fund),
                distributable_budget: Some(common::Money {
                    yuan: budget.to_string(),
                }),
                reason: String::new(),
                skip_unvalued: false,
            })
            .await?
            .into_inner();
        let identity = cleared
            .identity
            .ok_or_else(|| anyhow::anyhow!("no identity"))?;
        let totals = cleared.totals.ok_or_else(|| anyhow::anyhow!("no totals"))?;
        let decimal = |value: Option<common::Decimal>| -> Decimal {
            value
                .and_then(|v| v.value.parse().ok())
                .unwrap_or_else(|| panic!("no decimal"))
        };
        assert_eq!(decimal(totals.point_value), year.point_value, "{fund}");
        assert_eq!(decimal(totals.reimbursement_ratio), year.ratio, "{fund}");
        assert_eq!(money(totals.points_budget), budget - year.money_total);
        // The identity, to the fen: Σ entitlements of every mode + residue = B.
        assert!(identity.holds);
        assert_eq!(money(identity.distributable_budget), budget);
        assert_eq!(money(identity.ffs_special_total), Decimal::ZERO);
        assert_eq!(money(identity.residue), year.residue, "{fund}");
        let entitled: Decimal = year.hospitals.values().map(|h| h.entitlement).sum();
        assert_eq!(money(identity.total_entitlements), entitled);
        assert_eq!(entitled + year.residue, budget);
        let bound = year.points * d("0.00005") * year.ratio + d("0.01") * Decimal::from(3);
        assert!(
            year.residue.abs() <= bound,
            "{fund} residue {}",
            year.residue
        );

        let statements = statements(&mut runs, &cleared.run_id).await?;
        for h in &HOSPITALS {
            let expected = &year.hospitals[h.code];
            let s = &statements[h.code];
            let what = format!("{fund} {}: {s}", h.code);
            assert_eq!(wire(&s["points"]), expected.points, "{what}");
            assert_eq!(wire(&s["point_value"]), year.point_value, "{what}");
            assert_eq!(
                wire(&s["gross_entitlement"]),
                expected.points_amount,
                "{what}"
            );
            assert_eq!(
                wire(&s["points_fund_part"]),
                expected.points_fund_part,
                "{what}"
            );
            assert_eq!(
                wire(&s["money_fund_part"]),
                expected.money_fund_part,
                "{what}"
            );
            assert_eq!(wire(&s["fund_entitlement"]), expected.entitlement, "{what}");
            assert_eq!(wire(&s["sharing_standard"]), expected.entitlement, "{what}");
            assert_eq!(wire(&s["sharing_actual"]), expected.actual, "{what}");
            assert_eq!(s["sharing_tier"], expected.tier, "{what}");
            assert_eq!(wire(&s["sharing_payable"]), expected.payable, "{what}");
            assert_eq!(wire(&s["prepaid"]), expected.prepaid, "{what}");
            assert_eq!(
                wire(&s["balance"]),
                expected.payable - expected.prepaid,
                "{what}"
            );
            // Each mode's cases and amounts.
            let mine: Vec<&Valued> = valued
                .iter()
                .filter(|v| v.stay.hospital == h.code)
                .collect();
            let lines: std::collections::BTreeSet<&str> = mine.iter().map(|v| v.line).collect();
            assert_eq!(
                s["modes"].as_array().map(Vec::len),
                Some(lines.len()),
                "{what}"
            );
            for line in lines {
                let of_line: Vec<&&Valued> = mine.iter().filter(|v| v.line == line).collect();
                let got = mode_line(s, line)
                    .ok_or_else(|| anyhow::anyhow!("no {line} line in {what}"))?;
                let sum = |f: fn(&Valued) -> Decimal| of_line.iter().map(|v| f(v)).sum::<Decimal>();
                assert_eq!(got["cases"], of_line.len(), "{line} of {what}");
                assert_eq!(
                    wire(&got["points"]),
                    sum(Valued::points),
                    "{line} of {what}"
                );
                assert_eq!(
                    wire(&got["amount"]),
                    sum(Valued::amount),
                    "{line} of {what}"
                );
                assert_eq!(
                    wire(&got["fund_part"]),
                    sum(Valued::money_fund_part),
                    "{line} of {what}"
                );
            }
        }
    }
    assert_eq!(
        tiers.into_iter().collect::<Vec<_>>(),
        ["overspend_band_1", "overspend_band_2", "surplus_retained"],
        "the year should put institutions in every tier"
    );
    Ok(())
}
