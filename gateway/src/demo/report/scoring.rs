//! The screening scored against the simulator's ground truth: per rule, the seeded cases it is
//! meant to find, how many it found and how many of its findings name a seeded case, in a
//! table and a chart of recall and precision. The figures are those of `rules.csv`.

use kernel::Decimal;
use medpay_simulator::score::percent_text;

use super::chart::{Bar, BarChart, escape, grouped};
use super::{Report, chart_block, table};
use crate::demo::score;

impl Report<'_> {
    pub(super) fn scoring(&self) -> String {
        let screening = self.screening;
        let scores = &screening.scores;
        let mut html = String::from(
            "<h2>Screening against the ground truth 规则命中评估</h2><p>The simulator knows which \
             cases it made irregular. Each rule is scored on the cases meant for it: \
             <em>recall</em> 查全率 = seeded cases found / seeded, <em>precision</em> 查准率 = \
             findings naming a seeded case / findings. A finding on two records (split \
             admission, cost shifted to outpatient) counts when it names both. A dash: \
             nothing seeded for the rule, or nothing found.</p>",
        );
        let rows: Vec<Vec<String>> = scores
            .rules
            .iter()
            .map(|s| {
                vec![
                    s.rule.number().to_string(),
                    s.rule.slug().to_owned(),
                    s.rule.name_zh().to_owned(),
                    super::terms::rule_level(score::level(screening, s)),
                    grouped(s.seeded),
                    grouped(s.found),
                    grouped(s.findings),
                    grouped(s.true_positives),
                    grouped(s.false_positives()),
                    percent_text(s.recall()),
                    percent_text(s.precision()),
                ]
            })
            .collect();
        html.push_str(&table(
            &[
                "no 序号",
                "rule 规则",
                "名称",
                "level 级别",
                "seeded 植入",
                "found 命中",
                "findings 疑点",
                "true 真阳性",
                "false 假阳性",
                "recall 查全率",
                "precision 查准率",
            ],
            &rows,
            4,
            false,
        ));
        let unscreened = score::unscreened(scores);
        if !unscreened.is_empty() {
            html.push_str(&format!(
                "<p>Seeded without a rule that looks for it 无对应规则: {}.</p>",
                escape(&unscreened)
            ));
        }
        let percent =
            |value: Option<Decimal>| (value.unwrap_or(Decimal::ZERO), percent_text(value));
        let chart = BarChart {
            id: "scoring-by-rule",
            title: "Recall and precision per rule 各规则查全率与查准率 (%)".into(),
            series: vec!["recall 查全率".into(), "precision 查准率".into()],
            bars: scores
                .rules
                .iter()
                .map(|s| Bar {
                    label: format!("{} {} {}", s.rule.number(), s.rule.slug(), s.rule.name_zh()),
                    values: vec![percent(s.recall()), percent(s.precision())],
                })
                .collect(),
        };
        // A chart without a bar would announce nothing to draw.
        if !chart.bars.is_empty() {
            html.push_str(&chart_block(&chart));
        }
        html
    }
}

#[cfg(test)]
mod tests {
    use medpay_simulator::score::{CaseRef, FindingRef, RuleId, Seeded, Target};

    use super::*;
    use crate::demo::bureau::{RuleFindings, Screening};
    use crate::demo::summary::Roster;

    /// One split admission found by its pair and one pair nothing seeded: rule 1 has recall
    /// 100 % and precision 50 %; a phantom stay has no rule.
    fn screening() -> Screening {
        let mut seeded = Seeded::new(2025);
        seeded.add(Target {
            irregularity: Some(medpay_simulator::Irregularity::SplitAdmission),
            case: CaseRef::new("H1", "ZY2"),
            related: Some(CaseRef::new("H1", "ZY1")),
            rules: vec![RuleId::SplitAdmission],
        });
        let finding = |list: &str, other: &str| FindingRef {
            rule: 1,
            case: CaseRef::new("H1", list),
            other: Some(CaseRef::new("H1", other)),
        };
        let mut scores = seeded.score([finding("ZY2", "ZY1"), finding("ZY9", "ZY8")]);
        scores
            .unscreened
            .insert(medpay_simulator::Irregularity::PhantomStay, 3);
        Screening {
            cases: 10,
            rules: vec![RuleFindings {
                number: 1,
                rule_id: "split_admission".into(),
                name: "Split admission".into(),
                name_zh: "分解住院".into(),
                level: "strong",
                findings: 2,
                amount: kernel::Money::from_fen(0),
            }],
            indicators: Vec::new(),
            found: Vec::new(),
            scores,
        }
    }

    #[test]
    fn the_section_shows_each_rule_s_counts_and_percentages_in_table_and_chart() {
        let screening = screening();
        let report = Report {
            year: 2025,
            seed: 1,
            records: 10,
            roster: &Roster::default(),
            clearings: &[],
            screening: &screening,
            main_method: crate::demo::MainMethod::Dip,
        };
        let html = report.scoring();
        assert!(html.contains("<td>strong 强规则</td>"), "{html}");
        for cell in ["1", "2", "100.0%", "50.0%"] {
            assert!(
                html.contains(&format!(r#"<td class="n">{cell}</td>"#)),
                "{cell}: {html}"
            );
        }
        assert!(html.contains("phantom_stay 3"));
        let svg = &html[html.find("<svg").expect("a chart")..];
        assert!(
            svg.contains(r#"id="scoring-by-rule" data-bars="2""#),
            "{svg}"
        );
        assert!(svg.contains(r#"data-value="100""#) && svg.contains(r#"data-value="50""#));

        let csv = score::rules_csv(&screening);
        assert_eq!(
            csv.lines().nth(1),
            Some("1,split_admission,strong,1,1,2,1,1,100.0,50.0")
        );
        assert!(score::table(&screening).contains("phantom_stay 3"));
    }
}
