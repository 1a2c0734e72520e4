//! The bureau's steps around the payments: the year's budget per fund with its adjustment
//! reserve and a clearing policy that shares through it, so each hospital's surplus is retained
//! or its overspend shared by tier; and the screening of every month's stays by the supervision
//! rules, read back as findings per rule, with each hospital's monitoring indicators.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};

use super::Channel;
use kernel::{Decimal, FundType, Money, RegionCode};
use medpay_proto::budget::v1 as budget;
use medpay_proto::budget::v1::budget_service_client::BudgetServiceClient;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_run_service_client::SettlementRunServiceClient;
use medpay_proto::supervision::v1 as supervision;
use medpay_proto::supervision::v1::supervision_reports_service_client::SupervisionReportsServiceClient;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;

use super::{MainMethod, YEAR};

/// Creates the year's budget of `fund` for `region` on last year's claims (the inpatient block,
/// 5 % of it the adjustment reserve) and makes the clearing share through it; on DIP the
/// clearing sets the settlement point value on the reimbursement-ratio basis (DOMAIN.md §5,
/// Hainan: fund amount for DIP / reimbursement ratio / Σ scores).
pub async fn set_budget(
    channel: Channel,
    region: RegionCode,
    fund: FundType,
    last_year_claims: Money,
    method: MainMethod,
) -> anyhow::Result<()> {
    let document = serde_json::json!({
        "region": region.to_string(),
        "year": YEAR,
        "fund": fund.code().to_string(),
        "mode": "regional_points",
        "basis": {
            "kind": "last_year_growth",
            "last_year_spending": last_year_claims.to_string(),
            "growth_cap": "0",
        },
        "split": {"shares": [{"block": "inpatient", "share": "1"}]},
        "policy": {"adjustment_reserve_rate": "0.05"},
    });
    BudgetServiceClient::new(channel.clone())
        .create_budget(budget::CreateBudgetRequest {
            request_id: format!("demo-budget-{region}-{}", fund.code()),
            region_code: region.to_string(),
            year: YEAR,
            fund_type: i32::from(fund.code()),
            mode: budget::BudgetMode::RegionalPoints as i32,
            document_json: document.to_string(),
            document: None,
        })
        .await?;
    SettlementRunServiceClient::new(channel)
        .put_settlement_policy(settlement::PutSettlementPolicyRequest {
            request_id: format!("demo-policy-{region}-{}", fund.code()),
            region_code: region.to_string(),
            year: YEAR,
            fund_type: i32::from(fund.code()),
            policy_json: match method {
                MainMethod::Drg => r#"{"clearing": {"sharing": "budget"}}"#.into(),
                MainMethod::Dip => r#"{"clearing": {"sharing": "budget", "point_value_basis": "reimbursement_ratio"}}"#.into(),
            },
            reason: "year-end sharing by the budget's tiers".into(),
            policy: None,
        })
        .await?;
    Ok(())
}

/// Publishes the DIP budget point value of `fund` for the paid year from the stored stays of
/// `history_year` (weight 1) and returns it.
pub async fn publish_budget_point_value(
    channel: Channel,
    region: RegionCode,
    fund: FundType,
    history_year: i32,
) -> anyhow::Result<Decimal> {
    let published = SettlementRunServiceClient::new(channel)
        .publish_dip_budget_point_value(settlement::PublishDipBudgetPointValueRequest {
            request_id: format!("demo-budget-point-value-{region}-{}", fund.code()),
            region_code: region.to_string(),
            year: YEAR,
            fund_type: i32::from(fund.code()),
            history: vec![settlement::HistoryYearWeight {
                year: history_year,
                weight: Some(common::Decimal { value: "1".into() }),
            }],
        })
        .await?
        .into_inner()
        .value
        .ok_or_else(|| anyhow::anyhow!("PublishDipBudgetPointValue answered no value"))?;
    let value = published
        .point_value
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the budget point value has no value"))?
        .value
        .parse::<Decimal>()
        .map_err(|e| anyhow::anyhow!("budget point value: {e}"))?;
    let cases: u64 = published.history.iter().map(|year| year.cases).sum();
    eprintln!(
        "budget point value {region} fund {} {YEAR}: {value} from {cases} scored stays of {history_year}",
        fund.code()
    );
    Ok(value)
}

/// One screening rule's findings over the year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFindings {
    pub number: u32,
    pub rule_id: String,
    pub name: String,
    pub name_zh: String,
    pub level: &'static str,
    pub findings: u64,
    pub amount: Money,
}

/// The year's screening: stays screened and, per rule in force, what it found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Screening {
    pub cases: u64,
    pub rules: Vec<RuleFindings>,
    /// Each hospital's monitoring indicators over the year, in hospital order.
    pub indicators: Vec<HospitalIndicators>,
    /// Every finding of the year, as the scoring matches them (`score`).
    pub found: Vec<medpay_simulator::score::FindingRef>,
    /// The findings scored against the simulator's ground truth (`score`).
    pub scores: medpay_simulator::score::Scores,
}

/// A hospital's monitoring indicators over the year, as `GetIndicators` gives them (absent
/// where the hospital's data does not support one, such as a CMI without a weighted group).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HospitalIndicators {
    pub hospital: String,
    pub cmi: Option<Decimal>,
    pub average_length_of_stay: Option<Decimal>,
    pub mean_cost: Option<Decimal>,
    pub readmission_rate: Option<Decimal>,
}

/// The year's indicators of `region` per hospital, from the supervision reports service.
pub async fn indicators(
    channel: Channel,
    region: RegionCode,
) -> anyhow::Result<Vec<HospitalIndicators>> {
    let answer = SupervisionReportsServiceClient::new(channel)
        .max_decoding_message_size(super::MESSAGE_LIMIT)
        .get_indicators(supervision::GetIndicatorsRequest {
            region_code: region.to_string(),
            period_from: Some(common::YearMonth {
                year: YEAR,
                month: 1,
            }),
            period_to: Some(common::YearMonth {
                year: YEAR,
                month: 12,
            }),
            breakdown: supervision::Breakdown::Hospital.into(),
            fund_type: 0,
        })
        .await?
        .into_inner();
    answer
        .rows
        .iter()
        .map(|row| {
            let value = |code: &str| -> anyhow::Result<Option<Decimal>> {
                row.indicators
                    .iter()
                    .find(|i| i.code == code)
                    .map(|i| {
                        i.value.parse::<Decimal>().map_err(|e| {
                            anyhow::anyhow!("{} {code} {:?}: {e}", row.hospital_code, i.value)
                        })
                    })
                    .transpose()
            };
            Ok(HospitalIndicators {
                hospital: row.hospital_code.clone(),
                cmi: value("cmi")?,
                average_length_of_stay: value("average_length_of_stay")?,
                mean_cost: value("mean_cost")?,
                readmission_rate: value("readmission_rate")?,
            })
        })
        .collect()
}

impl Screening {
    pub fn findings(&self) -> u64 {
        self.rules.iter().map(|r| r.findings).sum()
    }
}

fn level_word(level: i32) -> &'static str {
    match supervision::RuleLevel::try_from(level) {
        Ok(supervision::RuleLevel::Strong) => "strong",
        Ok(supervision::RuleLevel::General) => "general",
        Ok(supervision::RuleLevel::Weak) => "weak",
        _ => "unspecified",
    }
}

/// Months screened at once: each run reads its month while the other's rules run, so both
/// cores stay busy (supervision stores each run's findings in its own transaction, and runs of
/// different months read and write nothing of each other's).
const MONTHS_IN_FLIGHT: usize = 2;

/// What one month's screening found, in the order the findings were listed.
struct MonthScreened {
    cases: u64,
    findings: Vec<supervision::Finding>,
}

/// Screens `month` of the paid year in `region` and lists every finding of the run.
async fn screen_month(
    channel: Channel,
    region: RegionCode,
    month: i32,
) -> anyhow::Result<MonthScreened> {
    let mut client =
        SupervisionServiceClient::new(channel).max_decoding_message_size(super::MESSAGE_LIMIT);
    let screened = client
        .screen_cases(supervision::ScreenCasesRequest {
            request_id: format!("demo-screen-{region}-{month}"),
            region_code: region.to_string(),
            year: YEAR,
            month,
        })
        .await?
        .into_inner();
    let mut findings = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_findings(supervision::ListFindingsRequest {
                region_code: region.to_string(),
                page_size: 1_000,
                page_token: page_token.clone(),
                period: Some(common::YearMonth { year: YEAR, month }),
                ..Default::default()
            })
            .await?
            .into_inner();
        findings.extend(page.findings);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(MonthScreened {
        cases: u64::from(screened.cases),
        findings,
    })
}

/// Screens every month of the year in `region` (and the regions inside it) and counts the
/// findings of each rule the region runs. The year's indicators are read meanwhile: they read
/// only the ledger, which screening does not change.
pub async fn screen(channel: Channel, region: RegionCode) -> anyhow::Result<Screening> {
    let indicators = tokio::spawn(indicators(channel.clone(), region));
    let mut client = SupervisionServiceClient::new(channel.clone())
        .max_decoding_message_size(super::MESSAGE_LIMIT);
    let mut rules: BTreeMap<String, RuleFindings> = BTreeMap::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_rules(supervision::ListRulesRequest {
                region_code: region.to_string(),
                page_size: 100,
                page_token: page_token.clone(),
                year: YEAR,
            })
            .await?
            .into_inner();
        for rule in page.rules.into_iter().filter(|r| r.enabled) {
            rules.insert(
                rule.rule_id.clone(),
                RuleFindings {
                    number: rule.number,
                    rule_id: rule.rule_id,
                    name: rule.name,
                    name_zh: rule.name_zh,
                    level: level_word(rule.level),
                    findings: 0,
                    // Zero in fen, so a rule that found nothing prints 0.00 like the others.
                    amount: Money::from_fen(0),
                },
            );
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }

    // Counted in month order, whichever month finished first.
    let months: Vec<MonthScreened> = futures::stream::iter(1..=12)
        .map(|month| screen_month(channel.clone(), region, month))
        .buffered(MONTHS_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut cases = 0_u64;
    let mut found = Vec::new();
    for month in months {
        cases += month.cases;
        for finding in month.findings {
            let amount: Money = finding.amount.parse().map_err(|e| {
                anyhow::anyhow!(
                    "finding {} amount {:?}: {e}",
                    finding.finding_id,
                    finding.amount
                )
            })?;
            // A rule that fired is counted even if the listing no longer names it in force.
            let rule = rules
                .entry(finding.rule_id.clone())
                .or_insert_with(|| RuleFindings {
                    number: finding.rule_number,
                    rule_id: finding.rule_id.clone(),
                    name: finding.rule_id.clone(),
                    name_zh: String::new(),
                    level: level_word(finding.level),
                    findings: 0,
                    // Zero in fen, so a rule that found nothing prints 0.00 like the others.
                    amount: Money::from_fen(0),
                });
            rule.findings += 1;
            rule.amount += amount;
            found.push(super::score::finding_ref(finding)?);
        }
    }
    let mut rules: Vec<RuleFindings> = rules.into_values().collect();
    rules.sort_by_key(|r| r.number);
    Ok(Screening {
        cases,
        rules,
        indicators: indicators
            .await
            .map_err(|e| anyhow::anyhow!("reading the indicators failed: {e}"))??,
        found,
        scores: Default::default(),
    })
}
