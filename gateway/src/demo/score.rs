//! The year's screening scored against the simulator's ground truth: the seeded cases are
//! gathered while the bureau looks at the years (the demo's one pass over the simulated cases,
//! every year in generation order), every finding of the year is the screening's listing of it
//! through `ListFindings`, and `medpay_simulator::score` counts per rule what was seeded, found and
//! flagged (the matching is documented there). Printed after the findings and written as
//! `rules.csv`.

use std::fmt::Write as _;

use medpay_proto::supervision::v1 as supervision;
use medpay_simulator::Irregularity;
use medpay_simulator::score::{CaseRef, FindingRef, RuleScore, Scores, Seeded, percent_text};

use super::YEAR;
use super::bureau::Screening;

/// A finding as the scoring matches it with the seeded cases.
pub fn finding_ref(finding: supervision::Finding) -> anyhow::Result<FindingRef> {
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
    Ok(FindingRef {
        rule,
        case: CaseRef {
            institution: finding.hospital_code,
            list_id: finding.list_id,
        },
        other,
    })
}

/// Scores the year's findings, as the screening listed them, against the simulation's ground
/// truth, `seeded`.
pub fn score(seeded: &Seeded, findings: Vec<FindingRef>) -> Scores {
    let scores = seeded.score(findings);
    eprintln!(
        "scoring: {} seeded cases against the findings",
        seeded.targets().len()
    );
    scores
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
