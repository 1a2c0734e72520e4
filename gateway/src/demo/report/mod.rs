//! `report.html`: the demo's year for a bureau analyst in one self-contained file. Inline CSS,
//! charts drawn as inline SVG here, and a few lines of inline script that only check the page:
//! they count each chart's drawn bars into `#render-check` and copy any script error or
//! `console.error` into `#script-errors`, so a headless browser can tell the page rendered.
//! Every figure comes from the clearing summaries the printed table reads; every text inserted
//! is escaped (institution names come from the registrations).

mod chart;
mod figures;
mod indicators;
mod scoring;
mod terms;

#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use kernel::{Decimal, Money};

use super::MainMethod;
use super::bureau::Screening;
use super::summary::{ClearingSummary, Roster};
use chart::{Bar, BarChart, escape, grouped};

/// What the report is made of.
pub struct Report<'a> {
    pub year: i32,
    pub seed: u64,
    /// Records simulated (stays, outpatient and pharmacy settlements).
    pub records: u64,
    pub roster: &'a Roster,
    /// The inpatient main method the year was paid on.
    pub main_method: MainMethod,
    pub clearings: &'a [ClearingSummary],
    pub screening: &'a Screening,
}

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em auto; max-width: 1000px; color: #1d2733; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 2em; border-bottom: 2px solid #d0d7de; padding-bottom: .2em; }
p.lead { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; margin: .8em 0 1.2em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f5f7; } td { overflow-wrap: anywhere; } td.n { text-align: right; white-space: nowrap; }
tr.total td { font-weight: 600; background: #fafbfc; }
svg.chart { display: block; margin: .6em 0 1.4em; max-width: 100%; height: auto; font-size: 11px; }
svg.chart text { fill: #1d2733; } svg.chart .axis { stroke: #8c959f; stroke-width: 1; }
.s0 { fill: #1f6feb; } .s1 { fill: #e36209; } .s2 { fill: #2da44e; } .s3 { fill: #8250df; }
.ok { color: #1a7f37; font-weight: 600; } .broken { color: #cf222e; font-weight: 600; }
details { margin: .5em 0 1em; } summary { cursor: pointer; color: #0969da; }
#render-check, #script-errors { color: #57606a; font-size: 11px; }
"#;

/// Runs before the page's body: errors are recorded from the first one on.
const EARLY_SCRIPT: &str = r#"
window.reportErrors = [];
function reportError(text) {
  window.reportErrors.push(String(text));
  var box = document.getElementById("script-errors");
  if (box) { box.textContent = window.reportErrors.join("\n"); box.dataset.count = window.reportErrors.length; }
}
window.addEventListener("error", function (e) { reportError(e.message || "error"); });
(function () {
  var original = console.error;
  console.error = function () { reportError(Array.prototype.join.call(arguments, " ")); original.apply(console, arguments); };
})();
"#;

/// Runs after the body: every chart's bars counted as drawn when they have a box.
const CHECK_SCRIPT: &str = r#"
(function () {
  var charts = document.querySelectorAll("svg.chart"), complete = 0;
  Array.prototype.forEach.call(charts, function (svg) {
    var drawn = 0;
    Array.prototype.forEach.call(svg.querySelectorAll("rect.bar"), function (bar) {
      if (bar.getBBox().height > 0) { drawn += 1; }
    });
    svg.dataset.drawn = drawn;
    if (drawn > 0 && drawn === Number(svg.dataset.bars)) { complete += 1; }
  });
  var mark = document.getElementById("render-check");
  mark.dataset.charts = charts.length;
  mark.dataset.complete = complete;
  mark.textContent = complete + " of " + charts.length + " charts drawn";
  var box = document.getElementById("script-errors");
  box.dataset.count = window.reportErrors.length;
  box.textContent = window.reportErrors.join("\n");
})();
"#;

/// A table whose first `text_columns` columns are text and the rest figures.
fn table(head: &[&str], rows: &[Vec<String>], text_columns: usize, total: bool) -> String {
    let mut html = String::from("<table><thead><tr>");
    for cell in head {
        let _ = write!(html, "<th>{}</th>", escape(cell));
    }
    html.push_str("</tr></thead><tbody>");
    let last = rows.len().saturating_sub(1);
    for (r, row) in rows.iter().enumerate() {
        html.push_str(if total && r == last {
            r#"<tr class="total">"#
        } else {
            "<tr>"
        });
        for (c, cell) in row.iter().enumerate() {
            let class = if c < text_columns {
                ""
            } else {
                r#" class="n""#
            };
            let _ = write!(html, "<td{class}>{}</td>", escape(cell));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

fn figure(value: Decimal) -> (Decimal, String) {
    (value, grouped(value))
}

fn money(value: Money) -> (Decimal, String) {
    (value.value(), grouped(value))
}

fn count(value: u64) -> (Decimal, String) {
    (Decimal::from(value), grouped(value))
}

/// A chart with a series per clearing (fund): `values` gives a clearing's categories by key,
/// in order, with their labels; a category a clearing lacks is drawn as zero.
fn per_fund_chart(
    id: &'static str,
    title: &str,
    clearings: &[ClearingSummary],
    values: impl Fn(&ClearingSummary) -> Vec<(String, String, (Decimal, String))>,
) -> BarChart {
    let per_clearing: Vec<_> = clearings.iter().map(&values).collect();
    let mut keys: Vec<(String, String)> = Vec::new();
    for (key, label, _) in per_clearing.iter().flatten() {
        if !keys.iter().any(|(k, _)| k == key) {
            keys.push((key.clone(), label.clone()));
        }
    }
    let bars = keys
        .into_iter()
        .map(|(key, label)| Bar {
            label,
            values: per_clearing
                .iter()
                .map(|lines| {
                    lines
                        .iter()
                        .find(|(k, _, _)| *k == key)
                        .map_or_else(|| count(0), |(_, _, v)| v.clone())
                })
                .collect(),
        })
        .collect();
    BarChart {
        id,
        title: title.to_owned(),
        series: clearings.iter().map(|c| terms::fund(c.fund)).collect(),
        bars,
    }
}

fn chart_block(chart: &BarChart) -> String {
    format!("<h3>{}</h3>{}", escape(&chart.title), chart.svg())
}

impl Report<'_> {
    fn region(&self, code: &str) -> String {
        match self.roster.region_names.get(code) {
            Some(name) => format!("{code} {name}"),
            None => code.to_owned(),
        }
    }

    fn head(&self) -> String {
        let holds = self.clearings.iter().all(|c| c.identity_holds);
        let province = self
            .clearings
            .first()
            .map(|c| self.region(&c.region.to_string()))
            .unwrap_or_default();
        format!(
            r#"<h1>Hainan {year}: a simulated year paid · 海南省{year}年医保支付（模拟）</h1><p class="lead">{records} records simulated (seed {seed}), {clearings} clearings of {province}; every clearing's identity (budget = entitlements + special cases + residue 可分配预算 = 应付 + 特例单议 + 结余) <span class="{class}">{verdict}</span>. Amounts in yuan 元, exactly as the statements and summary.csv give them.</p><p id="render-check" data-charts="0" data-complete="0">charts not checked (script off)</p><pre id="script-errors" data-count="0"></pre>"#,
            year = self.year,
            records = grouped(self.records),
            seed = self.seed,
            clearings = self.clearings.len(),
            province = escape(&province),
            class = if holds { "ok" } else { "broken" },
            verdict = if holds {
                "holds 成立"
            } else {
                "BROKEN 不成立"
            },
        )
    }

    /// The header of the main method's points: DIP scores or DRG points.
    fn points_word(&self) -> &'static str {
        match self.main_method {
            MainMethod::Dip => "DIP scores 总分值",
            MainMethod::Drg => "points 总点数",
        }
    }

    fn point_values(&self) -> String {
        let mut html = String::from("<h2>Point values 点值</h2>");
        let dip = self.main_method == MainMethod::Dip;
        if dip {
            html.push_str("<p>DIP, the main method 主要支付方式: the months are prepaid at the budget point value 预算点值 published from the stored history (cost per case score); the year is cleared at the settlement point value 结算点值 = fund amount for the points-paid modes / reimbursement ratio / Σ scores (可用于按分值付费的基金 ÷ 报销比例 ÷ 总分值).</p>");
        }
        let optional = |value: Option<String>| value.unwrap_or_else(|| "–".to_owned());
        let rows: Vec<Vec<String>> = self
            .clearings
            .iter()
            .map(|c| {
                vec![
                    self.region(&c.region.to_string()),
                    terms::fund(c.fund),
                    c.run_id.clone(),
                    optional(c.budget_point_value.map(grouped)),
                    grouped(c.point_value),
                    optional(c.points_budget.map(grouped)),
                    optional(c.reimbursement_ratio.map(grouped)),
                    grouped(c.points()),
                    grouped(c.distributable_budget),
                    grouped(c.total_entitlements),
                    grouped(c.special_cases),
                    grouped(c.residue),
                    if c.identity_holds {
                        "holds 成立"
                    } else {
                        "BROKEN"
                    }
                    .to_owned(),
                ]
            })
            .collect();
        html.push_str(&table(
            &[
                "clearing region 清算统筹区",
                "fund 基金",
                "run 清算批次",
                "budget point value 预算点值 (元/分)",
                "settlement point value 结算点值 (元/点)",
                "points budget 按点数分配的基金",
                "reimbursement ratio 报销比例",
                self.points_word(),
                "distributable budget 可分配预算",
                "entitlements 应付",
                "special cases 特例单议",
                "residue 结余",
                "identity 平衡",
            ],
            &rows,
            3,
            false,
        ));
        html.push_str(&chart_block(&BarChart {
            id: "point-values",
            title: "Point value per fund 各基金点值 (元/点)".into(),
            series: if dip {
                vec![
                    "budget point value 预算点值".into(),
                    "settlement point value 结算点值".into(),
                ]
            } else {
                vec!["point value 点值".into()]
            },
            bars: self
                .clearings
                .iter()
                .map(|c| Bar {
                    label: format!("{} {}", c.region, terms::fund(c.fund)),
                    values: if dip {
                        vec![
                            figure(c.budget_point_value.unwrap_or_default()),
                            figure(c.point_value),
                        ]
                    } else {
                        vec![figure(c.point_value)]
                    },
                })
                .collect(),
        }));

        // The printed table's lines: each clearing's hospitals by their pooling region.
        html.push_str("<h3>By pooling region 各统筹区</h3>");
        for c in self.clearings {
            let mut rows: Vec<Vec<String>> = c
                .by_region()
                .into_iter()
                .map(|(region, t)| {
                    vec![
                        self.region(&region),
                        grouped(t.hospitals),
                        grouped(t.cases),
                        grouped(t.points),
                        grouped(t.fund_entitlement),
                    ]
                })
                .collect();
            let all = figures::whole(c);
            rows.push(vec![
                "all 合计".into(),
                grouped(c.hospitals.len()),
                grouped(c.cases()),
                grouped(c.points()),
                grouped(all.entitlement),
            ]);
            let _ = write!(
                html,
                "<details><summary>{} · point value 点值 {}: every region 各统筹区明细</summary>",
                escape(&terms::fund(c.fund)),
                escape(&grouped(c.point_value))
            );
            html.push_str(&table(
                &[
                    "region 统筹区",
                    "hospitals 医院",
                    "cases 病例",
                    self.points_word(),
                    "paid 应付",
                ],
                &rows,
                1,
                true,
            ));
            html.push_str("</details>");
        }
        html.push_str(&chart_block(&per_fund_chart(
            "paid-by-region",
            "Paid by pooling region 各统筹区应付 (元)",
            self.clearings,
            |c| {
                c.by_region()
                    .into_iter()
                    .map(|(region, t)| {
                        (
                            region.clone(),
                            self.region(&region),
                            money(t.fund_entitlement),
                        )
                    })
                    .collect()
            },
        )));
        html
    }

    fn modes(&self) -> String {
        let mut html = String::from("<h2>Payments by mode 按支付方式</h2>");
        for c in self.clearings {
            let points_modes: Vec<String> = figures::points_modes(c)
                .iter()
                .map(|m| terms::mode(m))
                .collect();
            let _ = write!(
                html,
                "<p>{}: the points-paid modes ({}) are paid together from the points at the point value; every other mode is paid its standard or its claim.</p>",
                escape(&terms::fund(c.fund)),
                escape(&points_modes.join(", "))
            );
        }
        html.push_str(&chart_block(&per_fund_chart(
            "cases-by-mode",
            "Cases by payment mode 各支付方式病例数",
            self.clearings,
            |c| {
                c.cases_by_mode()
                    .into_iter()
                    .map(|(mode, cases)| (mode.to_owned(), terms::mode(mode), count(cases)))
                    .collect()
            },
        )));
        html.push_str(&chart_block(&per_fund_chart(
            "paid-by-mode",
            "Fund paid by payment mode 各支付方式基金支付 (元)",
            self.clearings,
            |c| {
                figures::paid_by_mode(c)
                    .into_iter()
                    .map(|(mode, paid)| (mode.clone(), terms::mode(&mode), money(paid)))
                    .collect()
            },
        )));
        html
    }

    fn levels(&self) -> String {
        let mut html = String::from("<h2>Payments by hospital level 按医院等级</h2>");
        for c in self.clearings {
            let mut rows: Vec<Vec<String>> = figures::by_level(c)
                .into_iter()
                .map(|(level, g)| {
                    vec![
                        terms::level(&level),
                        grouped(g.hospitals),
                        grouped(g.cases),
                        grouped(g.entitlement),
                    ]
                })
                .collect();
            let all = figures::whole(c);
            rows.push(vec![
                "all 合计".into(),
                grouped(all.hospitals),
                grouped(all.cases),
                grouped(all.entitlement),
            ]);
            let _ = write!(html, "<p>{}</p>", escape(&terms::fund(c.fund)));
            html.push_str(&table(
                &["level 等级", "hospitals 医院", "cases 病例", "paid 应付"],
                &rows,
                1,
                true,
            ));
        }
        html.push_str(&chart_block(&per_fund_chart(
            "paid-by-level",
            "Paid by hospital level 各等级医院应付 (元)",
            self.clearings,
            |c| {
                figures::by_level(c)
                    .into_iter()
                    .map(|(level, g)| (level.clone(), terms::level(&level), money(g.entitlement)))
                    .collect()
            },
        )));
        html
    }

    fn sharing(&self) -> String {
        let mut html = String::from(
            "<h2>Year-end sharing 结余留用与超支分担</h2><p>Each hospital's standard (Std, its assessed entitlement less deductions) against its actual fee-for-service claims (Act): a surplus is retained, an overspend shared by band from the adjustment reserve 调剂金.</p>",
        );
        for c in self.clearings {
            let rows: Vec<Vec<String>> = figures::by_tier(c)
                .into_iter()
                .map(|(tier, g)| {
                    vec![
                        terms::tier(&tier),
                        grouped(g.hospitals),
                        grouped(g.standard),
                        grouped(g.actual),
                        grouped(g.adjustment),
                    ]
                })
                .collect();
            let _ = write!(html, "<p>{}</p>", escape(&terms::fund(c.fund)));
            html.push_str(&table(
                &[
                    "tier 档次",
                    "hospitals 医院",
                    "standard Std 支付标准",
                    "actual Act 实际发生",
                    "shared from the reserve 调剂金分担",
                ],
                &rows,
                1,
                false,
            ));
        }
        html.push_str(&chart_block(&per_fund_chart(
            "sharing-tiers",
            "Hospitals per sharing tier 各档次医院数",
            self.clearings,
            |c| {
                figures::by_tier(c)
                    .into_iter()
                    .map(|(tier, g)| (tier.clone(), terms::tier(&tier), count(g.hospitals)))
                    .collect()
            },
        )));
        html.push_str(&chart_block(&per_fund_chart(
            "sharing-adjustments",
            "Shared from the reserve per tier 各档次调剂金分担 (元)",
            self.clearings,
            |c| {
                figures::by_tier(c)
                    .into_iter()
                    .map(|(tier, g)| (tier.clone(), terms::tier(&tier), money(g.adjustment)))
                    .collect()
            },
        )));
        for c in self.clearings {
            let rows: Vec<Vec<String>> = c
                .hospitals
                .iter()
                .map(|h| {
                    vec![
                        h.hospital.clone(),
                        h.name.clone(),
                        terms::level(&h.level),
                        terms::tier(&h.sharing_tier),
                        grouped(h.sharing_standard),
                        grouped(h.sharing_actual),
                        grouped(h.sharing_adjustment),
                        grouped(h.final_amount),
                    ]
                })
                .collect();
            let _ = write!(
                html,
                "<details><summary>Every hospital, {} 各医院明细</summary>",
                escape(&terms::fund(c.fund))
            );
            html.push_str(&table(
                &[
                    "code 编码",
                    "hospital 医院",
                    "level 等级",
                    "tier 档次",
                    "Std 支付标准",
                    "Act 实际发生",
                    "shared 调剂金分担",
                    "final 最终应付",
                ],
                &rows,
                4,
                false,
            ));
            html.push_str("</details>");
        }
        html
    }

    fn prepaid(&self) -> String {
        let mut html = String::from("<h2>Prepaid and cleared 月度预付与年终清算</h2>");
        let _ = write!(
            html,
            "<p>Twelve monthly prepayments at {} against the year-end final amounts: a positive balance is topped up to the hospitals, a negative one recovered.</p>",
            match self.main_method {
                MainMethod::Dip => "the DIP budget point value 预算点值",
                MainMethod::Drg => "a provisional point value 暂定点值",
            }
        );
        let rows: Vec<Vec<String>> = self
            .clearings
            .iter()
            .map(|c| {
                let all = figures::whole(c);
                vec![
                    terms::fund(c.fund),
                    grouped(all.prepaid),
                    grouped(all.final_amount),
                    grouped(all.balance),
                ]
            })
            .collect();
        html.push_str(&table(
            &[
                "fund 基金",
                "prepaid 已预付",
                "final amount 清算应付",
                "balance 清算差额",
            ],
            &rows,
            1,
            false,
        ));
        html.push_str(&chart_block(&BarChart {
            id: "prepaid-cleared",
            title: "Prepaid against cleared 预付与清算 (元)".into(),
            series: vec![
                "prepaid 已预付".into(),
                "final amount 清算应付".into(),
                "balance 清算差额".into(),
            ],
            bars: self
                .clearings
                .iter()
                .map(|c| {
                    let all = figures::whole(c);
                    Bar {
                        label: terms::fund(c.fund),
                        values: vec![
                            money(all.prepaid),
                            money(all.final_amount),
                            money(all.balance),
                        ],
                    }
                })
                .collect(),
        }));
        html
    }

    fn findings(&self) -> String {
        let s = self.screening;
        let mut html = format!(
            "<h2>Screening findings 智能审核疑点</h2><p>{} stays screened month by month by the rules in force, {} findings 疑点.</p>",
            grouped(s.cases),
            grouped(s.findings())
        );
        let rows: Vec<Vec<String>> = s
            .rules
            .iter()
            .map(|r| {
                vec![
                    r.number.to_string(),
                    r.rule_id.clone(),
                    r.name.clone(),
                    r.name_zh.clone(),
                    terms::rule_level(r.level),
                    grouped(r.findings),
                    grouped(r.amount),
                ]
            })
            .collect();
        html.push_str(&table(
            &[
                "no 序号",
                "rule 规则",
                "name",
                "名称",
                "level 级别",
                "findings 疑点",
                "amount 涉及金额",
            ],
            &rows,
            5,
            false,
        ));
        html.push_str(&chart_block(&BarChart {
            id: "findings-by-rule",
            title: "Findings per rule 各规则疑点数".into(),
            series: vec!["findings 疑点".into()],
            bars: s
                .rules
                .iter()
                .map(|r| Bar {
                    label: format!("{} {} {}", r.number, r.rule_id, r.name_zh),
                    values: vec![count(r.findings)],
                })
                .collect(),
        }));
        html
    }
}

/// The whole page.
pub fn html(report: &Report<'_>) -> String {
    let mut page = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>medpay demo: Hainan {} 海南医保支付报告</title><style>{STYLE}</style><script>{EARLY_SCRIPT}</script></head><body>"#,
        report.year
    );
    page.push_str(&report.head());
    page.push_str(&report.point_values());
    page.push_str(&report.modes());
    page.push_str(&report.levels());
    page.push_str(&report.sharing());
    page.push_str(&report.prepaid());
    page.push_str(&report.findings());
    page.push_str(&report.scoring());
    page.push_str(&report.indicators());
    let _ = write!(page, "<script>{CHECK_SCRIPT}</script></body></html>");
    page
}
