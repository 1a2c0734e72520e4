use std::collections::BTreeMap;

use kernel::{Decimal, FundType, Money, Points, RegionCode};

use super::chart::{Bar, BarChart, PLOT_WIDTH, escape, grouped};
use super::{Report, html};
use crate::demo::MainMethod;
use crate::demo::bureau::{HospitalIndicators, RuleFindings, Screening};
use crate::demo::summary::{ClearingSummary, HospitalTotals, ModeTotals, Roster, RosterEntry};

const HOSTILE: &str = r#"<script>alert("x")</script> & 'Co' <img src=x onerror=alert(1)>"#;

fn yuan(text: &str) -> Money {
    text.parse().expect("money")
}

fn hospital(code: &str, level: &str, tier: &str, entitlement: &str) -> HospitalTotals {
    HospitalTotals {
        hospital: code.to_owned(),
        name: HOSTILE.to_owned(),
        level: level.to_owned(),
        region: Some("460100".parse().expect("region")),
        cases: 12,
        points: "1200.5".parse().expect("points"),
        points_fund_part: yuan(entitlement),
        money_fund_part: Money::ZERO,
        fund_entitlement: yuan(entitlement),
        sharing_standard: yuan(entitlement),
        sharing_actual: yuan("1000.00"),
        sharing_tier: tier.to_owned(),
        sharing_adjustment: yuan("-3.50"),
        final_amount: yuan(entitlement),
        prepaid: yuan("900.00"),
        balance: yuan(entitlement) - yuan("900.00"),
        modes: vec![
            (
                "drg".to_owned(),
                ModeTotals {
                    cases: 10,
                    points: "1200.5".parse().expect("points"),
                    amount: Money::ZERO,
                    fund_part: Money::ZERO,
                },
            ),
            (
                "day_surgery".to_owned(),
                ModeTotals {
                    cases: 2,
                    points: Points::ZERO,
                    amount: yuan("400.00"),
                    fund_part: yuan("300.00"),
                },
            ),
        ],
    }
}

fn clearing() -> ClearingSummary {
    ClearingSummary {
        region: "460000".parse().expect("region"),
        fund: FundType::Employee,
        run_id: "run-1".into(),
        point_value: "1.2345".parse().expect("decimal"),
        budget_point_value: Some("1.3000".parse().expect("decimal")),
        points_budget: Some(yuan("5000.00")),
        reimbursement_ratio: Some("0.75".parse().expect("decimal")),
        distributable_budget: yuan("5000.00"),
        total_entitlements: yuan("3500.00"),
        special_cases: Money::ZERO,
        residue: yuan("1500.00"),
        identity_holds: true,
        hospitals: vec![
            hospital("H1", "3A", "surplus_retained", "2500.00"),
            hospital("H2", "community", "overspend_band_1", "1000.00"),
        ],
    }
}

fn roster() -> Roster {
    let region: RegionCode = "460100".parse().expect("region");
    Roster {
        institutions: BTreeMap::from([(
            "H1".to_owned(),
            RosterEntry {
                region,
                name: HOSTILE.to_owned(),
                level: "3A",
            },
        )]),
        region_names: BTreeMap::from([("460100".to_owned(), "海口市".to_owned())]),
    }
}

fn screening() -> Screening {
    Screening {
        cases: 20,
        rules: vec![RuleFindings {
            number: 1,
            rule_id: "SPLIT_ADMISSION".into(),
            name: HOSTILE.into(),
            name_zh: "分解住院".into(),
            level: "strong",
            findings: 3,
            amount: yuan("123.45"),
        }],
        indicators: vec![HospitalIndicators {
            hospital: "H1".into(),
            cmi: Some("1.3400".parse().expect("cmi")),
            average_length_of_stay: Some("6.5000".parse().expect("alos")),
            mean_cost: Some("24800.00".parse().expect("mean cost")),
            readmission_rate: None,
        }],
        found: Vec::new(),
        scores: Default::default(),
    }
}

fn page() -> String {
    html(&Report {
        year: 2025,
        seed: 7,
        records: 20,
        roster: &roster(),
        main_method: MainMethod::Dip,
        clearings: &[clearing()],
        screening: &screening(),
    })
}

/// The attribute `name` of every `<rect class="bar…">` of `svg`, in order.
fn bar_attribute(svg: &str, name: &str) -> Vec<Decimal> {
    svg.split(r#"<rect class="bar"#)
        .skip(1)
        .map(|rest| {
            let start = rest.find(&format!(r#" {name}=""#)).expect("attribute") + name.len() + 3;
            let end = rest[start..].find('"').expect("quote") + start;
            rest[start..end].parse().expect("decimal")
        })
        .collect()
}

#[test]
fn text_from_the_input_is_escaped_everywhere_it_lands() {
    let page = page();
    assert!(!page.contains("<script>alert"), "raw script tag inserted");
    assert!(!page.contains("<img src=x"), "raw img tag inserted");
    assert!(page.contains(&escape(HOSTILE)));
    assert!(
        escape(HOSTILE)
            .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;")
    );
    // The page's own scripts are the only ones: the early recorder and the check.
    assert_eq!(page.matches("<script>").count(), 2);
}

#[test]
fn bars_are_as_long_as_their_values_say() {
    let values = ["12.50", "50.00", "3.75", "0"];
    let chart = BarChart {
        id: "test",
        title: HOSTILE.into(),
        series: vec!["only".into()],
        bars: values
            .iter()
            .map(|v| Bar {
                label: format!("label {v}"),
                values: vec![(v.parse().expect("decimal"), (*v).to_owned())],
            })
            .collect(),
    };
    let svg = chart.svg();
    let widths = bar_attribute(&svg, "width");
    assert_eq!(widths.len(), values.len());
    let values: Vec<Decimal> = values.iter().map(|v| v.parse().expect("dec")).collect();
    let largest = values.iter().copied().max().expect("values");
    let longest = widths.iter().copied().max().expect("widths");
    assert_eq!(longest, PLOT_WIDTH, "the largest value fills the plot");
    for (width, value) in widths.iter().zip(&values) {
        // width / longest = value / largest, to the hundredth of a pixel the lengths keep.
        let expected = *value * longest / largest;
        assert!(
            (*width - expected).abs() <= Decimal::new(1, 2),
            "{width} for {value}"
        );
    }
    assert!(svg.contains(r#"data-bars="4""#));
    assert!(!svg.contains("<script>"));
}

#[test]
fn negative_values_draw_left_of_the_zero_line_and_positive_right() {
    let chart = BarChart {
        id: "signs",
        title: "signs".into(),
        series: vec!["one".into(), "two".into()],
        bars: vec![Bar {
            label: "both".into(),
            values: vec![
                ("-30".parse().expect("dec"), "-30".into()),
                ("90".parse().expect("dec"), "90".into()),
            ],
        }],
    };
    let svg = chart.svg();
    let xs = bar_attribute(&svg, "x");
    let widths = bar_attribute(&svg, "width");
    // The span is 120: the negative bar ends where the positive one starts.
    assert_eq!(xs[0] + widths[0], xs[1]);
    assert_eq!(widths[0] * Decimal::from(3), widths[1]);
    assert_eq!(widths[0] + widths[1], PLOT_WIDTH);
}

#[test]
fn figures_read_exactly_as_the_summary_prints_them() {
    assert_eq!(grouped(yuan("-1234567.80")), "-1,234,567.80");
    assert_eq!(grouped(yuan("999.00")), "999.00");
    assert_eq!(grouped(1_000_u64), "1,000");
    let page = page();
    let c = clearing();
    assert!(page.contains(&format!(">{}<", grouped(c.point_value))));
    assert!(page.contains(&format!(">{}<", grouped(c.total_entitlements))));
    assert!(page.contains("海口市"));
}

#[test]
fn every_chart_of_the_page_carries_as_many_bars_as_it_announces() {
    let page = page();
    let charts: Vec<&str> = page.split("<svg class=\"chart\"").skip(1).collect();
    // Nine before the indicators section, whose hospital has a mean cost and a CMI.
    assert_eq!(charts.len(), 11, "every section's charts");
    for chart in charts {
        let svg = &chart[..chart.find("</svg>").expect("closed")];
        let announced: usize = svg
            .split("data-bars=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("data-bars")
            .parse()
            .expect("count");
        assert!(announced > 0, "{svg}");
        assert_eq!(svg.matches(r#"<rect class="bar"#).count(), announced);
    }
}

#[test]
fn paid_by_mode_adds_up_to_what_the_statements_pay() {
    let c = clearing();
    let paid = super::figures::paid_by_mode(&c);
    let total: Money = paid.values().copied().sum();
    let points: Money = c.hospitals.iter().map(|h| h.points_fund_part).sum();
    let money_modes: Money = c
        .hospitals
        .iter()
        .flat_map(|h| &h.modes)
        .filter(|(_, line)| line.points.value().is_zero())
        .map(|(_, line)| line.fund_part)
        .sum();
    assert_eq!(total, points + money_modes);
    assert!(!paid.contains_key("drg"), "points modes are paid together");
}

#[test]
fn the_indicators_section_shows_each_hospital_and_leaves_unsupported_figures_blank() {
    let page = page();
    assert!(page.contains("<h2>Monitoring indicators 监测指标</h2>"));
    assert!(page.contains(r#"<td class="n">1.3400</td><td class="n">6.5000</td><td class="n">24,800.00</td><td class="n">–</td>"#));
    assert!(page.contains(r#"<svg class="chart" id="indicators-mean-cost" data-bars="1""#));
    assert!(page.contains(r#"<svg class="chart" id="indicators-cmi" data-bars="1""#));
}
