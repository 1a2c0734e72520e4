//! The year's screening scored against the simulator's ground truth: the seeded cases are
//! gathered while the bureau looks at the years (the demo's one pass over the simulated cases,
//! every year in generation order), every finding of the year is read back through
//! `ListFindings`, and `medpay_simulator::score` counts per rule what was seeded, found and
//! flagged (the matching is documented there). Printed after the findings and written as
//! `rules.csv`.

use std::fmt::Write as _;

use super::Channel;
use kernel::RegionCode;
use medpay_proto::common::v1 as common;
use medpay_proto::supervision::v1 as supervision;
use medpay_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use medpay_simulator::Irregularity;
use medpay_simulator::score::{CaseRef, FindingRef, RuleScore, Scores, Seeded, percent_text};

use super::YEAR;
use super::bureau::Screening;

/// Reads every finding of the latest screening run of each month of the year in `region`.
async fn findings(channel: Channel, region: RegionCode) -> anyhow::Result<Vec<FindingRef>> {
    let mut client =
        SupervisionServiceClient::new(channel).max_decoding_message_size(super::MESSAGE_LIMIT);
    let mut findings = Vec::new();
    for month in 1..=12 {
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
            for finding in page.findings {
                let rule = u8::try_from(finding.rule_number).map_err(|_| {
                    anyhow::anyhow!(
                        "finding {} has rule number {}",
                        finding.finding_id,
                        finding.rule_number
                    )
                })?;
                let other = (!finding.other_list_id.is_empty()).then_some(CaseRef {
                    institution: finding.other_hospital_code,
                    list_id: finding.other_list_id,
                });
                findings.push(FindingRef {
                    rule,
                    case: CaseRef {
                        institution: finding.hospital_code,
                        list_id: finding.list_id,
                    },
                    other,
                });
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    Ok(findings)
}

/// Scores the year's findings in `region` against the simulation's ground truth, `seeded`.
pub async fn score(
    seeded: &Seeded,
    channel: Channel,
    region: RegionCode,
) -> anyhow::Result<Scores> {
    let findings = findings(channel, region).await?;
    let scores = seeded.score(findings);
    eprintln!(
        "scoring: {} seeded cases against the findings",
        seeded.targets().len()
    );
    Ok(scores)
}

/// The level of the rule in force, as the screening listed it, else the catalogue's default.
pub fn level(screening: &Screening, score: &RuleScore) -> &'static str {
    let number = u32::from(score.rule.number());
    screening
        .rules
        .iter()
        .find(|r| r.number == number)
        .map_or_else(|| score.rule.default_level().as_str(), |r| r.level)
}

fn irregularity_word(irregularity: Irregularity) -> &'static str {
    match irregularity {
        Irregularity::SplitAdmission => "split_admission",
        Irregularity::Upcoding => "upcoding",
        Irregularity::DuplicateCharge => "duplicate_charge",
        Irregularity::UnbundledCharge => "unbundled_charge",
        Irregularity::BedBlocking => "bed_blocking",
        Irregularity::CostShiftedToOutpatient => "cost_shifted_to_outpatient",
        Irregularity::PhantomStay => "phantom_stay",
    }
}

/// The irregularities no rule looks for, as one sentence (empty when there are none).
pub fn unscreened(scores: &Scores) -> String {
    scores
        .unscreened
        .iter()
        .map(|(irregularity, count)| format!("{} {count}", irregularity_word(*irregularity)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table printed after the findings: a line per rule with a seeded case or a finding.
pub fn table(screening: &Screening) -> String {
    let scores = &screening.scores;
    let mut out = format!(
        "\nscored against the ground truth\n{:>3} {:<28} {:<8} {:>7} {:>7} {:>8} {:>7} {:>7} {:>8} {:>9}\n",
        "no",
        "rule",
        "level",
        "seeded",
        "found",
        "findings",
        "true",
        "false",
        "recall",
        "precision"
    );
    for s in &scores.rules {
        let _ = writeln!(
            out,
            "{:>3} {:<28} {:<8} {:>7} {:>7} {:>8} {:>7} {:>7} {:>8} {:>9}",
            s.rule.number(),
            s.rule.slug(),
            level(screening, s),
            s.seeded,
            s.found,
            s.findings,
            s.true_positives,
            s.false_positives(),
            percent_text(s.recall()),
            percent_text(s.precision())
        );
    }
    let unscreened = unscreened(scores);
    if !unscreened.is_empty() {
        let _ = writeln!(out, "seeded without a rule that looks for it: {unscreened}");
    }
    let _ = writeln!(
        out,
        "seeded but discharged outside {YEAR} (not screened with it): {}",
        scores.outside_year
    );
    out
}

const RULES_HEADER: &str = "rule,rule_id,level,seeded,found,findings,true_positives,false_positives,recall_percent,precision_percent";

/// `rules.csv`: a line per scored rule; a percentage is empty where it is undefined (nothing
/// seeded, nothing found).
pub fn rules_csv(screening: &Screening) -> String {
    let mut csv = format!("{RULES_HEADER}\n");
    let cell =
        |value: Option<kernel::Decimal>| value.map(|v| format!("{v:.1}")).unwrap_or_default();
    for s in &screening.scores.rules {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{}",
            s.rule.number(),
            s.rule.slug(),
            level(screening, s),
            s.seeded,
            s.found,
            s.findings,
            s.true_positives,
            s.false_positives(),
            cell(s.recall()),
            cell(s.precision())
        );
    }
    csv
}
